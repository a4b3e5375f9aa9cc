using System;
using System.Threading;
using BatchRequest.Engine.Requests;
using BatchRequest.Model.Requests;

namespace BatchRequest.Engine.Sending;

/// <summary>
/// A record on its way through the batch, with what the sender and the journal both need computed once: the
/// idempotency key it is sent with, whether it may be sent twice, its fingerprint, and how many attempts left.
/// </summary>
public sealed class OutgoingRecord
{
    private string? _fingerprint;
    private int _attempts;
    private int _waitingToRetry;

    internal OutgoingRecord(RequestRecord record, string? idempotencyKey, bool safeToRepeat)
    {
        Record = record;
        IdempotencyKey = idempotencyKey;
        SafeToRepeat = safeToRepeat;
    }

    /// <summary>The record as read, secrets included.</summary>
    public RequestRecord Record { get; }

    /// <summary>The key sent in the idempotency key header; null when no such header is in use.</summary>
    public string? IdempotencyKey { get; }

    /// <summary>Sending it twice is harmless without a key: an idempotent method, or the caller allowed it.</summary>
    public bool SafeToRepeat { get; }

    /// <summary>It may be sent again after a failure that may have reached the server.</summary>
    public bool MayResend => SafeToRepeat || IdempotencyKey is not null;

    /// <summary>SHA-256 of what the record sends (<see cref="RecordFingerprint"/>), computed on first use.</summary>
    public string Fingerprint => _fingerprint ??= RecordFingerprint.Of(Record);

    /// <summary>Attempts that started to leave the machine so far.</summary>
    public int Attempts => Volatile.Read(ref _attempts);

    /// <summary>When the first attempt was let through admission: wall clock and timestamp; null before it.</summary>
    internal (DateTimeOffset At, long Timestamp)? FirstAttempt { get; private set; }

    /// <summary>Counts an attempt let through admission at <paramref name="at"/>; the first one is kept.</summary>
    internal void CountAttempt(DateTimeOffset at, long timestamp)
    {
        // A record's attempts run one after another, so the first is only ever set once.
        if (Interlocked.Increment(ref _attempts) == 1)
        {
            FirstAttempt = (at, timestamp);
        }
    }

    /// <summary>Marks the record as waiting out a retry delay; false when it already was.</summary>
    internal bool BeginRetryWait() => Interlocked.Exchange(ref _waitingToRetry, 1) == 0;

    /// <summary>Ends the retry wait (the next attempt begins, or the record ends); false when it was not waiting.</summary>
    internal bool EndRetryWait() => Interlocked.Exchange(ref _waitingToRetry, 0) == 1;
}
