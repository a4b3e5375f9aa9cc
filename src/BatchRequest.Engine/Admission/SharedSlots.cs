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

/// <summary>A slot of a shared quota given to a worker: its lease, its host, and how long to wait before starting.</summary>
internal readonly record struct SlotGrant(string Lease, string Host, TimeSpan Start);

/// <summary>
/// The slots one process holds of a shared quota, and its workers waiting for one. The waiting workers ask
/// together: one acquire in flight per process leases a slot for as many of them as the quota has free. A lease
/// given back young passes to a worker here that waits for the same host, or is kept a moment for the next one,
/// with no round trip; an old one goes back to the store, where every participant may take it.
/// </summary>
/// <remarks>
/// A store that stops answering is waited for, at most <see cref="QuotaAddress.Outage"/>, and nothing is granted
/// meanwhile; after that every waiting worker is refused (<see cref="ErrorKind.SharedThrottleUnavailable"/>).
/// </remarks>
internal sealed class SharedSlots : IDisposable
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

    // The workers waiting for a slot, oldest first, and the leases kept for the next one; one pump at a time asks
    // the store for all of one host's waiters.
    private readonly object _gate = new();
    private readonly List<Waiter> _waiting = [];
    private readonly List<SlotGrant> _idle = [];
    private bool _pumping;

    // Leases held, with the time each was taken from the store.
    private readonly ConcurrentDictionary<string, long> _held = new(StringComparer.Ordinal);
    private TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _outageSince = LeaseTerms.NoOutage;
    private int _highest;

    /// <param name="spacing">The time between two starts of a shared rate; null for none. Under a rate no lease is reused: the store paces every start.</param>
    public SharedSlots(QuotaStore store, int limit, TimeSpan? spacing, TimeProvider time)
    {
        _store = store;
        _time = time;
        _limit = limit;
        _spacing = spacing;
        _terms = new LeaseTerms(store.Address.Lease, store.Address.Outage);
        _reuse = TimeSpan.FromTicks(Math.Min(LongestReuse.Ticks, _terms.RenewEvery.Ticks));
    }

    public LeaseTerms Terms => _terms;

    /// <summary>The most slots this process held at once.</summary>
    public int Highest => Volatile.Read(ref _highest);

    /// <summary>The leases held now, for their renewal.</summary>
    public string[] Held() => _held.Keys.ToArray();

    /// <summary>A slot for <paramref name="host"/>: one kept idle here at once, or the store's once it has one free.</summary>
    /// <exception cref="PolicyException">The store has been away longer than the outage allows.</exception>
    public Task<SlotGrant> TakeAsync(string host, bool paused, CancellationToken cancellationToken) =>
        (paused ? null : TakeIdle(host)) is { } idle ? Task.FromResult(idle) : WaitAsync(host, cancellationToken);

    /// <summary>Takes a slot back from a worker: to the next worker here when it may be reused, else to the store.</summary>
    /// <param name="mayReuse">False while the host is paused: the store then holds the workers.</param>
    public void GiveBack(string lease, string host, bool mayReuse)
    {
        if (!mayReuse || _spacing is not null || !_held.TryGetValue(lease, out var taken) || _time.GetElapsedTime(taken) >= _reuse)
        {
            Release(lease);
            return;
        }

        while (true)
        {
            Waiter? next;
            lock (_gate)
            {
                var found = FirstFor(_waiting, host);
                next = found < 0 ? null : _waiting[found];
                if (next is null)
                {
                    // The worker that gave it back usually asks again within a moment: keep it for that moment.
                    _idle.Add(new SlotGrant(lease, host, TimeSpan.Zero));
                    break;
                }

                _waiting.RemoveAt(found);
            }

            if (next.Granted.TrySetResult(new SlotGrant(lease, host, TimeSpan.Zero)))
            {
                return;
            }
        }

        _ = ReleaseIdleAsync(lease);
    }

    /// <summary>Another participant gave a slot back: the pump asks again.</summary>
    public void OnReleased() => Interlocked.Exchange(ref _released, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>Stops asking and gives every lease back.</summary>
    public void Dispose()
    {
        _closing.Cancel();
        foreach (var lease in _held.Keys)
        {
            _store.Release(lease);
        }
    }

    private SlotGrant? TakeIdle(string host)
    {
        lock (_gate)
        {
            var idle = _idle.Count - 1;
            while (idle >= 0 && _idle[idle].Host != host)
            {
                idle--;
            }

            if (idle < 0)
            {
                return null;
            }

            var grant = _idle[idle];
            _idle.RemoveAt(idle);
            return grant;
        }
    }

    private async Task<SlotGrant> WaitAsync(string host, CancellationToken cancellationToken)
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
            _ = Task.Run(PumpGuardedAsync);
        }

        using (cancellationToken.Register(static state => ((Waiter)state!).Granted.TrySetCanceled(), waiter))
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

    // A pump that fails for a reason nobody foresaw must not leave its workers waiting for ever: they get its error.
    private async Task PumpGuardedAsync()
    {
        try
        {
            await PumpAsync().ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            lock (_gate)
            {
                _pumping = false;
            }

            Refuse(exception);
        }
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
                Grant(asking, result);
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

    private void Grant(Waiter[] asking, AcquireResult result)
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
            if (!waiter.Granted.TrySetResult(new SlotGrant(waiter.Lease, waiter.Host, result.Starts[i])))
            {
                GiveBack(waiter.Lease, waiter.Host, mayReuse: true);
            }
        }

        RaiseHighest(_held.Count);
    }

    // Nothing is granted while the store is away; once it has been away too long, every waiting worker is refused.
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
            var kept = _idle.Count - 1;
            while (kept >= 0 && _idle[kept].Lease != lease)
            {
                kept--;
            }

            if (kept < 0)
            {
                return;
            }

            _idle.RemoveAt(kept);
        }

        Release(lease);
    }

    private void Release(string lease)
    {
        if (_held.TryRemove(lease, out _))
        {
            _store.Release(lease);
        }
    }

    private void RaiseHighest(int held)
    {
        int current;
        while (held > (current = Volatile.Read(ref _highest)) && Interlocked.CompareExchange(ref _highest, held, current) != current)
        {
        }
    }

    // Per request, under the lock: loops here rather than predicates, which would allocate a closure each time.
    private static int FirstFor(List<Waiter> waiting, string host)
    {
        for (var i = 0; i < waiting.Count; i++)
        {
            if (waiting[i].Host == host)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>One worker waiting for a slot, with the lease it will hold when the store grants one.</summary>
    private sealed class Waiter(string lease, string host)
    {
        public string Lease { get; } = lease;

        public string Host { get; } = host;

        public TaskCompletionSource<SlotGrant> Granted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
