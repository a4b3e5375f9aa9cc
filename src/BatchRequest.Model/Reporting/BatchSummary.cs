using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using BatchRequest.Model.Resources;

namespace BatchRequest.Model.Reporting;

/// <summary>What a batch did, in numbers: counts by status and code, retries, time, throughput and latency.</summary>
public sealed class BatchSummary
{
    internal BatchSummary()
    {
    }

    public long Total { get; init; }

    public long Succeeded { get; init; }

    public long Failed { get; init; }

    public long OutcomeUnknown { get; init; }

    public long Throttled { get; init; }

    public long NotSent { get; init; }

    public long Canceled { get; init; }

    /// <summary>Records a resumed run did not send because its journal shows them succeeded.</summary>
    public long Skipped { get; init; }

    /// <summary>Attempts beyond the first, over all records.</summary>
    public long Retries { get; init; }

    /// <summary>Records per status name, including statuses added later.</summary>
    public IReadOnlyDictionary<string, long> ByStatus { get; init; } = new Dictionary<string, long>();

    /// <summary>Records per final HTTP status code; records without an answer are not counted here.</summary>
    public IReadOnlyDictionary<int, long> ByStatusCode { get; init; } = new Dictionary<int, long>();

    /// <summary>From the first record's start to the last record's end.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>Records per second over <see cref="Elapsed"/>.</summary>
    public double RecordsPerSecond { get; init; }

    /// <summary>Median record duration, retries and backoff included; percentiles are within 0.4 % of the exact value.</summary>
    public TimeSpan LatencyP50 { get; init; }

    public TimeSpan LatencyP95 { get; init; }

    public TimeSpan LatencyP99 { get; init; }

    /// <summary>Requests allowed in flight at the end: -ThrottleLimit, or with -AdaptiveThrottle the limit it found (of the busiest host).</summary>
    public int ConcurrencyLimit { get; init; }

    /// <summary>The lowest concurrency limit in force during the batch.</summary>
    public int ConcurrencyLimitLowest { get; init; }

    /// <summary>The highest concurrency limit in force during the batch.</summary>
    public int ConcurrencyLimitHighest { get; init; }

    /// <summary>The shared quota's address with -SharedThrottle (secrets masked); null without one.</summary>
    public string? SharedQuota { get; init; }

    /// <summary>The most slots of the shared quota this process held at once.</summary>
    public int SharedSlotsHighest { get; init; }

    /// <summary>Time attempts waited for the shared quota (its slots, its rate, shared pauses), summed over attempts.</summary>
    public TimeSpan SharedQuotaWait { get; init; }

    /// <summary>Requests this process sent to the shared quota's store.</summary>
    public long SharedQuotaRoundTrips { get; init; }

    /// <summary>
    /// The summary in one line, as -InformationAction Continue prints it: records, time and rate, the count of each
    /// status that occurred, retries, the latency percentiles and, when one was in force, the concurrency limit.
    /// </summary>
    public override string ToString()
    {
        var culture = CultureInfo.CurrentCulture;
        var counts = ByStatus.Count == 0
            ? Messages.SummaryNoRecords
            : string.Join(", ", ByStatus.Select(pair => string.Format(culture, Messages.SummaryStatusCount, pair.Key, pair.Value)));
        var text = string.Format(
            culture,
            Messages.SummaryText,
            Total,
            Elapsed.TotalSeconds,
            RecordsPerSecond,
            counts,
            Retries,
            Shown(LatencyP50, culture),
            Shown(LatencyP95, culture),
            Shown(LatencyP99, culture));

        // Measure-BatchResult knows no limit; a batch always ran under one.
        if (ConcurrencyLimit != 0)
        {
            text += string.Format(culture, Messages.SummaryLimit, ConcurrencyLimit, ConcurrencyLimitLowest, ConcurrencyLimitHighest);
        }

        return SharedQuota is null
            ? text
            : text + string.Format(culture, Messages.SummarySharedQuota, SharedQuota, SharedSlotsHighest, SharedQuotaWait.TotalSeconds);
    }

    private static string Shown(TimeSpan duration, IFormatProvider culture) => duration < TimeSpan.FromSeconds(1)
        ? string.Format(culture, Messages.DurationMilliseconds, duration.TotalMilliseconds)
        : string.Format(culture, Messages.DurationSeconds, duration.TotalSeconds);
}
