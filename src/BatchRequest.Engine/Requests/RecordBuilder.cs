using System;
using System.Collections.Generic;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Resources;
using BatchRequest.Model.Requests;

namespace BatchRequest.Engine.Requests;

/// <summary>
/// Validates a <see cref="RecordDraft"/> from any source and turns it into a <see cref="RequestRecord"/>, or into
/// the problem that stops it from being sent. One set of rules for every format and for pipeline objects.
/// </summary>
internal static class RecordBuilder
{
    private const double MaximumTimeoutSec = 86400;
    private static readonly char[] LineBreaks = { '\r', '\n', '\0' };

    // The methods of RFC 9110 and PATCH: a mistyped one ("GTE") would be sent and answered 405. CONNECT opens a
    // tunnel, not a request; extension methods (WebDAV's PROPFIND and the like) are not sent by this module.
    private static readonly string[] KnownMethods = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE" };

    public static RequestEntry Build(RecordDraft draft, RecordReadOptions options)
    {
        var position = draft.Position;
        var idText = draft.Id ?? (position.IsInFile ? DerivedId(position) : null);
        if (draft.ProblemId is not null)
        {
            return Problem(draft.ProblemId, draft.ProblemDetail!, position, idText);
        }

        if (idText is { Length: 0 })
        {
            return Problem(RequestErrorIds.InvalidProperty, Messages.IdEmpty, position, idText);
        }

        var method = draft.Method ?? "GET";
        if (!IsToken(method))
        {
            return Problem(RequestErrorIds.InvalidMethod, Messages.MethodInvalid, position, idText);
        }

        var upperMethod = method.ToUpperInvariant();
        if (Array.IndexOf(KnownMethods, upperMethod) < 0)
        {
            var detail = Text.Format(Messages.MethodUnknown, method, string.Join(", ", KnownMethods), NameSuggestion.DidYouMean(method, KnownMethods));
            return Problem(RequestErrorIds.InvalidMethod, detail, position, idText);
        }

        var (uri, uriProblem, uriDetail) = ValidUri(draft.Uri, options.BaseUri ?? draft.BaseUri);
        if (uri is null)
        {
            return Problem(uriProblem!, uriDetail!, position, idText);
        }

        var contentType = draft.ContentType;
        var headers = draft.Headers.Count == 0 ? null : new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in draft.Headers)
        {
            // A name that is no token may be a whole "Name value" line, secret included: it is never repeated.
            if (!IsToken(header.Key))
            {
                return Problem(RequestErrorIds.InvalidHeader, Messages.HeaderNameInvalid, position, idText);
            }

            // CR or LF would let a value smuggle in a header of its own.
            if (HasLineBreak(header.Value))
            {
                return Problem(RequestErrorIds.InvalidHeader, Text.Format(Messages.HeaderInvalid, header.Key), position, idText);
            }

            if (string.Equals(header.Key, "Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                if (draft.ContentType is not null && !draft.ContentTypeImplied)
                {
                    return Problem(RequestErrorIds.InvalidHeader, Messages.ContentTypeTwice, position, idText);
                }

                contentType = header.Value;
                continue;
            }

            headers![header.Key] = headers.TryGetValue(header.Key, out var earlier) ? earlier + ", " + header.Value : header.Value;
        }

        if (contentType is not null && HasLineBreak(contentType))
        {
            return Problem(RequestErrorIds.InvalidHeader, Text.Format(Messages.HeaderInvalid, "Content-Type"), position, idText);
        }

        if (draft.Body is not null && upperMethod is "GET" or "HEAD")
        {
            return Problem(RequestErrorIds.BodyNotAllowed, Text.Format(Messages.BodyNotAllowed, upperMethod), position, idText);
        }

        if (draft.TimeoutSec is { } timeoutSec && !(timeoutSec > 0 && timeoutSec <= MaximumTimeoutSec))
        {
            return Problem(RequestErrorIds.InvalidProperty, Text.Format(Messages.TimeoutOutOfRange, MaximumTimeoutSec), position, idText);
        }

        if (draft.IdempotencyKey is { } key && (key.Length == 0 || HasLineBreak(key)))
        {
            return Problem(RequestErrorIds.InvalidProperty, Messages.IdempotencyKeyInvalid, position, idText);
        }

        var id = idText ?? ContentId(upperMethod, uri, draft.Body);
        return new RequestEntry(new RequestRecord(id, upperMethod, uri)
        {
            Headers = (IReadOnlyDictionary<string, string>?)headers ?? RequestRecord.NoHeaders,
            Body = draft.Body,
            ContentType = contentType,
            Timeout = draft.TimeoutSec is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
            IdempotencyKey = draft.IdempotencyKey,
            Source = position.IsInFile ? position.ToString() : null,
            Position = position,
        });
    }

    /// <summary>A record problem with its position and id in the message; header and body values never appear.</summary>
    public static RequestEntry Problem(string errorId, string detail, RecordPosition position, string? id) =>
        new(new RequestFileException(errorId, MessageFor(detail, position, id), position) { RecordId = id });

    public static string MessageFor(string detail, RecordPosition position, string? id) =>
        position.IsInFile
            ? Text.Format(Messages.RecordProblemInFile, position.File, position.RecordNumber, id, position.Line, position.Column, detail)
            : Text.Format(Messages.RecordProblemInObject, id ?? Messages.NoId, detail);

    /// <summary>The id of a record without one: file name and record number, the same on every run.</summary>
    public static string DerivedId(RecordPosition position) =>
        System.IO.Path.GetFileName(position.File) + "#" + position.RecordNumber.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The id of a request built outside a file without one: method and URI, and a digest of the query and body when
    /// there are any, so that reruns give the same id and different requests different ones. Query values are
    /// masked, as in the journal: an id is shown and written everywhere, and a query may hold a key.
    /// </summary>
    private static string ContentId(string method, Uri uri, string? body)
    {
        if (uri.Query.Length <= 1 && body is null)
        {
            return method + " " + uri.AbsoluteUri;
        }

        using var sha = SHA256.Create();
        var digest = sha.ComputeHash(Encoding.UTF8.GetBytes(uri.AbsoluteUri + "\n" + body));
        return method + " " + RedactedUri.Of(uri) + " #" + BitConverter.ToString(digest, 0, 4).Replace("-", string.Empty).ToLowerInvariant();
    }

    private static (Uri? Uri, string? ErrorId, string? Detail) ValidUri(string? text, Uri? baseUri)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return (null, RequestErrorIds.MissingUri, Messages.RecordMissingUri);
        }

        // On Unix "/users/7" would parse as an absolute file path; a leading slash always means relative here.
        var rootRelative = text![0] == '/' && !text.StartsWith("//", StringComparison.Ordinal);
        if (!(!rootRelative && Uri.TryCreate(text, UriKind.Absolute, out var uri)) && !Uri.TryCreate(text, UriKind.Relative, out uri))
        {
            return (null, RequestErrorIds.InvalidUri, Messages.UriMalformed);
        }

        if (!uri.IsAbsoluteUri)
        {
            if (baseUri is null)
            {
                return (null, RequestErrorIds.InvalidUri, Messages.UriRelativeWithoutBase);
            }

            uri = new Uri(baseUri, uri);
        }

        if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
        {
            return (null, RequestErrorIds.InvalidUri, Text.Format(Messages.UriSchemeNotHttp, uri.Scheme));
        }

        return uri.UserInfo.Length > 0 ? (null, RequestErrorIds.InvalidUri, Messages.UriHasUserInfo) : (uri, null, null);
    }

    /// <summary>An RFC 9110 token: what a method or a header name may be.</summary>
    internal static bool IsToken(string text)
    {
        if (text.Length == 0)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!((c < 128 && char.IsLetterOrDigit(c)) || "!#$%&'*+-.^_`|~".IndexOf(c) >= 0))
            {
                return false;
            }
        }

        return true;
    }

    private static bool HasLineBreak(string value) => value.IndexOfAny(LineBreaks) >= 0;
}
