using System;
using System.Collections.Generic;
using System.Globalization;

namespace BatchRequest.Engine.Security;

/// <summary>
/// The hosts of -AllowedHost: <c>host</c> allows every port of that host, <c>host:port</c> only that port (the
/// scheme's default port when the URI names none). IPv6 addresses are written in brackets to carry a port:
/// <c>[::1]:8080</c>.
/// </summary>
internal sealed class HostAllowList
{
    private readonly HashSet<string> _anyPort = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _onePort = new(StringComparer.OrdinalIgnoreCase);

    /// <param name="entries">Host names or addresses, each with or without a port.</param>
    public HostAllowList(IEnumerable<string> entries)
    {
        foreach (var entry in entries)
        {
            var (host, port) = Split(entry.Trim());
            if (port is { } number)
            {
                _onePort.Add(Key(host, number));
            }
            else
            {
                _anyPort.Add(host);
            }
        }
    }

    /// <summary>Whether the URI's host, on the URI's port, is allowed.</summary>
    public bool Allows(Uri uri) => _anyPort.Contains(uri.IdnHost) || _onePort.Contains(Key(uri.IdnHost, uri.Port));

    /// <summary>Host and port as a refusal names them.</summary>
    public static string Shown(Uri uri) => uri.HostNameType == UriHostNameType.IPv6
        ? "[" + uri.IdnHost + "]:" + uri.Port.ToString(CultureInfo.InvariantCulture)
        : Key(uri.IdnHost, uri.Port);

    private static string Key(string host, int port) => host + ":" + port.ToString(CultureInfo.InvariantCulture);

    // Uri.IdnHost gives IPv6 without brackets, so the entry's host is compared without them too. A bare IPv6
    // address (more than one colon) has no port; what follows a single colon is a port only when it is one.
    private static (string Host, int? Port) Split(string entry)
    {
        if (entry.StartsWith('['))
        {
            var close = entry.IndexOf(']');
            if (close > 0)
            {
                var rest = entry.Substring(close + 1);
                var host = entry.Substring(1, close - 1);
                return rest.Length == 0 ? (host, null) : (host, rest[0] == ':' ? PortOf(rest.Substring(1)) ?? -1 : -1);
            }
        }

        var colon = entry.IndexOf(':');
        if (colon > 0 && colon == entry.LastIndexOf(':'))
        {
            // "host:abc" is no host:port; -1 is a port no URI has, so the entry allows nothing rather than every port.
            return (entry.Substring(0, colon), PortOf(entry.Substring(colon + 1)) ?? -1);
        }

        return (entry, null);
    }

    private static int? PortOf(string text) =>
        text.Length > 0 && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535 ? port : null;
}
