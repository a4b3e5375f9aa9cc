using System;
using System.Collections.Generic;
using BatchRequest.Model.Results;

namespace BatchRequest.Engine.Report;

/// <summary>Everything a report page shows, gathered by <see cref="ReportBuilder"/>.</summary>
internal sealed class ReportData
{
    public required string Source { get; init; }

    public required DateTimeOffset Generated { get; init; }

    /// <summary>Distinct records the source holds.</summary>
    public required long Records { get; init; }

    /// <summary>Records sent whose journal holds no outcome (in flight when their run stopped).</summary>
    public required long NoOutcome { get; init; }

    /// <summary>Outcomes recorded, across all runs.</summary>
    public required long Results { get; init; }

    public required long Retries { get; init; }

    /// <summary>The time the runs ran, added up; gaps between runs not included.</summary>
    public required TimeSpan Elapsed { get; init; }

    /// <summary>Each record's final outcome, by status.</summary>
    public required IReadOnlyList<(string Status, long Count)> ByStatus { get; init; }

    /// <summary>Each record's final outcome, by HTTP status code.</summary>
    public required IReadOnlyList<(int Code, long Count)> ByStatusCode { get; init; }

    public required TimeSpan P50 { get; init; }

    public required TimeSpan P95 { get; init; }

    public required TimeSpan P99 { get; init; }

    public required IReadOnlyList<(TimeSpan From, TimeSpan To, long Count)> Latency { get; init; }

    /// <summary>The first <see cref="ReportBuilder.MaxRuns"/> runs.</summary>
    public required IReadOnlyList<ReportRun> Runs { get; init; }

    public required long RunCount { get; init; }

    /// <summary>Retry-After pauses of a host that began while the host was not paused.</summary>
    public required long Pauses { get; init; }

    /// <summary>Host time spent paused, added up over hosts.</summary>
    public required TimeSpan PausedTotal { get; init; }

    public required long LimitChanges { get; init; }

    public required int? LimitLowest { get; init; }

    public required int? LimitHighest { get; init; }

    public required IReadOnlyList<TimelinePoint> Timeline { get; init; }

    /// <summary>The width of each timeline bucket.</summary>
    public required TimeSpan BucketWidth { get; init; }

    public required IReadOnlyList<string> LimitHosts { get; init; }

    /// <summary>The records whose final outcome is Failed, OutcomeUnknown or Throttled.</summary>
    public required IReadOnlyList<ReportTable> Tables { get; init; }

    public required IReadOnlyList<ReportRow> Slowest { get; init; }

    public double RecordsPerSecond => Elapsed > TimeSpan.Zero ? Results / Elapsed.TotalSeconds : 0;
}

/// <summary>One run of a batch: a first run, or a resume.</summary>
internal sealed class ReportRun
{
    private readonly Dictionary<BatchStatus, long> _byStatus = new();

    public ReportRun(int number, DateTimeOffset start, string? batchId)
    {
        Number = number;
        Start = start;
        End = start;
        BatchId = batchId;
    }

    public int Number { get; }

    public string? BatchId { get; }

    public DateTimeOffset Start { get; set; }

    /// <summary>The time of its last line.</summary>
    public DateTimeOffset End { get; set; }

    public TimeSpan Duration => Start == DateTimeOffset.MinValue ? TimeSpan.Zero : End - Start;

    /// <summary>Records whose first attempt it started.</summary>
    public long Sent { get; set; }

    /// <summary>Sends with no outcome when it stopped: in flight at a kill.</summary>
    public long InFlightAtEnd { get; set; }

    public IReadOnlyDictionary<BatchStatus, long> ByStatus => _byStatus;

    public void Add(BatchStatus status) => _byStatus[status] = _byStatus.TryGetValue(status, out var count) ? count + 1 : 1;
}

/// <summary>One record in a table of the report; the URI masked.</summary>
/// <param name="Line">Its place in the source, for the order of the tables.</param>
internal sealed record ReportRow(
    string Id,
    string Method,
    string Uri,
    int? StatusCode,
    BatchStatus Status,
    string Error,
    TimeSpan? Duration,
    int Run,
    long Line);

/// <summary>The first rows of the records of one final status, and how many there are in all.</summary>
internal sealed record ReportTable(string Status, IReadOnlyList<ReportRow> Rows, long Total);
