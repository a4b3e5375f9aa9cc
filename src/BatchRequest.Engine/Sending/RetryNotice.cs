using System;
using BatchRequest.Model.Requests;

namespace BatchRequest.Engine.Sending;

/// <summary>Announces one retry: which record, after what, and how long it waits.</summary>
public sealed class RetryNotice
{
    internal RetryNotice(RequestRecord record, int nextAttempt, TimeSpan delay, string reason, bool delayFromServer)
    {
        Record = record;
        NextAttempt = nextAttempt;
        Delay = delay;
        Reason = reason;
        DelayFromServer = delayFromServer;
    }

    /// <summary>The record, with its secrets masked: fit to show.</summary>
    public RequestRecord Record { get; }

    /// <summary>Number of the attempt about to start (2 for the first retry).</summary>
    public int NextAttempt { get; }

    public TimeSpan Delay { get; }

    /// <summary>The failure that caused the retry, without secrets.</summary>
    public string Reason { get; }

    /// <summary>True when the delay is the server's Retry-After, false when it is our backoff.</summary>
    public bool DelayFromServer { get; }
}
