using System;
using System.Collections.Generic;

namespace BatchRequest.Engine.Requests;

/// <summary>
/// A request as its source wrote it, before validation: the fields as text, and the first problem met while
/// reading them (a wrong type, an unknown or repeated property). <see cref="RecordBuilder"/> validates it.
/// </summary>
internal sealed class RecordDraft
{
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

    public string? ContentType { get; set; }

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
