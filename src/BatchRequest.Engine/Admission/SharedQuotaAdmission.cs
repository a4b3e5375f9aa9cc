using System;
using System.Collections.Concurrent;
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
/// lease the process renews while it lives, so a killed participant's slots return when their leases end. One
/// acquire per attempt and one release: two round trips per request, renewals batched per process on a timer.
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

    private readonly QuotaStore _store;
    private readonly TimeProvider _time;
    private readonly int _limit;
    private readonly TimeSpan? _spacing;
    private readonly LeaseTerms _terms;

    // One acquire in flight per process: the others wait here, so a full quota is asked once, not by every worker.
    private readonly SemaphoreSlim _turn = new(1, 1);
    private readonly ConcurrentDictionary<string, byte> _held = new(StringComparer.Ordinal);
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
        _renewal = time.CreateTimer(static state => ((SharedQuotaAdmission)state!).Renew(), this, _terms.RenewEvery, _terms.RenewEvery);
    }

    /// <summary>Connects to the quota's store before anything is sent.</summary>
    /// <exception cref="SharedQuotaException">The store cannot be reached (<see cref="SharedQuotaErrorIds.Unavailable"/>).</exception>
    public static SharedQuotaAdmission Connect(QuotaAddress address, int limit, double? requestsPerSecond, TimeProvider time)
    {
        SharedQuotaAdmission? admission = null;
        var store = QuotaStore.Connect(address, () => admission?.OnReleased(), TimeSpan.FromSeconds(5));
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
        var began = _time.GetTimestamp();
        var lease = Guid.NewGuid().ToString("N");
        AcquireResult granted;
        await _turn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            granted = await AcquireAsync(lease, host, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _turn.Release();
        }

        var ticket = new Ticket(this, lease, host);
        try
        {
            // The rate's spacing is waited out holding the slot, so the start reaches the server at its pace.
            if (granted.Wait is { } wait && wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
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
        foreach (var lease in _held.Keys)
        {
            Guard(() => _store.Release(lease));
        }

        _store.Dispose();
        _turn.Dispose();
    }

    private async Task<AcquireResult> AcquireAsync(string lease, string host, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();

            // Taken before asking, so a slot given back while the answer travels still wakes this wait.
            var released = Volatile.Read(ref _released).Task;
            AcquireResult result;
            try
            {
                result = await _store.TryAcquireAsync(lease, _limit, host, _spacing).ConfigureAwait(false);
                Interlocked.Exchange(ref _outageSince, LeaseTerms.NoOutage);
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                await WaitOutOutageAsync(exception, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (result.Granted)
            {
                _held[lease] = 0;
                RaiseHighest(_held.Count);
                return result;
            }

            // A paused host: wait out its pause. A full quota: wait for a release, or ask again after a while.
            var delay = Task.Delay(result.Wait ?? Poll, _time, cancellationToken);
            await (result.Wait is null ? Task.WhenAny(released, delay) : delay).ConfigureAwait(false);
        }
    }

    private async Task WaitOutOutageAsync(Exception exception, CancellationToken cancellationToken)
    {
        var now = _time.GetTimestamp();
        Interlocked.CompareExchange(ref _outageSince, now, LeaseTerms.NoOutage);
        if (_terms.OutageOver(Interlocked.Read(ref _outageSince), now, _time))
        {
            throw new PolicyException(ErrorKind.SharedThrottleUnavailable, QuotaStore.Unavailable(_store.Address, exception).Message, exception);
        }

        await Task.Delay(OutagePoll, _time, cancellationToken).ConfigureAwait(false);
    }

    private void OnReleased() => Interlocked.Exchange(ref _released, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    private void Renew()
    {
        if (!_held.IsEmpty)
        {
            _ = GuardAsync(_store.RenewAsync(_held.Keys.ToArray()));
        }
    }

    private void Return(string lease)
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
                _ = GuardAsync(_admission._store.PauseAsync(_host, delay));
            }
        }

        // Exactly one release, however often a ticket is disposed.
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _lease, null) is { } lease)
            {
                _admission.Return(lease);
            }
        }
    }
}
