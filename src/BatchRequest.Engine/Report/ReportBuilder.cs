using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Journal;
using BatchRequest.Engine.Reporting;
using BatchRequest.Model.Results;

namespace BatchRequest.Engine.Report;

/// <summary>
/// Folds the lines of a journal, or the results of a batch, into what a report shows, one at a time: counts, a
/// latency histogram and a timeline of fixed size, capped tables, and one small state per record for its final
/// outcome across runs. Not thread-safe.
/// </summary>
public sealed class ReportBuilder
{
    /// <summary>Rows at most in each table of records; the rest are counted.</summary>
    public const int MaxRows = 50;

    /// <summary>The slowest records listed.</summary>
    public const int SlowestCount = 20;

    /// <summary>Runs listed; the rest are counted.</summary>
    public const int MaxRuns = 100;

    // A record's state in RecordOutcomes: its outcome (or none yet) above, its status code below.
    private const uint NoOutcome = 1;
    private const int StateShift = 16;
    private static readonly BatchStatus[] Listed = { BatchStatus.Failed, BatchStatus.OutcomeUnknown, BatchStatus.Throttled };

    private readonly RecordOutcomes _outcomes = new();
    private readonly Dictionary<BatchStatus, long> _finalByStatus = new();
    private readonly Dictionary<int, long> _finalByCode = new();
    private readonly Dictionary<BatchStatus, Dictionary<string, ReportRow>> _tables = Listed.ToDictionary(status => status, _ => new Dictionary<string, ReportRow>(StringComparer.Ordinal));
    private readonly PriorityQueue<ReportRow, TimeSpan> _slowest = new();
    private readonly LatencyHistogram _latency = new();
    private readonly Timeline _timeline = new();
    private readonly List<ReportRun> _runs = new();
    private readonly Dictionary<string, DateTimeOffset> _pausedUntil = new(StringComparer.OrdinalIgnoreCase);

    // The sends of the current run still waiting for their result: bounded by the throttle, not by the batch.
    private readonly Dictionary<string, JournalEntry> _open = new(StringComparer.Ordinal);
    private ReportRun? _run;
    private long _runCount;
    private long _records;
    private long _noOutcome;
    private long _results;
    private long _retries;
    private long _pauses;
    private TimeSpan _pausedTotal;
    private long _limitChanges;
    private int? _limitLowest;
    private int? _limitHighest;
    private DateTimeOffset? _resultsStart;
    private DateTimeOffset? _resultsEnd;

    /// <summary>Adds one line of a journal, in file order.</summary>
    public void Add(JournalEntry entry)
    {
        if (entry.Event == JournalEvent.Run)
        {
            EndRun();
            StartRun(entry.Time, entry.BatchId);
            return;
        }

        // A journal whose first line was lost still has a run.
        if (_run is null)
        {
            StartRun(entry.Time, null);
        }

        var run = _run!;
        if (entry.Time > run.End)
        {
            run.End = entry.Time;
        }

        _timeline.Begin(entry.Time);
        switch (entry.Event)
        {
            case JournalEvent.Sending when entry.Id is { } id:
                run.Sent++;
                _open[id] = entry;
                SetFinal(id, NoOutcome, null);
                break;
            case JournalEvent.Result when entry.Id is { } id && entry.Status is { } status:
                run.Add(status);
                if (!_open.Remove(id) && _outcomes.Contains(id))
                {
                    // A run's word on a record it did not send (skipped, unknown, not sent) counts in that run; the
                    // record keeps the outcome, or the missing one, an earlier run gave it, as a resume decides.
                    _results++;
                    break;
                }

                var row = Row(id, entry.Method, MaskUri(entry.Uri), entry.StatusCode, status, ErrorOf(status, entry.ErrorKind, entry.StatusCode), entry.Duration, entry.Line);
                Result(row, entry.Attempts ?? 0, entry.StartTime, entry.Duration, entry.Time);
                break;
            case JournalEvent.Retry:
                _timeline.Retry(entry.Time);
                break;
            case JournalEvent.Pause when entry.Host is { } host && entry.ResumeAt is { } resumeAt:
                Pause(host, entry.Time, resumeAt);
                break;
            case JournalEvent.Limit when entry.Host is { } host && entry.Limit is { } limit:
                _limitChanges++;
                var previous = entry.PreviousLimit ?? limit;
                _limitLowest = Math.Min(_limitLowest ?? int.MaxValue, Math.Min(previous, limit));
                _limitHighest = Math.Max(_limitHighest ?? 0, Math.Max(previous, limit));
                _timeline.Limit(host, entry.Time, previous, limit);
                break;
        }
    }

    /// <summary>Adds a result of Invoke-BatchRequest: the source when there is no journal.</summary>
    public void Add(BatchResult result)
    {
        var hasTime = result.Attempts > 0;
        if (hasTime)
        {
            _timeline.Begin(result.StartTime);
        }

        if (_run is null)
        {
            StartRun(hasTime ? result.StartTime : DateTimeOffset.MinValue, null);
        }

        var run = _run!;
        run.Sent++;
        run.Add(result.Outcome);
        var end = result.StartTime + result.Duration;
        if (hasTime)
        {
            run.Start = run.Start == DateTimeOffset.MinValue || result.StartTime < run.Start ? result.StartTime : run.Start;
            run.End = end > run.End ? end : run.End;
        }

        var row = Row(result.Id, result.Method, MaskUri(result.Uri), result.StatusCode, result.Outcome, ErrorOf(result.Outcome, result.Kind, result.StatusCode), hasTime ? result.Duration : null, run.Sent);
        Result(row, result.Attempts, hasTime ? result.StartTime : null, hasTime ? result.Duration : null, end);

        // Results carry no times of their retries: they are shown when the record ended.
        if (hasTime && result.Attempts > 1)
        {
            _timeline.Retry(end, result.Attempts - 1);
        }
    }

    /// <summary>Writes the report as one HTML file that references nothing outside itself.</summary>
    /// <param name="source">What the report was made from (a journal's file name), shown in its heading.</param>
    public void WriteHtml(TextWriter writer, string source, DateTimeOffset generated)
    {
        EndRun();
        ReportPage.Write(writer, Snapshot(source, generated));
    }

    /// <inheritdoc cref="WriteHtml(TextWriter, string, DateTimeOffset)"/>
    public void WriteHtml(string path, string source, DateTimeOffset generated)
    {
        using var writer = new StreamWriter(path, append: false, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        WriteHtml(writer, source, generated);
    }

    internal ReportData Snapshot(string source, DateTimeOffset generated)
    {
        var elapsed = _runs.Aggregate(TimeSpan.Zero, (sum, run) => sum + run.Duration);
        if (_runs.Count == 0 && _resultsStart is { } first && _resultsEnd is { } last)
        {
            elapsed = last - first;
        }

        return new ReportData
        {
            Source = source,
            Generated = generated,
            Records = _records,
            NoOutcome = _noOutcome,
            Results = _results,
            Retries = _retries,
            Elapsed = elapsed,
            ByStatus = _finalByStatus.OrderBy(pair => pair.Key).Select(pair => (pair.Key.ToString(), pair.Value)).ToList(),
            ByStatusCode = _finalByCode.OrderBy(pair => pair.Key).Select(pair => (pair.Key, pair.Value)).ToList(),
            P50 = _latency.Percentile(0.50),
            P95 = _latency.Percentile(0.95),
            P99 = _latency.Percentile(0.99),
            Latency = _latency.Bins(),
            Runs = _runs,
            RunCount = _runCount,
            Pauses = _pauses,
            PausedTotal = _pausedTotal,
            LimitChanges = _limitChanges,
            LimitLowest = _limitLowest,
            LimitHighest = _limitHighest,
            Timeline = _timeline.Points(),
            BucketWidth = _timeline.BucketWidth,
            LimitHosts = _timeline.LimitHosts().ToList(),
            Tables = Listed.Select(status => new ReportTable(
                status.ToString(),
                _tables[status].Values.OrderBy(row => row.Line).ToList(),
                _finalByStatus.TryGetValue(status, out var count) ? count : 0)).ToList(),
            Slowest = _slowest.UnorderedItems.Select(item => item.Element).OrderByDescending(row => row.Duration).ToList(),
        };
    }

    private void Result(ReportRow row, int attempts, DateTimeOffset? start, TimeSpan? duration, DateTimeOffset time)
    {
        _results++;
        _retries += Math.Max(0, attempts - 1);
        SetFinal(row.Id, ((uint)row.Status + 2) << StateShift | (uint)(row.StatusCode ?? 0), row);
        var end = start is { } begun && duration is { } took ? begun + took : time;
        _timeline.Completion(end, row.Status is not (BatchStatus.Succeeded or BatchStatus.Skipped));
        if (start is { } from && duration is { } length)
        {
            _resultsStart = _resultsStart is { } first && first <= from ? first : from;
            _resultsEnd = _resultsEnd is { } last && last >= end ? last : end;
            _latency.Add(length);
            _timeline.InFlight(from, end);
            if (_slowest.Count < SlowestCount)
            {
                _slowest.Enqueue(row, length);
            }
            else if (_slowest.TryPeek(out _, out var fastest) && length > fastest)
            {
                _slowest.EnqueueDequeue(row, length);
            }
        }
    }

    // Moves a record from its previous final state to the new one: in the counts and in the tables.
    private void SetFinal(string id, uint state, ReportRow? row)
    {
        var previous = _outcomes.Swap(id, state);
        if (previous == 0)
        {
            _records++;
        }
        else
        {
            Count(previous, -1);
            foreach (var table in _tables.Values)
            {
                table.Remove(id);
            }
        }

        Count(state, +1);
        if (row is not null && _tables.TryGetValue(row.Status, out var listed) && listed.Count < MaxRows)
        {
            listed[id] = row;
        }
    }

    private void Count(uint state, int delta)
    {
        if (state == NoOutcome)
        {
            // A send without a result counts as an unknown outcome, as a resumed run would decide it.
            _noOutcome += delta;
            Add(_finalByStatus, BatchStatus.OutcomeUnknown, delta);
            return;
        }

        Add(_finalByStatus, (BatchStatus)((state >> StateShift) - 2), delta);
        if ((state & 0xFFFF) is var code and > 0)
        {
            Add(_finalByCode, (int)code, delta);
        }
    }

    private static void Add<TKey>(Dictionary<TKey, long> counts, TKey key, int delta)
        where TKey : notnull
    {
        var count = (counts.TryGetValue(key, out var known) ? known : 0) + delta;
        if (count == 0)
        {
            counts.Remove(key);
        }
        else
        {
            counts[key] = count;
        }
    }

    private void Pause(string host, DateTimeOffset time, DateTimeOffset resumeAt)
    {
        var pausedUntil = _pausedUntil.TryGetValue(host, out var until) ? until : DateTimeOffset.MinValue;
        if (time >= pausedUntil)
        {
            _pauses++;
        }

        // Extensions of a pause that is still on add only the time beyond it.
        var from = time > pausedUntil ? time : pausedUntil;
        if (resumeAt > from)
        {
            _timeline.Paused(from, resumeAt);
            _pausedTotal += resumeAt - from;
            _pausedUntil[host] = resumeAt;
        }
    }

    private void StartRun(DateTimeOffset time, string? batchId)
    {
        _runCount++;
        _run = new ReportRun((int)_runCount, time, batchId);
        if (_runs.Count < MaxRuns)
        {
            _runs.Add(_run);
        }

        if (time != DateTimeOffset.MinValue)
        {
            _timeline.Begin(time);
        }
    }

    // The sends the run left open were in flight when it stopped: unknown outcomes, unless a later run resends them.
    private void EndRun()
    {
        if (_run is not { } run)
        {
            return;
        }

        run.InFlightAtEnd += _open.Count;
        foreach (var (id, sending) in _open)
        {
            _timeline.InFlight(sending.Time, run.End);
            var listed = _tables[BatchStatus.OutcomeUnknown];
            if (listed.Count < MaxRows)
            {
                listed[id] = Row(id, sending.Method, MaskUri(sending.Uri), null, BatchStatus.OutcomeUnknown, Text.Format(Resources.Messages.ReportNoOutcome, run.Number), null, sending.Line);
            }
        }

        _open.Clear();
    }

    private ReportRow Row(string id, string? method, string uri, int? statusCode, BatchStatus status, string error, TimeSpan? duration, long line) =>
        new(id, method ?? string.Empty, uri, statusCode, status, error, duration, _run?.Number ?? 1, line);

    private static string ErrorOf(BatchStatus status, ErrorKind? kind, int? statusCode) => kind switch
    {
        null or ErrorKind.None => status is BatchStatus.Succeeded or BatchStatus.Skipped ? string.Empty : status.ToString(),
        ErrorKind.HttpStatus when statusCode is { } code => Text.Format(Resources.Messages.ReportHttpStatus, code),
        { } other => other.ToString(),
    };

    // Journals keep URIs masked already; masking again also covers journals of older versions and piped results.
    private static string MaskUri(string? text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) ? RedactedUri.Of(uri) : RedactedUri.Mask;
}
