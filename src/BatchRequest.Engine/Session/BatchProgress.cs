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
public readonly record struct BatchProgress(long Taken, long Done, long Problems, long Retries, LimitReport Limit, TimeSpan Elapsed)
{
    /// <summary>Records taken that have no result yet: running, waiting to retry, or queued.</summary>
    public long Pending => Taken - Done;

    /// <summary>Results per second so far.</summary>
    public double RecordsPerSecond => Elapsed > TimeSpan.Zero ? Done / Elapsed.TotalSeconds : 0;

    /// <summary>Time left for the records taken, at the rate so far; -1 while there is no rate yet.</summary>
    public int SecondsRemaining => RecordsPerSecond > 0 ? (int)(Pending / RecordsPerSecond) : -1;
}
