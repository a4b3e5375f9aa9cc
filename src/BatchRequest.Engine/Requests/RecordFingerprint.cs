using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using BatchRequest.Engine.Common;
using BatchRequest.Model.Requests;

namespace BatchRequest.Engine.Requests;

/// <summary>
/// A stable SHA-256 (lowercase hex) of what a record sends: method, URI, headers sorted by name, content type and
/// body. A journal keeps it instead of the request, so a resumed run can tell that a record changed.
/// </summary>
public static class RecordFingerprint
{
    // Credentials are not content: a rotated token must not make every record of a nightly batch look changed.
    private static readonly HashSet<string> CredentialHeaders =
        new(StringComparer.OrdinalIgnoreCase) { "Authorization", "Proxy-Authorization", "Cookie" };

    public static string Of(RequestRecord record)
    {
        var headers = record.Headers
            .Where(h => !CredentialHeaders.Contains(h.Key))
            .Select(h => (Name: h.Key.ToLowerInvariant(), h.Value))
            .OrderBy(h => h.Name, StringComparer.Ordinal)
            .ToList();

        var text = new StringBuilder();
        Append(text, record.Method);
        Append(text, record.Uri.AbsoluteUri);
        Append(text, headers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var (name, value) in headers)
        {
            Append(text, name);
            Append(text, value);
        }

        Append(text, record.ContentType);
        Append(text, record.Body);
        return Hex.Sha256(text.ToString());
    }

    // Every field carries its length, so no value can imitate a field boundary; null differs from empty.
    private static void Append(StringBuilder text, string? value)
    {
        if (value is null)
        {
            text.Append("-1:");
            return;
        }

        text.Append(value.Length).Append(':').Append(value);
    }
}
