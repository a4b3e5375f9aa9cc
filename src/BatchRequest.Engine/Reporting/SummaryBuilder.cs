using System;
using System.Collections.Generic;
using BatchRequest.Engine.Admission;
using BatchRequest.Model.Reporting;
using BatchRequest.Model.Results;

namespace BatchRequest.Engine.Reporting;

/// <summary>Accumulates results into a <see cref="BatchSummary"/>; not thread-safe.</summary>
public sealed class SummaryBuilder
{
    // In the order of their values, as the counts are listed.
    private static readonly BatchStatus[] Statuses = Enum.GetValues<BatchStatus>();

    private readonly Dictionary<BatchStatus, long> _byStatus = new();
    private readonly Dictionary<int, long> _byStatusCode = new();

    // A histogram, not a list: the summary of a million records costs what the summary of ten does.
    private readonly LatencyHistogram _durations = new();
    private long _retries;
    private DateTimeOffset? _firstStart;
    private DateTimeOffset? _lastEnd;

    public void Add(BatchResult result)
    {
        _byStatus[result.Outcome] = _byStatus.TryGetValue(result.Outcome, out var count) ? count + 1 : 1;
        if (result.StatusCode is { } code)
        {
            _byStatusCode[code] = _byStatusCode.TryGetValue(code, out var codeCount) ? codeCount + 1 : 1;
        }

        _retries += Math.Max(0, result.Attempts - 1);
        if (result.Attempts == 0)
        {
            return;
        }

        _durations.Add(result.Duration);
        var end = result.StartTime + result.Duration;
        _firstStart = _firstStart is { } first && first <= result.StartTime ? first : result.StartTime;
        _lastEnd = _lastEnd is { } last && last >= end ? last : end;
    }

    /// <param name="limit">The concurrency limit the batch ran under, when one was in force.</param>
    public BatchSummary Build(LimitReport? limit = null, QuotaReport? quota = null)
    {
        var elapsed = _firstStart is { } first && _lastEnd is { } last ? last - first : TimeSpan.Zero;
        var total = 0L;
        foreach (var count in _byStatus.Values)
        {
            total += count;
        }

        return new BatchSummary
        {
            Total = total,
            Succeeded = CountOf(BatchStatus.Succeeded),
            Failed = CountOf(BatchStatus.Failed),
            OutcomeUnknown = CountOf(BatchStatus.OutcomeUnknown),
            Throttled = CountOf(BatchStatus.Throttled),
            NotSent = CountOf(BatchStatus.NotSent),
            Canceled = CountOf(BatchStatus.Canceled),
            Skipped = CountOf(BatchStatus.Skipped),
            Retries = _retries,
            ByStatus = CountsByStatus(),
            ByStatusCode = CountsByStatusCode(),
            Elapsed = elapsed,
            RecordsPerSecond = elapsed > TimeSpan.Zero ? total / elapsed.TotalSeconds : 0,
            LatencyP50 = _durations.Percentile(0.50),
            LatencyP95 = _durations.Percentile(0.95),
            LatencyP99 = _durations.Percentile(0.99),
            ConcurrencyLimit = limit?.Current ?? 0,
            ConcurrencyLimitLowest = limit?.Lowest ?? 0,
            ConcurrencyLimitHighest = limit?.Highest ?? 0,
            SharedQuota = quota?.Name,
            SharedSlotsHighest = quota?.SlotsHighest ?? 0,
            SharedQuotaWait = quota?.Waited ?? TimeSpan.Zero,
            SharedQuotaRoundTrips = quota?.RoundTrips ?? 0,
        };
    }

    // Loops, not LINQ's OrderBy: its code for these key types is compiled at first use, which in a fresh process
    // made the summary at the end of a batch take 10 ms.
    private Dictionary<string, long> CountsByStatus()
    {
        var counts = new Dictionary<string, long>(_byStatus.Count);
        foreach (var status in Statuses)
        {
            if (_byStatus.TryGetValue(status, out var count))
            {
                counts.Add(status.ToString(), count);
            }
        }

        return counts;
    }

    private Dictionary<int, long> CountsByStatusCode()
    {
        var codes = new int[_byStatusCode.Count];
        _byStatusCode.Keys.CopyTo(codes, 0);
        Array.Sort(codes);
        var counts = new Dictionary<int, long>(codes.Length);
        foreach (var code in codes)
        {
            counts.Add(code, _byStatusCode[code]);
        }

        return counts;
    }

    private long CountOf(BatchStatus status) => _byStatus.TryGetValue(status, out var count) ? count : 0;
}
