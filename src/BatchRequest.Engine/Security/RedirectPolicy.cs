using System;

namespace BatchRequest.Engine.Security;

/// <summary>The rules for following a redirect, decided by the sender, never by the handler.</summary>
internal static class RedirectPolicy
{
    public static bool IsRedirect(int statusCode) => statusCode is 301 or 302 or 303 or 307 or 308;

    /// <summary>Same scheme, host and port: secrets may travel on.</summary>
    public static bool IsSameOrigin(Uri from, Uri to) =>
        string.Equals(from.Scheme, to.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(from.IdnHost, to.IdnHost, StringComparison.OrdinalIgnoreCase)
        && from.Port == to.Port;

    /// <summary>Only http and https are followed; the handler cannot send anything else.</summary>
    public static bool IsHttp(Uri to) => to.Scheme == Uri.UriSchemeHttp || to.Scheme == Uri.UriSchemeHttps;

    /// <summary>Leaving TLS for plain HTTP is never followed.</summary>
    public static bool IsDowngrade(Uri from, Uri to) =>
        from.Scheme == Uri.UriSchemeHttps && to.Scheme == Uri.UriSchemeHttp;

    /// <summary>The method of the next hop: 303 always, and 301/302 after a POST, become GET without a body.</summary>
    public static string NextMethod(int statusCode, string method) =>
        statusCode == 303 && method != "HEAD" ? "GET"
        : statusCode is 301 or 302 && method == "POST" ? "GET"
        : method;
}
