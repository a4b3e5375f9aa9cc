using System;
using System.Collections.Generic;
using BatchRequest.Model.Requests;

namespace BatchRequest.Model.Results;

/// <summary>The one outcome of one record; flat enough for Export-Csv.</summary>
public sealed class BatchResult
{
    private static readonly IReadOnlyDictionary<string, string> NoHeaders =
        new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    internal BatchResult(RequestRecord request, BatchStatus status)
    {
        Request = request;
        Original = request;
        Status = status;
    }

    public string Id => Request.Id;

    public string Method => Request.Method;

    public string Uri => Request.Uri.AbsoluteUri;

    public BatchStatus Status { get; }

    /// <summary>Status code of the last answer; null when no answer arrived.</summary>
    public int? StatusCode { get; init; }

    /// <summary>Attempts that left the machine, retries included.</summary>
    public int Attempts { get; init; }

    /// <summary>From the first attempt to the final outcome, backoff included.</summary>
    public TimeSpan Duration { get; init; }

    public ErrorKind ErrorKind { get; init; }

    /// <summary>What went wrong, in one sentence; null on success.</summary>
    public string? Error { get; init; }

    /// <summary>Response body decoded as text.</summary>
    public string? Content { get; init; }

    public string? ContentType { get; init; }

    /// <summary>Response headers; values of repeated headers are joined with ", ".</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = NoHeaders;

    public DateTimeOffset StartTime { get; init; }

    /// <summary>The record that was sent, with its secrets masked.</summary>
    public RequestRecord Request { get; }

    /// <summary>The record as it was read, secrets included: for writing it back, never for showing it.</summary>
    internal RequestRecord Original { get; init; }

    /// <summary>The failure behind <see cref="Error"/>, kept for error records.</summary>
    internal Exception? Exception { get; init; }

    /// <summary>The file that -OutDirectory wrote the body to; null without -OutDirectory or without an answer.</summary>
    public string? OutFile { get; init; }
}
