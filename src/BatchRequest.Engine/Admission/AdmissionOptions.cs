using System;

namespace BatchRequest.Engine.Admission;

/// <summary>What limits the pace of a batch, as the cmdlet's parameters say.</summary>
public sealed class AdmissionOptions
{
    /// <summary>Attempts in flight at once, and connections per host.</summary>
    public int ThrottleLimit { get; set; } = 10;

    /// <summary>Find each host's capacity: <see cref="ThrottleLimit"/> becomes the ceiling of a limit that adapts.</summary>
    public bool AdaptiveThrottle { get; set; }

    /// <summary>Most attempts started per second, retries included; null for no rate limit.</summary>
    public double? RequestsPerSecond { get; set; }

    /// <summary>
    /// A quota shared with every process that names it: then <see cref="ThrottleLimit"/> and
    /// <see cref="RequestsPerSecond"/> hold for all of them together, and so do the hosts' Retry-After pauses.
    /// </summary>
    public SharedQuota.QuotaAddress? SharedQuota { get; set; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        if (ThrottleLimit <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ThrottleLimit), ThrottleLimit, null);
        }

        if (RequestsPerSecond is { } rate && (!(rate > 0) || double.IsInfinity(rate)))
        {
            throw new ArgumentOutOfRangeException(nameof(RequestsPerSecond), rate, null);
        }
    }
}
