using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Text;

namespace BatchRequest.Model.Results;

/// <summary>
/// The headers of an answer, looked up by name in any case (<c>$r.Headers['Content-Type']</c>); written as text
/// (an Export-Csv cell) as one "Name: value" line per header, the way HTTP writes them.
/// </summary>
public sealed class ResponseHeaders : ReadOnlyDictionary<string, string>
{
    /// <summary>The headers of a result without an answer; shared, since nothing can change them.</summary>
    internal static readonly ResponseHeaders None = new(new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase));

    /// <param name="headers">Names compared case-insensitively; values of repeated headers joined with ", ".</param>
    internal ResponseHeaders(IDictionary<string, string> headers)
        : base(headers)
    {
    }

    /// <summary>The headers as they are when they are a dictionary of their own, else a copy.</summary>
    internal static ResponseHeaders Of(IReadOnlyDictionary<string, string> headers) =>
        headers as ResponseHeaders ?? new ResponseHeaders(
            headers as IDictionary<string, string> ?? new Dictionary<string, string>(headers, StringComparer.OrdinalIgnoreCase));

    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var header in this)
        {
            if (text.Length > 0)
            {
                text.Append('\n');
            }

            text.Append(header.Key).Append(": ").Append(header.Value);
        }

        return text.ToString();
    }
}
