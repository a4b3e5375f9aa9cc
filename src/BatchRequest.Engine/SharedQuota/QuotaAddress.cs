using System;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Resources;

namespace BatchRequest.Engine.SharedQuota;

/// <summary>
/// Where a shared quota lives and what it is called: <c>redis://[user:password@]host[:port][/db]/name</c>, or
/// <c>rediss://</c> for TLS, with <c>?leaseSec=</c> and <c>?outageSec=</c> to change the lease and the outage wait.
/// </summary>
public sealed partial class QuotaAddress
{
    /// <summary>How long a participant's slot lasts without renewal: a killed one's slots return within it.</summary>
    public static readonly TimeSpan DefaultLease = TimeSpan.FromSeconds(10);

    /// <summary>How long a batch waits for a lost store to come back before the rest of its records end NotSent.</summary>
    public static readonly TimeSpan DefaultOutage = TimeSpan.FromSeconds(30);

    private QuotaAddress(string host, int port, int database, string name, bool tls, string? user, string? password, TimeSpan lease, TimeSpan outage)
    {
        Host = host;
        Port = port;
        Database = database;
        Name = name;
        Tls = tls;
        User = user;
        Password = password;
        Lease = lease;
        Outage = outage;
    }

    public string Host { get; }

    public int Port { get; }

    public int Database { get; }

    /// <summary>The quota's name: every process that names it shares it.</summary>
    public string Name { get; }

    public bool Tls { get; }

    public string? User { get; }

    /// <summary>The store's password; never shown.</summary>
    public string? Password { get; }

    public TimeSpan Lease { get; }

    public TimeSpan Outage { get; }

    /// <summary>The prefix of the quota's keys; the braces are a Redis Cluster hash tag, so all of them share a slot.</summary>
    public string KeyPrefix => "batchrequest:{" + Name + "}:";

    /// <summary>
    /// Reads a quota address. <paramref name="credentialUser"/> and <paramref name="credentialPassword"/> come from
    /// -SharedThrottleCredential, which may not be given beside a password in the address.
    /// </summary>
    /// <exception cref="SharedQuotaException">The address is not one (<see cref="SharedQuotaErrorIds.Invalid"/>), or names a password twice.</exception>
    public static QuotaAddress Parse(string text, string? credentialUser = null, string? credentialPassword = null)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("redis" or "rediss") || uri.Host.Length == 0)
        {
            throw Invalid(text, Messages.SharedThrottleNotRedisUri);
        }

        var segments = uri.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        var database = 0;
        if (segments.Length is < 1 or > 2
            || (segments.Length == 2 && !int.TryParse(segments[0], NumberStyles.None, CultureInfo.InvariantCulture, out database))
            || !QuotaName().IsMatch(segments[^1]))
        {
            throw Invalid(text, Messages.SharedThrottleNoName);
        }

        string? user = null, password = null;
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            (user, password) = parts.Length == 2
                ? (NullIfEmpty(Uri.UnescapeDataString(parts[0])), Uri.UnescapeDataString(parts[1]))
                : (null, Uri.UnescapeDataString(parts[0]));
            if (credentialPassword is not null)
            {
                throw new SharedQuotaException(SharedQuotaErrorIds.CredentialTwice, Messages.SharedThrottleCredentialTwice);
            }
        }
        else if (credentialPassword is not null)
        {
            (user, password) = (NullIfEmpty(credentialUser), credentialPassword);
        }

        var lease = DefaultLease;
        var outage = DefaultOutage;
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var (key, value) = pair.Split('=', 2) is [var k, var v] ? (k, v) : (pair, string.Empty);
            if (!double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds))
            {
                throw Invalid(text, Text.Format(Messages.SharedThrottleBadOption, key));
            }

            switch (key)
            {
                case "leaseSec" when seconds is >= 1 and <= 15:
                    lease = TimeSpan.FromSeconds(seconds);
                    break;
                case "outageSec" when seconds <= 3600:
                    outage = TimeSpan.FromSeconds(seconds);
                    break;
                default:
                    throw Invalid(text, Text.Format(Messages.SharedThrottleBadOption, key));
            }
        }

        var port = uri.IsDefaultPort || uri.Port < 0 ? 6379 : uri.Port;
        return new QuotaAddress(uri.IdnHost, port, database, segments[^1], uri.Scheme == "rediss", user, password, lease, outage);
    }

    /// <summary>The address to show: the user info masked, the password never.</summary>
    public override string ToString() =>
        $"{(Tls ? "rediss" : "redis")}://{(User is null && Password is null ? string.Empty : "***@")}{(Host.Contains(':') ? $"[{Host}]" : Host)}:{Port.ToString(CultureInfo.InvariantCulture)}/{Database.ToString(CultureInfo.InvariantCulture)}/{Name}";

    private static SharedQuotaException Invalid(string text, string reason) =>
        new(SharedQuotaErrorIds.Invalid, Text.Format(Messages.SharedThrottleInvalid, Masked(text), reason));

    // The text as given, without its user info: a refused address may still hold a password.
    private static string Masked(string text) => UserInfo().Replace(text, "$1***@");

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    [GeneratedRegex("^[A-Za-z0-9._-]{1,100}$")]
    private static partial Regex QuotaName();

    [GeneratedRegex("^([a-z]+://)[^@/]*@", RegexOptions.IgnoreCase)]
    private static partial Regex UserInfo();
}
