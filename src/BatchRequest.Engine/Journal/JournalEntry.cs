using System;
using System.Globalization;
using System.Text.Json;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Resources;
using BatchRequest.Model.Journal;
using BatchRequest.Model.Results;

namespace BatchRequest.Engine.Journal;

/// <summary>
/// One line of a journal. Written as JSON with camelCase keys; never a body, a header value, or a query value.
/// </summary>
public sealed class JournalEntry
{
    // The keys of a journal line, in one place for the writer and the reader.
    private const string EventKey = "event";
    private const string BatchIdKey = "batchId";
    private const string IdKey = "id";
    private const string FingerprintKey = "fingerprint";
    private const string MethodKey = "method";
    private const string UriKey = "uri";
    private const string IdempotencyKeyKey = "idempotencyKey";
    private const string StatusKey = "status";
    private const string StatusCodeKey = "statusCode";
    private const string AttemptsKey = "attempts";
    private const string ErrorKindKey = "errorKind";
    private const string StartTimeKey = "startTime";
    private const string DurationKey = "durationMs";
    private const string TimeKey = "time";
    private const string HostKey = "host";
    private const string DelayKey = "delayMs";
    private const string ResumeAtKey = "resumeAt";
    private const string LimitKey = "limit";
    private const string PreviousLimitKey = "previousLimit";

    public JournalEvent Event { get; init; }

    /// <summary>When the line was written.</summary>
    public DateTimeOffset Time { get; init; }

    /// <summary>The batch's identity in derived idempotency keys; on <see cref="JournalEvent.Run"/> lines.</summary>
    public string? BatchId { get; init; }

    /// <summary>The record's id; on <see cref="JournalEvent.Sending"/>, <see cref="JournalEvent.Result"/> and <see cref="JournalEvent.Retry"/> lines.</summary>
    public string? Id { get; init; }

    /// <summary>SHA-256 of the record's content (<see cref="RecordFingerprint"/>).</summary>
    public string? Fingerprint { get; init; }

    public string? Method { get; init; }

    /// <summary>The record's URI with query values masked.</summary>
    public string? Uri { get; init; }

    /// <summary>The idempotency key sent with the record; null when none was.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>The record's outcome; on <see cref="JournalEvent.Result"/> lines.</summary>
    public BatchStatus? Status { get; init; }

    public int? StatusCode { get; init; }

    /// <summary>Attempts made, on a result; the number of the attempt about to start, on a retry.</summary>
    public int? Attempts { get; init; }

    public ErrorKind? ErrorKind { get; init; }

    /// <summary>When the first attempt started.</summary>
    public DateTimeOffset? StartTime { get; init; }

    /// <summary>From the first attempt to the outcome.</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>How long a retried record waits before its next attempt; on <see cref="JournalEvent.Retry"/> lines.</summary>
    public TimeSpan? Delay { get; init; }

    /// <summary>The host (authority, without user info) of a <see cref="JournalEvent.Pause"/> or <see cref="JournalEvent.Limit"/> line.</summary>
    public string? Host { get; init; }

    /// <summary>Until when the host is paused; on <see cref="JournalEvent.Pause"/> lines.</summary>
    public DateTimeOffset? ResumeAt { get; init; }

    /// <summary>The host's concurrency limit from now on; on <see cref="JournalEvent.Limit"/> lines.</summary>
    public int? Limit { get; init; }

    /// <summary>The host's concurrency limit until now; on <see cref="JournalEvent.Limit"/> lines.</summary>
    public int? PreviousLimit { get; init; }

    /// <summary>1-based line of the journal this entry was read from; 0 for an entry not read from a file.</summary>
    public long Line { get; init; }

    /// <summary>This entry as Import-BatchJournal hands it out: names for enums, milliseconds for durations.</summary>
    public JournalLine ToLine() => new()
    {
        Line = Line,
        Time = Time,
        Event = Event.ToString(),
        Id = Id,
        Status = Status?.ToString(),
        StatusCode = StatusCode,
        Attempts = Attempts,
        ErrorKind = ErrorKind?.ToString(),
        DurationMs = Duration is { } duration ? Math.Round(duration.TotalMilliseconds, 3) : null,
        DelayMs = Delay is { } delay ? Math.Round(delay.TotalMilliseconds, 3) : null,
        StartTime = StartTime,
        Method = Method,
        Uri = Uri,
        IdempotencyKey = IdempotencyKey,
        Fingerprint = Fingerprint,
        BatchId = BatchId,
        Host = Host,
        ResumeAt = ResumeAt,
        Limit = Limit,
        PreviousLimit = PreviousLimit,
    };

    internal void WriteTo(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString(EventKey, Name(Event));
        json.WriteString(TimeKey, Time.ToString("O", CultureInfo.InvariantCulture));
        WriteIfSet(json, BatchIdKey, BatchId);
        WriteIfSet(json, IdKey, Id);
        WriteIfSet(json, FingerprintKey, Fingerprint);
        WriteIfSet(json, MethodKey, Method);
        WriteIfSet(json, UriKey, Uri);
        WriteIfSet(json, IdempotencyKeyKey, IdempotencyKey);
        WriteIfSet(json, StatusKey, Status?.ToString());
        WriteIfSet(json, StatusCodeKey, StatusCode);
        WriteIfSet(json, AttemptsKey, Attempts);

        WriteIfSet(json, ErrorKindKey, ErrorKind?.ToString());
        WriteIfSet(json, StartTimeKey, StartTime?.ToString("O", CultureInfo.InvariantCulture));
        WriteIfSet(json, DurationKey, Duration);
        WriteIfSet(json, DelayKey, Delay);
        WriteIfSet(json, HostKey, Host);
        WriteIfSet(json, ResumeAtKey, ResumeAt?.ToString("O", CultureInfo.InvariantCulture));
        WriteIfSet(json, LimitKey, Limit);
        WriteIfSet(json, PreviousLimitKey, PreviousLimit);
        json.WriteEndObject();
    }

    /// <summary>The entry of a line; null for a line of a kind this version does not know, which readers skip.</summary>
    /// <exception cref="FormatException">The line is JSON, but not a journal entry.</exception>
    internal static JournalEntry? Parse(JsonElement line, long lineNumber)
    {
        if (line.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException(Text.Format(Messages.JournalLineNotObject, line.ValueKind));
        }

        var kind = StringOf(line, EventKey) ?? throw new FormatException(Text.Format(Messages.JournalLineMissingKey, EventKey));
        if (!IsName(kind) || !Enum.TryParse<JournalEvent>(kind, ignoreCase: true, out var @event))
        {
            return null;
        }

        return new JournalEntry
        {
            Event = @event,
            Time = TimeOf(line, TimeKey) ?? default,
            BatchId = StringOf(line, BatchIdKey),
            Id = StringOf(line, IdKey),
            Fingerprint = StringOf(line, FingerprintKey),
            Method = StringOf(line, MethodKey),
            Uri = StringOf(line, UriKey),
            IdempotencyKey = StringOf(line, IdempotencyKeyKey),
            Status = EnumOf<BatchStatus>(line, StatusKey),
            StatusCode = IntOf(line, StatusCodeKey),
            Attempts = IntOf(line, AttemptsKey),
            ErrorKind = EnumOf<ErrorKind>(line, ErrorKindKey),
            StartTime = TimeOf(line, StartTimeKey),
            Duration = MillisecondsOf(line, DurationKey),
            Delay = MillisecondsOf(line, DelayKey),
            Host = StringOf(line, HostKey),
            ResumeAt = TimeOf(line, ResumeAtKey),
            Limit = IntOf(line, LimitKey),
            PreviousLimit = IntOf(line, PreviousLimitKey),
            Line = lineNumber,
        };
    }

    private static string Name(JournalEvent value) => value.ToString().ToLowerInvariant();

    private static void WriteIfSet(Utf8JsonWriter json, string key, string? value)
    {
        if (value is not null)
        {
            json.WriteString(key, value);
        }
    }

    private static void WriteIfSet(Utf8JsonWriter json, string key, int? value)
    {
        if (value is { } number)
        {
            json.WriteNumber(key, number);
        }
    }

    private static void WriteIfSet(Utf8JsonWriter json, string key, TimeSpan? value)
    {
        if (value is { } span)
        {
            json.WriteNumber(key, Math.Round(span.TotalMilliseconds, 3));
        }
    }

    private static int? IntOf(JsonElement line, string key) =>
        line.TryGetProperty(key, out var value) ? value.GetInt32() : null;

    private static TimeSpan? MillisecondsOf(JsonElement line, string key) =>
        line.TryGetProperty(key, out var value) ? TimeSpan.FromMilliseconds(value.GetDouble()) : null;

    // Enum.TryParse also takes numbers; a journal only ever holds names.
    private static bool IsName(string text) => text.Length > 0 && char.IsLetter(text[0]);

    private static string? StringOf(JsonElement line, string key) =>
        line.TryGetProperty(key, out var value) ? value.GetString() : null;

    private static DateTimeOffset? TimeOf(JsonElement line, string key) =>
        StringOf(line, key) is { } text ? DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind) : null;

    private static T? EnumOf<T>(JsonElement line, string key)
        where T : struct
    {
        if (StringOf(line, key) is not { } text)
        {
            return null;
        }

        return IsName(text) && Enum.TryParse<T>(text, ignoreCase: true, out var value)
            ? value
            : throw new FormatException(Text.Format(Messages.JournalValueUnknown, key, text));
    }
}
