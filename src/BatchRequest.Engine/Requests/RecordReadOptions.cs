using System;

namespace BatchRequest.Engine.Requests;

/// <summary>How records of a request file are turned into requests.</summary>
public sealed class RecordReadOptions
{
    /// <summary>Base for relative URIs, before a JSON file's own <c>baseUri</c>; null leaves that one, or none.</summary>
    public Uri? BaseUri { get; set; }

    /// <summary>The format of every file; null tells it from each file's extension.</summary>
    public RequestFileFormat? Format { get; set; }

    /// <summary>CSV only: the URI of every row, with <c>{Column}</c> placeholders filled in URL-encoded.</summary>
    public string? UriTemplate { get; set; }

    /// <summary>CSV only: the body of every row, with <c>{Column}</c> placeholders (JSON-escaped in a JSON body).</summary>
    public string? BodyTemplate { get; set; }
}
