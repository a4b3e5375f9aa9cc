using System;
using System.Globalization;
using System.Text.Json;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Resources;
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

    public JournalEvent Event { get; init; }

    /// <summary>When the line was written.</summary>
    public DateTimeOffset Time { get; init; }

    /// <summary>The batch's identity in derived idempotency keys; on <see cref="JournalEvent.Run"/> lines.</summary>
    public string? BatchId { get; init; }

    /// <summary>The record's id; on <see cref="JournalEvent.Sending"/> and <see cref="JournalEvent.Result"/> lines.</summary>
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

    public int? Attempts { get; init; }

    public ErrorKind? ErrorKind { get; init; }

    /// <summary>When the first attempt started.</summary>
    public DateTimeOffset? StartTime { get; init; }

    /// <summary>From the first attempt to the outcome.</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>1-based line of the journal this entry was read from; 0 for an entry not read from a file.</summary>
    public long Line { get; init; }

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
        if (StatusCode is { } code)
        {
            json.WriteNumber(StatusCodeKey, code);
        }

        if (Attempts is { } attempts)
        {
            json.WriteNumber(AttemptsKey, attempts);
        }

        WriteIfSet(json, ErrorKindKey, ErrorKind?.ToString());
        WriteIfSet(json, StartTimeKey, StartTime?.ToString("O", CultureInfo.InvariantCulture));
        if (Duration is { } duration)
        {
            json.WriteNumber(DurationKey, Math.Round(duration.TotalMilliseconds, 3));
        }

        json.WriteEndObject();
    }

    /// <exception cref="FormatException">The line is JSON, but not a journal entry.</exception>
    internal static JournalEntry Parse(JsonElement line, long lineNumber)
    {
        if (line.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException(Text.Format(Messages.JournalLineNotObject, line.ValueKind));
        }

        return new JournalEntry
        {
            Event = EnumOf<JournalEvent>(line, EventKey) ?? throw new FormatException(Text.Format(Messages.JournalLineMissingKey, EventKey)),
            Time = TimeOf(line, TimeKey) ?? default,
            BatchId = StringOf(line, BatchIdKey),
            Id = StringOf(line, IdKey),
            Fingerprint = StringOf(line, FingerprintKey),
            Method = StringOf(line, MethodKey),
            Uri = StringOf(line, UriKey),
            IdempotencyKey = StringOf(line, IdempotencyKeyKey),
            Status = EnumOf<BatchStatus>(line, StatusKey),
            StatusCode = line.TryGetProperty(StatusCodeKey, out var code) ? code.GetInt32() : null,
            Attempts = line.TryGetProperty(AttemptsKey, out var attempts) ? attempts.GetInt32() : null,
            ErrorKind = EnumOf<ErrorKind>(line, ErrorKindKey),
            StartTime = TimeOf(line, StartTimeKey),
            Duration = line.TryGetProperty(DurationKey, out var duration) ? TimeSpan.FromMilliseconds(duration.GetDouble()) : null,
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

        // Enum.TryParse also takes numbers; a journal only ever holds names.
        return text.Length > 0 && char.IsLetter(text[0]) && Enum.TryParse<T>(text, ignoreCase: true, out var value)
            ? value
            : throw new FormatException(Text.Format(Messages.JournalValueUnknown, key, text));
    }
}
