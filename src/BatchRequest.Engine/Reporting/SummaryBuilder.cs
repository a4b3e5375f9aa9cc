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
    // HTTP's codes have three digits; anything else a caller puts in a result is counted apart.
    private const int HttpStatusCodes = 1000;

    // In the order of their values, as the counts are listed.
    private static readonly BatchStatus[] Statuses = Enum.GetValues<BatchStatus>();

    // Every result is counted under the batch's lock, so in arrays: a dictionary keyed by an enum or an int is
    // compiled at first use in a fresh process and its first thousands of lookups run unoptimized.
    private readonly long[] _byStatus = new long[(int)Statuses[^1] + 1];
    private readonly long[] _byStatusCode = new long[HttpStatusCodes];
    private Dictionary<int, long>? _otherStatusCodes;
    private long _total;

    // A histogram, not a list: the summary of a million records costs what the summary of ten does.
    private readonly LatencyHistogram _durations = new();
    private long _retries;
    private DateTimeOffset? _firstStart;
    private DateTimeOffset? _lastEnd;

    public void Add(BatchResult result)
    {
        _total++;
        if ((uint)result.Outcome < (uint)_byStatus.Length)
        {
            _byStatus[(int)result.Outcome]++;
        }

        if (result.StatusCode is { } code)
        {
            if ((uint)code < HttpStatusCodes)
            {
                _byStatusCode[code]++;
            }
            else
            {
                _otherStatusCodes ??= new Dictionary<int, long>();
                _otherStatusCodes[code] = _otherStatusCodes.GetValueOrDefault(code) + 1;
            }
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
        var total = _total;
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
        var counts = new Dictionary<string, long>();
        foreach (var status in Statuses)
        {
            if (CountOf(status) is var count and > 0)
            {
                counts.Add(status.ToString(), count);
            }
        }

        return counts;
    }

    // In ascending order of code, as the summary lists them.
    private Dictionary<int, long> CountsByStatusCode()
    {
        var counts = new Dictionary<int, long>();
        for (var code = 0; code < HttpStatusCodes; code++)
        {
            if (_byStatusCode[code] > 0)
            {
                counts.Add(code, _byStatusCode[code]);
            }
        }

        if (_otherStatusCodes is null)
        {
            return counts;
        }

        // Only for codes no HTTP answer carries: sorted in among the others.
        foreach (var (code, count) in _otherStatusCodes)
        {
            counts.Add(code, count);
        }

        return counts.OrderBy(pair => pair.Key).ToDictionary(pair => pair.Key, pair => pair.Value);
    }

    private long CountOf(BatchStatus status) => (uint)status < (uint)_byStatus.Length ? _byStatus[(int)status] : 0;
}
