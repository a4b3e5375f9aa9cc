using System;
using BatchRequest.Engine.Admission;

namespace BatchRequest.Engine.Session;

/// <summary>How far a batch has come, counted as it goes.</summary>
/// <param name="Taken">Records handed to the session.</param>
/// <param name="Done">Records with their result.</param>
/// <param name="Problems">Results that did not succeed and were not an earlier run's success.</param>
/// <param name="Retries">Retries announced so far.</param>
/// <param name="Limit">Requests allowed in flight now, and the ceiling: -ThrottleLimit.</param>
/// <param name="Elapsed">Since the session started.</param>
/// <param name="Total">Records the batch will have: known once the input ended, or before from the validated
/// batches the records came from; null while unknown.</param>
/// <param name="Running">Records a worker holds: in an attempt, waiting for admission, or waiting to retry.</param>
/// <param name="WaitingToRetry">Records waiting out the delay before their next attempt.</param>
/// <param name="Quota">What the shared quota did so far; null without one.</param>
public readonly record struct BatchProgress(
    long Taken,
    long Done,
    long Problems,
    long Retries,
    LimitReport Limit,
    TimeSpan Elapsed,
    long? Total,
    long Running,
    long WaitingToRetry,
    QuotaReport? Quota = null)
{
    /// <summary>Records taken that have no result yet: running, waiting to retry, or queued.</summary>
    public long Pending => Taken - Done;

    /// <summary>Records in an attempt or waiting for admission to one, not those waiting to retry.</summary>
    public long InFlight => Math.Max(0, Running - WaitingToRetry);

    /// <summary>Records taken that no worker holds yet.</summary>
    public long Queued => Math.Max(0, Pending - Running);

    /// <summary>Results per second so far.</summary>
    public double RecordsPerSecond => Elapsed > TimeSpan.Zero ? Done / Elapsed.TotalSeconds : 0;

    /// <summary>Share of the total done, 0 to 100; -1 while the total is unknown.</summary>
    public int PercentComplete => Total is { } total && total > 0 ? (int)Math.Min(100, 100 * Done / total) : -1;

    /// <summary>Time left for the total at the rate so far; -1 while the total or a rate is unknown.</summary>
    public int SecondsRemaining => Total is { } total && RecordsPerSecond > 0
        ? (int)Math.Min(int.MaxValue, Math.Max(0, total - Done) / RecordsPerSecond)
        : -1;
}
