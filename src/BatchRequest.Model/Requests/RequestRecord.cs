using System;
using System.Collections.Generic;

namespace BatchRequest.Model.Requests;

/// <summary>One HTTP request of a batch, as read from a request file or built in a script.</summary>
public sealed class RequestRecord
{
    /// <summary>The headers of a record without any; shared, since records never change them.</summary>
    internal static readonly IReadOnlyDictionary<string, string> NoHeaders =
        new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    public RequestRecord(string id, string method, Uri uri)
    {
        Id = id ?? throw new ArgumentNullException(nameof(id));
        Method = (method ?? throw new ArgumentNullException(nameof(method))).ToUpperInvariant();
        Uri = uri ?? throw new ArgumentNullException(nameof(uri));
    }

    /// <summary>Stable identity of the record: its own id, or file and record number.</summary>
    public string Id { get; }

    public string Method { get; }

    public Uri Uri { get; }

    /// <summary>Headers of this record; names compare case-insensitively.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = NoHeaders;

    public string? Body { get; init; }

    /// <summary>Media type of <see cref="Body"/>; null lets the sender choose.</summary>
    public string? ContentType { get; init; }

    /// <summary>Per-record budget for all attempts, overriding the batch default.</summary>
    public TimeSpan? Timeout { get; init; }

    public string? IdempotencyKey { get; init; }

    /// <summary>Where the record came from (file and line), for error messages.</summary>
    public string? Source { get; init; }

    /// <summary>File, line, column and record number of the record; not in a file for one built in a script.</summary>
    internal RecordPosition Position { get; init; } = RecordPosition.NotInFile;

    /// <summary>The validated batch the record was read in, for its total; null for a record built in a script.</summary>
    internal ValidatedBatch? Batch { get; set; }

    public override string ToString() => $"{Method} {Uri}";
}
