using System;
using BatchRequest.Model.Requests;

namespace BatchRequest.Model.Results;

/// <summary>
/// The one outcome of one record, shaped for where it goes: every property Export-Csv writes is a readable scalar,
/// statuses and kinds are names (ConvertTo-Json writes an enum as a number), the duration is milliseconds. The
/// body as objects (<c>Data</c>) is the module's, parsed on its first read; <c>Export-Csv</c> never sees it.
/// </summary>
public sealed class BatchResult
{
    // Indexed by value: a name read per record and property costs an array lookup, no formatting.
    private static readonly string[] StatusNames = NamesOf<BatchStatus>();
    private static readonly string[] KindNames = NamesOf<ErrorKind>();

    /// <summary>What <see cref="Data"/> holds before its first read.</summary>
    internal static object DataNotRead { get; } = new();

    internal BatchResult(RequestRecord request, BatchStatus status)
    {
        Request = request;
        Original = request;
        Outcome = status;
    }

    /// <summary>The record's id.</summary>
    public string Id => Request.Id;

    /// <summary>How the record ended, by name: Succeeded, Failed, OutcomeUnknown, Throttled, NotSent, Canceled or Skipped.</summary>
    public string Status => StatusNames[(int)Outcome];

    /// <summary>Status code of the last answer; null when no answer arrived.</summary>
    public int? StatusCode { get; init; }

    /// <summary>Attempts that left the machine, retries included.</summary>
    public int Attempts { get; init; }

    /// <summary>Milliseconds from the first attempt to the final outcome, backoff included.</summary>
    public double DurationMs => Math.Round(Duration.TotalMilliseconds, 3);

    /// <summary>Why the record did not succeed, by name; None for a success.</summary>
    public string ErrorKind => KindNames[(int)Kind];

    /// <summary>What went wrong, in one sentence; null on success.</summary>
    public string? Error { get; init; }

    public string Method => Request.Method;

    public string Uri => Request.Uri.AbsoluteUri;

    /// <summary>When the first attempt started.</summary>
    public DateTimeOffset StartTime { get; init; }

    public string? ContentType { get; init; }

    /// <summary>Response body decoded as text.</summary>
    public string? Content { get; init; }

    /// <summary>The file that -OutDirectory wrote the body to; null without -OutDirectory or without an answer.</summary>
    public string? OutFile { get; init; }

    /// <summary>Response headers, secret ones masked; as text, one "Name: value" line each.</summary>
    public ResponseHeaders Headers { get; init; } = ResponseHeaders.None;

    /// <summary>The record that was sent, with its secrets masked; as text, its method and URI.</summary>
    public RequestRecord Request { get; }

    /// <summary>How the record ended, for the engine: journal, summary, error records.</summary>
    internal BatchStatus Outcome { get; }

    /// <summary>Why the record did not succeed, for the engine.</summary>
    internal ErrorKind Kind { get; init; }

    /// <summary>From the first attempt to the final outcome, backoff included.</summary>
    internal TimeSpan Duration { get; init; }

    /// <summary>The record as it was read, secrets included: for writing it back, never for showing it.</summary>
    internal RequestRecord Original { get; init; }

    /// <summary>The failure behind <see cref="Error"/>, kept for error records.</summary>
    internal Exception? Exception { get; init; }

    /// <summary>
    /// The body as objects once the module parsed it (<see cref="DataNotRead"/> until then), kept so that edits
    /// to it stick and nothing is parsed twice.
    /// </summary>
    internal object? Data { get; set; } = DataNotRead;

    private static string[] NamesOf<T>()
        where T : struct, Enum
    {
        var values = Enum.GetValues<T>();
        var names = new string[Convert.ToInt32(values[^1], System.Globalization.CultureInfo.InvariantCulture) + 1];
        foreach (var value in values)
        {
            names[Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture)] = value.ToString();
        }

        return names;
    }
}
