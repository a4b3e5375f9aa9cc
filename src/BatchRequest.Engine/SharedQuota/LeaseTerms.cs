using System;

namespace BatchRequest.Engine.SharedQuota;

/// <summary>The arithmetic of leases and outages, apart from the store, so that a fake clock can check it.</summary>
internal readonly struct LeaseTerms
{
    /// <summary>The outage start of a store that answers.</summary>
    public const long NoOutage = long.MinValue;

    public LeaseTerms(TimeSpan lease, TimeSpan outage)
    {
        Lease = lease;
        Outage = outage;
    }

    public TimeSpan Lease { get; }

    public TimeSpan Outage { get; }

    /// <summary>Renewals come three times a lease, so two may fail before a live participant's slot ends.</summary>
    public TimeSpan RenewEvery => Lease / 3;

    /// <summary>Whether a store that stopped answering at <paramref name="since"/> has been waited for long enough.</summary>
    public bool OutageOver(long since, long now, TimeProvider time) =>
        since != NoOutage && time.GetElapsedTime(since, now) >= Outage;
}
