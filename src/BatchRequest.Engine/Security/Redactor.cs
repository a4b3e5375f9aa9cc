using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using BatchRequest.Model.Requests;

namespace BatchRequest.Engine.Security;

/// <summary>
/// Masks secrets before anything leaves the sender for a person or a file: secret headers, URI user info, and
/// query values whose keys look secret.
/// </summary>
public sealed partial class Redactor
{
    public const string Mask = "***";

    private static readonly string[] DefaultSecretHeaders =
        { "Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Api-Key" };


    private readonly HashSet<string> _secretHeaders;

    /// <param name="extraSecretHeaders">Header names to treat as secret beside the well-known ones.</param>
    public Redactor(IEnumerable<string>? extraSecretHeaders = null)
    {
        _secretHeaders = new HashSet<string>(DefaultSecretHeaders.Concat(extraSecretHeaders ?? Array.Empty<string>()), StringComparer.OrdinalIgnoreCase);
    }

    public bool IsSecretHeader(string name) => _secretHeaders.Contains(name);

    /// <summary>A copy with the values of secret headers masked.</summary>
    public IReadOnlyDictionary<string, string> Redact(IReadOnlyDictionary<string, string> headers)
    {
        if (!headers.Keys.Any(IsSecretHeader))
        {
            return headers;
        }

        var copy = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in headers)
        {
            copy[header.Key] = IsSecretHeader(header.Key) ? Mask : header.Value;
        }

        return copy;
    }

    /// <summary>The URI without user info and with secret-looking query values masked.</summary>
    public Uri Redact(Uri uri)
    {
        if (!uri.IsAbsoluteUri || (uri.UserInfo.Length == 0 && !HasSecretQuery(uri.Query)))
        {
            return uri;
        }

        var builder = new UriBuilder(uri) { UserName = string.Empty, Password = string.Empty };
        if (uri.Query.Length > 1)
        {
            builder.Query = RedactQuery(uri.Query.Substring(1));
        }

        return builder.Uri;
    }

    /// <summary>A copy of the record safe to show: secret headers and URI parts masked.</summary>
    public RequestRecord Redact(RequestRecord record)
    {
        var uri = Redact(record.Uri);
        var headers = Redact(record.Headers);
        if (ReferenceEquals(uri, record.Uri) && ReferenceEquals(headers, record.Headers))
        {
            return record;
        }

        return new RequestRecord(record.Id, record.Method, uri)
        {
            Headers = headers,
            Body = record.Body,
            ContentType = record.ContentType,
            Timeout = record.Timeout,
            IdempotencyKey = record.IdempotencyKey,
            Source = record.Source,
        };
    }

    private static bool HasSecretQuery(string query) =>
        query.Length > 1 && query.Substring(1).Split('&').Any(pair => SecretQueryKey().IsMatch(KeyOf(pair)));

    private static string RedactQuery(string query)
    {
        var parts = query.Split('&');
        var result = new StringBuilder();
        foreach (var pair in parts)
        {
            if (result.Length > 0)
            {
                result.Append('&');
            }

            var key = KeyOf(pair);
            result.Append(SecretQueryKey().IsMatch(key) && pair.Length > key.Length ? key + "=" + Mask : pair);
        }

        return result.ToString();
    }

    private static string KeyOf(string pair)
    {
        var equals = pair.IndexOf('=');
        return Uri.UnescapeDataString(equals < 0 ? pair : pair.Substring(0, equals));
    }

    // Generated at build time: a fresh process pays nothing to compile it on first use.
    [GeneratedRegex("token|key|secret|sig|password|passwd|pwd|auth|credential", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecretQueryKey();
}
