using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace BatchRequest.Engine.Admission;

/// <summary>
/// -AdaptiveThrottle: each host gets its own <see cref="AdaptiveLimit"/>, and an attempt to a host starts only while
/// fewer than that host's limit are in flight. Waiters are served in order as slots free up or the limit grows.
/// </summary>
internal sealed class AdaptiveConcurrencyAdmission : IAdmission, ILimitReporter
{
    private readonly ConcurrentDictionary<string, HostLimiter> _hosts = new(StringComparer.OrdinalIgnoreCase);
    private readonly int _ceiling;
    private readonly TimeProvider _time;
    private readonly Action<string, int, int>? _onChange;

    /// <param name="ceiling">-ThrottleLimit: no host's limit goes above it.</param>
    /// <param name="onChange">Told (host, previous, current) when a host's limit changes; called under no lock, must not block.</param>
    public AdaptiveConcurrencyAdmission(int ceiling, TimeProvider time, Action<string, int, int>? onChange = null)
    {
        _ceiling = ceiling;
        _time = time;
        _onChange = onChange;
    }

    public ValueTask<IAdmissionTicket> AdmitAsync(string host, CancellationToken cancellationToken) =>
        _hosts.GetOrAdd(host, name => new HostLimiter(this, name)).AdmitAsync(cancellationToken);

    public LimitReport Report()
    {
        var busiest = _hosts.Values.OrderByDescending(host => host.Admitted).FirstOrDefault();
        return busiest?.Report() ?? new LimitReport(Math.Min(_ceiling, AdaptiveLimit.InitialLimit), Math.Min(_ceiling, AdaptiveLimit.InitialLimit), Math.Min(_ceiling, AdaptiveLimit.InitialLimit), _ceiling);
    }

    public void Dispose()
    {
    }

    private sealed class HostLimiter
    {
        private readonly AdaptiveConcurrencyAdmission _owner;
        private readonly string _host;
        private readonly AdaptiveLimit _limit;
        private readonly LinkedList<TaskCompletionSource<IAdmissionTicket>> _waiting = new();
        private int _inFlight;
        private long _admitted;

        public HostLimiter(AdaptiveConcurrencyAdmission owner, string host)
        {
            _owner = owner;
            _host = host;
            _limit = new AdaptiveLimit(owner._ceiling, owner._time);
        }

        public long Admitted => Interlocked.Read(ref _admitted);

        public LimitReport Report()
        {
            lock (_limit)
            {
                return new LimitReport(_limit.Limit, _limit.Lowest, _limit.Highest, _owner._ceiling);
            }
        }

        public ValueTask<IAdmissionTicket> AdmitAsync(CancellationToken cancellationToken)
        {
            TaskCompletionSource<IAdmissionTicket> waiter;
            LinkedListNode<TaskCompletionSource<IAdmissionTicket>> node;
            lock (_limit)
            {
                if (_waiting.Count == 0 && _inFlight < _limit.Limit)
                {
                    return new ValueTask<IAdmissionTicket>(Take());
                }

                waiter = new TaskCompletionSource<IAdmissionTicket>(TaskCreationOptions.RunContinuationsAsynchronously);
                node = _waiting.AddLast(waiter);
            }

            return new ValueTask<IAdmissionTicket>(WaitAsync(waiter, node, cancellationToken));
        }

        private async Task<IAdmissionTicket> WaitAsync(
            TaskCompletionSource<IAdmissionTicket> waiter,
            LinkedListNode<TaskCompletionSource<IAdmissionTicket>> node,
            CancellationToken cancellationToken)
        {
            // A cancelled wait leaves the queue; a slot granted in the same instant goes back through Release.
            await using var registration = cancellationToken.Register(() =>
            {
                lock (_limit)
                {
                    if (node.List is not null)
                    {
                        _waiting.Remove(node);
                    }
                }

                waiter.TrySetCanceled(cancellationToken);
            });
            return await waiter.Task.ConfigureAwait(false);
        }

        // Under the lock: one more in flight, with the epoch and load it was admitted at.
        private Ticket Take()
        {
            _inFlight++;
            Interlocked.Increment(ref _admitted);
            return new Ticket(this, _limit.Epoch, _inFlight);
        }

        private void Learn(AttemptFeedback feedback, long epoch, int inFlightAtAdmission)
        {
            int previous, current;
            bool changed;
            lock (_limit)
            {
                // The limit was in use if it was when the attempt started or is now, as it ends (itself still
                // counted): the first attempts of a batch start almost alone, yet the slots fill behind them, and
                // judged by their start alone slow start took the limit from 8 to about 18 in its first round, not 24.
                previous = _limit.Limit;
                changed = _limit.Learn(feedback, epoch, Math.Max(inFlightAtAdmission, _inFlight));
                current = _limit.Limit;
                ServeWaiting();
            }

            if (changed)
            {
                _owner._onChange?.Invoke(_host, previous, current);
            }
        }

        private void Release()
        {
            lock (_limit)
            {
                _inFlight--;
                ServeWaiting();
            }
        }

        // Under the lock: hands free slots to the oldest waiters; a waiter already cancelled gives its slot on.
        private void ServeWaiting()
        {
            while (_inFlight < _limit.Limit && _waiting.First is { } first)
            {
                _waiting.RemoveFirst();
                var ticket = Take();
                if (!first.Value.TrySetResult(ticket))
                {
                    _inFlight--;
                }
            }
        }

        private sealed class Ticket : IAdmissionTicket
        {
            private readonly HostLimiter _host;
            private readonly long _epoch;
            private readonly int _inFlight;
            private int _released;

            public Ticket(HostLimiter host, long epoch, int inFlight)
            {
                _host = host;
                _epoch = epoch;
                _inFlight = inFlight;
            }

            public void Complete(AttemptFeedback feedback) => _host.Learn(feedback, _epoch, _inFlight);

            public void Dispose()
            {
                if (Interlocked.Exchange(ref _released, 1) == 0)
                {
                    _host.Release();
                }
            }
        }
    }
}
