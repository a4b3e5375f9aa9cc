using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;

namespace BatchRequest.Engine.Admission;

/// <summary>
/// Holds back every attempt to a host that answered 429 or 503 with Retry-After, so that all workers wait
/// out the server's demand together instead of stampeding back one by one.
/// </summary>
internal sealed class HostPauseGate : IAdmission
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _resumeAt = new(StringComparer.OrdinalIgnoreCase);
    private readonly TimeProvider _time;
    private readonly Action<string, DateTimeOffset>? _onPause;

    /// <param name="onPause">Told (host, resume time) when a host's pause begins or grows; must not block.</param>
    public HostPauseGate(TimeProvider time, Action<string, DateTimeOffset>? onPause = null)
    {
        _time = time;
        _onPause = onPause;
    }

    /// <summary>Extends the host's pause to at least <paramref name="delay"/> from now.</summary>
    public void Pause(string host, TimeSpan delay)
    {
        var until = _time.GetUtcNow() + delay;
        var resumeAt = _resumeAt.AddOrUpdate(host, until, (_, current) => current > until ? current : until);

        // Only a pause this answer made longer is news; one that an earlier answer already covers is not.
        if (resumeAt == until)
        {
            _onPause?.Invoke(host, until);
        }
    }

    /// <summary>Completes when the host may be sent to again.</summary>
    public Task WaitAsync(string host, CancellationToken cancellationToken) =>
        Remaining(host) > TimeSpan.Zero ? WaitOutAsync(host, cancellationToken) : Task.CompletedTask;

    public async ValueTask<IAdmissionTicket> AdmitAsync(string host, CancellationToken cancellationToken)
    {
        await WaitAsync(host, cancellationToken).ConfigureAwait(false);
        return new Ticket(this, host);
    }

    public void Dispose()
    {
    }

    // Looks again after each wait: another answer may have extended the pause meanwhile.
    private async Task WaitOutAsync(string host, CancellationToken cancellationToken)
    {
        TimeSpan remaining;
        while ((remaining = Remaining(host)) > TimeSpan.Zero)
        {
            // Whole milliseconds: a delay shorter than one ends at once, and the loop would spin until the pause ends.
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(remaining.TotalMilliseconds)), _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private TimeSpan Remaining(string host) =>
        _resumeAt.TryGetValue(host, out var until) ? until - _time.GetUtcNow() : TimeSpan.Zero;

    private sealed class Ticket : IAdmissionTicket
    {
        private readonly HostPauseGate _gate;
        private readonly string _host;

        public Ticket(HostPauseGate gate, string host)
        {
            _gate = gate;
            _host = host;
        }

        public void Complete(AttemptFeedback feedback)
        {
            if (feedback.RetryAfter is { } wait)
            {
                _gate.Pause(_host, wait);
            }
        }

        public void Dispose()
        {
        }
    }
}
