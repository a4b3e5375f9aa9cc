using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using BatchRequest.Engine.Security;
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
/// the workers waiting in one process ask together (one acquire in flight per process leases a slot for as many of
/// them as the quota has free), a lease passes from one worker to the next here for up to a second before it goes
/// back to the store where every participant may take it, and renewals are batched per process on a timer. A pause
/// is announced to every participant at once, so none goes on with the leases it holds.
/// </summary>
/// <remarks>
/// A store that stops answering is waited for, at most <see cref="QuotaAddress.Outage"/>, and nothing starts
/// meanwhile: a local limit in its place is how a fleet would exceed the cap. After that every attempt is refused
/// (<see cref="ErrorKind.SharedThrottleUnavailable"/>), so the records left end NotSent and a resume sends them later.
/// </remarks>
internal sealed class SharedQuotaAdmission : IAdmission
{
    // How often a waiting participant asks again when no release was announced (a killed one's lease ending is not).
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan OutagePoll = TimeSpan.FromMilliseconds(500);

    // How long a lease may pass from worker to worker here before it goes back to the store (at most a third of
    // the lease, so one passed on is surely still counted by the store, renewed or not).
    private static readonly TimeSpan LongestReuse = TimeSpan.FromSeconds(1);

    // How long a lease given back is kept for the next worker here before it goes back to the store.
    private static readonly TimeSpan IdleGrace = TimeSpan.FromMilliseconds(5);

    private readonly QuotaStore _store;
    private readonly TimeProvider _time;
    private readonly int _limit;
    private readonly TimeSpan? _spacing;
    private readonly LeaseTerms _terms;
    private readonly TimeSpan _reuse;

    // Ends the waits of the pump and of leases kept idle when the batch ends.
    private readonly CancellationTokenSource _closing = new();

    // The workers waiting for a slot, oldest first; one pump at a time asks the store for all of one host's.
    private readonly object _gate = new();
    private readonly List<Waiter> _waiting = [];
    private readonly List<Grant> _idle = [];
    private bool _pumping;

    // Hosts paused by a Retry-After, here or announced by another participant: the time each resumes.
    private readonly ConcurrentDictionary<string, long> _paused = new(StringComparer.Ordinal);

    // Leases held, with the time each was taken from the store.
    private readonly ConcurrentDictionary<string, long> _held = new(StringComparer.Ordinal);
    private readonly ITimer _renewal;
    private TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _outageSince = LeaseTerms.NoOutage;
    private int _highest;
    private long _waitedTicks;

    private SharedQuotaAdmission(QuotaStore store, int limit, double? requestsPerSecond, TimeProvider time)
    {
        _store = store;
        _time = time;
        _limit = limit;
        _spacing = requestsPerSecond is { } rate ? TimeSpan.FromSeconds(1 / rate) : null;
        _terms = new LeaseTerms(store.Address.Lease, store.Address.Outage);
        _reuse = TimeSpan.FromTicks(Math.Min(LongestReuse.Ticks, _terms.RenewEvery.Ticks));
        _renewal = time.CreateTimer(static state => ((SharedQuotaAdmission)state!).Renew(), this, _terms.RenewEvery, _terms.RenewEvery);
    }

    /// <summary>Connects to the quota's store before anything is sent.</summary>
    /// <exception cref="SharedQuotaException">The store cannot be reached (<see cref="SharedQuotaErrorIds.Unavailable"/>).</exception>
    public static SharedQuotaAdmission Connect(QuotaAddress address, int limit, double? requestsPerSecond, TimeProvider time)
    {
        SharedQuotaAdmission? admission = null;
        var store = QuotaStore.Connect(address, () => admission?.OnReleased(), TimeSpan.FromSeconds(5), (host, delay) => admission?.Pause(host, delay));
        admission = new SharedQuotaAdmission(store, limit, requestsPerSecond, time);
        return admission;
    }

    public QuotaReport Report() => new(
        _store.Address.ToString(),
        Volatile.Read(ref _highest),
        TimeSpan.FromTicks(Interlocked.Read(ref _waitedTicks)),
        _store.RoundTrips);

    /// <summary>Shares the limit an adaptive throttle found, so the fleet converges on it together.</summary>
    public void ShareLimit(int limit) => Guard(() => _store.ShareLimit(limit));

    public async ValueTask<IAdmissionTicket> AdmitAsync(string host, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var began = _time.GetTimestamp();
        var grant = TakeIdle(host) ?? await WaitForSlotAsync(host, cancellationToken).ConfigureAwait(false);
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

    private Grant? TakeIdle(string host)
    {
        if (Paused(host))
        {
            return null;
        }

        lock (_gate)
        {
            var idle = _idle.FindIndex(grant => grant.Host == host);
            if (idle < 0)
            {
                return null;
            }

            var grant = _idle[idle];
            _idle.RemoveAt(idle);
            return grant;
        }
    }

    private async Task<Grant> WaitForSlotAsync(string host, CancellationToken cancellationToken)
    {
        var waiter = new Waiter(Guid.NewGuid().ToString("N"), host);
        bool pump;
        lock (_gate)
        {
            _waiting.Add(waiter);
            pump = !_pumping;
            _pumping = true;
        }

        if (pump)
        {
            _ = Task.Run(PumpAsync);
        }

        using (cancellationToken.Register(static state => ((Waiter)state!).Cancel(), waiter))
        {
            try
            {
                return await waiter.Granted.Task.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                lock (_gate)
                {
                    _waiting.Remove(waiter);
                }

                cancellationToken.ThrowIfCancellationRequested();
                throw;
            }
        }
    }

    public void Dispose()
    {
        _closing.Cancel();
        _renewal.Dispose();
        foreach (var lease in _held.Keys)
        {
            Guard(() => _store.Release(lease));
        }

        _store.Dispose();
    }

    // Asks for the oldest waiter's host on behalf of every worker waiting for it, until no one waits.
    private async Task PumpAsync()
    {
        while (true)
        {
            Waiter[] asking;
            lock (_gate)
            {
                if (_waiting.Count == 0 || _closing.IsCancellationRequested)
                {
                    _pumping = false;
                    return;
                }

                var host = _waiting[0].Host;
                asking = _waiting.Where(waiter => waiter.Host == host).ToArray();
            }

            // Taken before asking, so a slot given back while the answer travels still wakes this wait.
            var released = Volatile.Read(ref _released).Task;
            AcquireResult result;
            try
            {
                result = await _store.TryAcquireAsync(asking.Select(waiter => waiter.Lease).ToArray(), _limit, asking[0].Host, _spacing).ConfigureAwait(false);
                Interlocked.Exchange(ref _outageSince, LeaseTerms.NoOutage);
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException or ObjectDisposedException)
            {
                await WaitOutOutageAsync(exception).ConfigureAwait(false);
                continue;
            }

            if (result.Granted > 0)
            {
                Admit(asking, result);
                continue;
            }

            // A paused host: wait out its pause. A full quota: wait for a release, or ask again after a while.
            try
            {
                var delay = Task.Delay(result.Paused ?? Poll, _time, _closing.Token);
                await (result.Paused is null ? Task.WhenAny(released, delay) : delay).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private void Admit(Waiter[] asking, AcquireResult result)
    {
        for (var i = 0; i < result.Granted; i++)
        {
            var waiter = asking[i];
            lock (_gate)
            {
                _waiting.Remove(waiter);
            }

            _held[waiter.Lease] = _time.GetTimestamp();

            // A worker that stopped waiting meanwhile gives its slot straight back.
            if (!waiter.Granted.TrySetResult(new Grant(waiter.Lease, waiter.Host, result.Starts[i])))
            {
                Return(waiter.Lease, waiter.Host);
            }
        }

        RaiseHighest(_held.Count);
    }

    // Ends the wait of everyone waiting now with the outage's error.
    private void Refuse(Exception error)
    {
        Waiter[] refused;
        lock (_gate)
        {
            refused = [.. _waiting];
            _waiting.Clear();
        }

        foreach (var waiter in refused)
        {
            waiter.Granted.TrySetException(error);
        }
    }

    // Nothing starts while the store is away; once it has been away too long, every waiting worker is refused.
    private async Task WaitOutOutageAsync(Exception exception)
    {
        var now = _time.GetTimestamp();
        Interlocked.CompareExchange(ref _outageSince, now, LeaseTerms.NoOutage);
        if (_closing.IsCancellationRequested || _terms.OutageOver(Interlocked.Read(ref _outageSince), now, _time))
        {
            Refuse(new PolicyException(ErrorKind.SharedThrottleUnavailable, QuotaStore.Unavailable(_store.Address, exception).Message, exception));
            return;
        }

        try
        {
            await Task.Delay(OutagePoll, _time, _closing.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void OnReleased() => Interlocked.Exchange(ref _released, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    private void Renew()
    {
        if (!_held.IsEmpty)
        {
            _ = GuardAsync(_store.RenewAsync(_held.Keys.ToArray()));
        }
    }

    private void Return(string lease, string host)
    {
        if (!Reusable(lease) || Paused(host))
        {
            Release(lease);
            return;
        }

        while (true)
        {
            Waiter? next;
            lock (_gate)
            {
                next = _waiting.Find(waiter => waiter.Host == host);
                if (next is null)
                {
                    // The worker that gave it back usually asks again within a moment: keep it for that moment.
                    _idle.Add(new Grant(lease, host, TimeSpan.Zero));
                    break;
                }

                _waiting.Remove(next);
            }

            if (next.Granted.TrySetResult(new Grant(lease, host, TimeSpan.Zero)))
            {
                return;
            }
        }

        _ = ReleaseIdleAsync(lease);
    }

    // A young lease passes from worker to worker here with no round trip. Not under a shared rate (the store paces
    // each start), not to a paused host (the store holds the workers), and not once it is _reuse old: then it goes
    // back to the store, so the others get their turn.
    private bool Reusable(string lease) =>
        _spacing is null && _held.TryGetValue(lease, out var taken) && _time.GetElapsedTime(taken) < _reuse;

    private void Pause(string host, TimeSpan delay)
    {
        var resume = _time.GetTimestamp() + (long)(delay.TotalSeconds * _time.TimestampFrequency);
        _paused.AddOrUpdate(host, resume, (_, known) => Math.Max(known, resume));
    }

    private bool Paused(string host) => _paused.TryGetValue(host, out var resume) && _time.GetTimestamp() < resume;

    private async Task ReleaseIdleAsync(string lease)
    {
        try
        {
            await Task.Delay(IdleGrace, _time, _closing.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        lock (_gate)
        {
            if (_idle.RemoveAll(grant => grant.Lease == lease) == 0)
            {
                return;
            }
        }

        Release(lease);
    }

    private void Release(string lease)
    {
        if (_held.TryRemove(lease, out _))
        {
            Guard(() => _store.Release(lease));
        }
    }

    private void RaiseHighest(int held)
    {
        int current;
        while (held > (current = Volatile.Read(ref _highest)) && Interlocked.CompareExchange(ref _highest, held, current) != current)
        {
        }
    }

    // A lost store only costs what the lease and the outage wait already cover: a release or a renewal that fails
    // ends with its lease, and the next acquire decides whether the batch may go on.
    private static void Guard(Action action)
    {
        try
        {
            action();
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException or ObjectDisposedException)
        {
        }
    }

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

    /// <summary>One worker waiting for a slot: the lease it will hold, and the wait before its start once granted.</summary>
    private sealed class Waiter(string lease, string host)
    {
        public string Lease { get; } = lease;

        public string Host { get; } = host;

        public TaskCompletionSource<Grant> Granted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Cancel() => Granted.TrySetCanceled();
    }

    /// <summary>A slot for a worker: its lease, its host, and how long to wait before starting.</summary>
    private readonly record struct Grant(string Lease, string Host, TimeSpan Start);

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
                _admission.Return(lease, _host);
            }
        }
    }
}
