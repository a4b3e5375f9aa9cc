using System;
using System.Linq;

namespace BatchRequest.Engine.Common;

/// <summary>
/// A URI as a journal or a report may keep it: without user info, and with query values, which often carry tokens,
/// replaced by <c>***</c>.
/// </summary>
internal static class RedactedUri
{
    public const string Mask = "***";

    public static string Of(Uri uri)
    {
        // SchemeAndServer leaves out the user info, which GetLeftPart would keep.
        var withoutQuery = uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);
        var query = uri.Query.TrimStart('?');
        if (query.Length == 0)
        {
            return withoutQuery;
        }

        // A piece without '=' may be a bare token, so it is masked whole.
        var pieces = query.Split('&').Select(piece => piece.IndexOf('=') is var equals and > 0
            ? piece.Substring(0, equals + 1) + Mask
            : Mask);
        return withoutQuery + "?" + string.Join("&", pieces);
    }
}
