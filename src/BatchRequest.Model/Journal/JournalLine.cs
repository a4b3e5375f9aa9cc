using System;

namespace BatchRequest.Model.Journal;

/// <summary>
/// One line of a journal as Import-BatchJournal hands it out, shaped like a <c>BatchResult</c>: the event, status
/// and kind by name, durations in milliseconds, so that Export-Csv and ConvertTo-Json read both alike. Properties a
/// line's event does not carry are null.
/// </summary>
public sealed class JournalLine
{
    /// <summary>1-based line of the journal.</summary>
    public long Line { get; init; }

    /// <summary>When the line was written.</summary>
    public DateTimeOffset Time { get; init; }

    /// <summary>Run, Sending, Result, Retry, Pause or Limit.</summary>
    public string Event { get; init; } = "";

    public string? Id { get; init; }

    /// <summary>How the record ended, by name; on Result lines.</summary>
    public string? Status { get; init; }

    public int? StatusCode { get; init; }

    /// <summary>Attempts made, on a result; the number of the attempt about to start, on a retry.</summary>
    public int? Attempts { get; init; }

    /// <summary>Why the record did not succeed, by name; on Result lines.</summary>
    public string? ErrorKind { get; init; }

    /// <summary>Milliseconds from the first attempt to the outcome; on Result lines.</summary>
    public double? DurationMs { get; init; }

    /// <summary>Milliseconds a retried record waits before its next attempt; on Retry lines.</summary>
    public double? DelayMs { get; init; }

    /// <summary>When the first attempt started.</summary>
    public DateTimeOffset? StartTime { get; init; }

    public string? Method { get; init; }

    /// <summary>The record's URI with query values masked.</summary>
    public string? Uri { get; init; }

    /// <summary>The idempotency key sent with the record; null when none was.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>SHA-256 of the record's content, by which a resume knows a record that changed.</summary>
    public string? Fingerprint { get; init; }

    /// <summary>The batch's identity in derived idempotency keys; on Run lines.</summary>
    public string? BatchId { get; init; }

    /// <summary>The host of a Pause or Limit line.</summary>
    public string? Host { get; init; }

    /// <summary>Until when the host is paused; on Pause lines.</summary>
    public DateTimeOffset? ResumeAt { get; init; }

    /// <summary>The host's concurrency limit from now on, and until now; on Limit lines.</summary>
    public int? Limit { get; init; }

    public int? PreviousLimit { get; init; }
}
