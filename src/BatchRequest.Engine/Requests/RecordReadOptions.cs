using System;

namespace BatchRequest.Engine.Requests;

/// <summary>How records of a request file are turned into requests.</summary>
public sealed class RecordReadOptions
{
    /// <summary>Base for relative URIs; null makes a relative URI an error.</summary>
    public Uri? BaseUri { get; set; }
}
