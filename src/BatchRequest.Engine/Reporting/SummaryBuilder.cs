using System;
using System.Collections.Generic;
using System.Linq;
using BatchRequest.Engine.Admission;
using BatchRequest.Model.Reporting;
using BatchRequest.Model.Results;

namespace BatchRequest.Engine.Reporting;

/// <summary>Accumulates results into a <see cref="BatchSummary"/>; not thread-safe.</summary>
public sealed class SummaryBuilder
{
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
        var total = _byStatus.Values.Sum();
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
            ByStatus = _byStatus.OrderBy(p => p.Key).ToDictionary(p => p.Key.ToString(), p => p.Value),
            ByStatusCode = _byStatusCode.OrderBy(p => p.Key).ToDictionary(p => p.Key, p => p.Value),
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

    private long CountOf(BatchStatus status) => _byStatus.TryGetValue(status, out var count) ? count : 0;
}
