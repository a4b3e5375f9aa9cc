using System;
using System.Collections.Generic;

namespace BatchRequest.Engine.Sending;

/// <summary>A complete HTTP answer to one attempt: status, headers and the whole body.</summary>
internal sealed record HttpAnswer(int StatusCode, string? ReasonPhrase, IReadOnlyDictionary<string, string> Headers)
{
    public string? Body { get; init; }

    public string? ContentType { get; init; }

    /// <summary>The file the body was written to under -OutDirectory; the body is then not kept as text.</summary>
    public string? OutFile { get; init; }

    /// <summary>The server's Retry-After, when it sent a valid one on a 429 or 503.</summary>
    public TimeSpan? RetryAfter { get; init; }

    public bool IsSuccess => StatusCode is >= 200 and <= 299;
}
