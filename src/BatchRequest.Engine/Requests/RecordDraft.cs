using System;
using System.Collections.Generic;
using BatchRequest.Model.Requests;

namespace BatchRequest.Engine.Requests;

/// <summary>
/// A request as its source wrote it, before validation: the fields as text, and the first problem met while
/// reading them (a wrong type, an unknown or repeated property). <see cref="RecordBuilder"/> validates it.
/// </summary>
internal sealed class RecordDraft
{
    private string? _contentType;

    public RecordDraft(RecordPosition position)
    {
        Position = position;
    }

    public RecordPosition Position { get; }

    public string? Id { get; set; }

    public string? Method { get; set; }

    public string? Uri { get; set; }

    /// <summary>Headers in source order; a later one with the same name is joined to the earlier with a comma.</summary>
    public List<KeyValuePair<string, string>> Headers { get; } = new();

    public string? Body { get; set; }

    /// <summary>The record's media type; setting it makes it the record's own, not an implied one.</summary>
    public string? ContentType
    {
        get => _contentType;
        set
        {
            _contentType = value;
            ContentTypeImplied = false;
        }
    }

    /// <summary>
    /// True when <see cref="ContentType"/> was only implied by a JSON body, so that a Content-Type header given
    /// with the record replaces it rather than counting as a second one.
    /// </summary>
    public bool ContentTypeImplied { get; private set; }

    /// <summary>Sets the JSON media type for a JSON body, unless the record named one.</summary>
    public void ImplyJsonContentType()
    {
        if (_contentType is null)
        {
            _contentType = "application/json";
            ContentTypeImplied = true;
        }
    }

    public double? TimeoutSec { get; set; }

    public string? IdempotencyKey { get; set; }

    /// <summary>Base for a relative URI that the source itself gives (a JSON file's <c>baseUri</c>).</summary>
    public Uri? BaseUri { get; set; }

    public string? ProblemId { get; private set; }

    public string? ProblemDetail { get; private set; }

    /// <summary>Notes a problem; the first one noted is the one reported.</summary>
    public void Fail(string errorId, string detail)
    {
        if (ProblemId is null)
        {
            ProblemId = errorId;
            ProblemDetail = detail;
        }
    }
}
