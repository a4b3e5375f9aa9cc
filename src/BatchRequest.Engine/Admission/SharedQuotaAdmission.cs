using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using BatchRequest.Engine.SharedQuota;
using BatchRequest.Model.Results;
using StackExchange.Redis;

namespace BatchRequest.Engine.Admission;

/// <summary>What a batch did with a shared quota: for its summary and progress.</summary>
/// <param name="Name">The quota's address, secrets masked.</param>
/// <param name="SlotsHighest">The most slots this process held at once.</param>
/// <param name="Waited">Time attempts spent waiting for the quota (slots, the shared rate, shared pauses), summed.</param>
/// <param name="RoundTrips">Requests this process sent to the store.</param>
public readonly record struct QuotaReport(string Name, int SlotsHighest, TimeSpan Waited, long RoundTrips);

/// <summary>
/// Admission by a quota that many processes share on a Redis server: fleet-wide slots (-ThrottleLimit), starts
/// paced fleet-wide (-RequestsPerSecond), and hosts paused for all by one participant's Retry-After. A slot is a
/// lease the process renews while it lives, so a killed participant's slots return when their leases end.
/// Round trips are few, because a round trip per request costs more than the quota is worth at short latencies:
/// the process's slots (<see cref="SharedSlots"/>) are asked for together and pass from worker to worker for a
/// while, and renewals are batched per process on a timer. A pause is announced to every participant at once, so
/// none goes on with the leases it holds.
/// </summary>
/// <remarks>
/// A store that stops answering is waited for, at most <see cref="QuotaAddress.Outage"/>, and nothing starts
/// meanwhile: a local limit in its place is how a fleet would exceed the cap. After that every attempt is refused
/// (<see cref="ErrorKind.SharedThrottleUnavailable"/>), so the records left end NotSent and a resume sends them later.
/// </remarks>
internal sealed class SharedQuotaAdmission : IAdmission
{
    private readonly QuotaStore _store;
    private readonly TimeProvider _time;
    private readonly SharedSlots _slots;
    private readonly ITimer _renewal;

    // Hosts paused by a Retry-After, here or announced by another participant: the time each resumes.
    private readonly ConcurrentDictionary<string, long> _paused = new(StringComparer.Ordinal);
    private long _waitedTicks;

    private SharedQuotaAdmission(QuotaStore store, int limit, double? requestsPerSecond, TimeProvider time)
    {
        _store = store;
        _time = time;
        _slots = new SharedSlots(store, limit, requestsPerSecond is { } rate ? TimeSpan.FromSeconds(1 / rate) : null, time);
        var renewEvery = _slots.Terms.RenewEvery;
        _renewal = time.CreateTimer(static state => ((SharedQuotaAdmission)state!).Renew(), this, renewEvery, renewEvery);
    }

    /// <summary>Connects to the quota's store before anything is sent.</summary>
    /// <exception cref="SharedQuotaException">The store cannot be reached (<see cref="SharedQuotaErrorIds.Unavailable"/>).</exception>
    public static SharedQuotaAdmission Connect(QuotaAddress address, int limit, double? requestsPerSecond, TimeProvider time)
    {
        SharedQuotaAdmission? admission = null;
        var store = QuotaStore.Connect(address, () => admission?._slots.OnReleased(), TimeSpan.FromSeconds(5), (host, delay) => admission?.Pause(host, delay));
        admission = new SharedQuotaAdmission(store, limit, requestsPerSecond, time);
        return admission;
    }

    public QuotaReport Report() => new(
        _store.Address.ToString(),
        _slots.Highest,
        TimeSpan.FromTicks(Interlocked.Read(ref _waitedTicks)),
        _store.RoundTrips);

    /// <summary>Shares the limit an adaptive throttle found, so the fleet converges on it together.</summary>
    public void ShareLimit(int limit) => _store.ShareLimit(limit);

    public async ValueTask<IAdmissionTicket> AdmitAsync(string host, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var began = _time.GetTimestamp();
        var grant = await _slots.TakeAsync(host, Paused(host), cancellationToken).ConfigureAwait(false);
        var ticket = new Ticket(this, grant.Lease, host);
        try
        {
            // The rate's spacing is waited out holding the slot, so the start reaches the server at its pace.
            if (grant.Start > TimeSpan.Zero)
            {
                await Task.Delay(grant.Start, _time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            ticket.Dispose();
            throw;
        }

        Interlocked.Add(ref _waitedTicks, _time.GetElapsedTime(began).Ticks);
        return ticket;
    }

    public void Dispose()
    {
        _renewal.Dispose();
        _slots.Dispose();
        _store.Dispose();
    }

    // A lost store only costs what the lease and the outage wait already cover: a renewal or a pause that fails
    // ends with its lease, and the next acquire decides whether the batch may go on.
    private static async Task GuardAsync(Task work)
    {
        try
        {
            await work.ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException or ObjectDisposedException)
        {
        }
    }

    private void Renew()
    {
        var held = _slots.Held();
        if (held.Length > 0)
        {
            _ = GuardAsync(_store.RenewAsync(held));
        }
    }

    private void Pause(string host, TimeSpan delay)
    {
        var resume = _time.GetTimestamp() + (long)(delay.TotalSeconds * _time.TimestampFrequency);
        _paused.AddOrUpdate(host, resume, (_, known) => Math.Max(known, resume));
    }

    private bool Paused(string host) => _paused.TryGetValue(host, out var resume) && _time.GetTimestamp() < resume;

    private sealed class Ticket : IAdmissionTicket
    {
        private readonly SharedQuotaAdmission _admission;
        private readonly string _host;
        private string? _lease;

        public Ticket(SharedQuotaAdmission admission, string lease, string host)
        {
            _admission = admission;
            _lease = lease;
            _host = host;
        }

        public void Complete(AttemptFeedback feedback)
        {
            if (feedback.RetryAfter is { } delay && delay > TimeSpan.Zero)
            {
                _admission.Pause(_host, delay);
                _ = GuardAsync(_admission._store.PauseAsync(_host, delay));
            }
        }

        // Exactly one release, however often a ticket is disposed.
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _lease, null) is { } lease)
            {
                _admission._slots.GiveBack(lease, _host, mayReuse: !_admission.Paused(_host));
            }
        }
    }
}
