using System;
using System.Threading;
using System.Threading.Tasks;

namespace BatchRequest.Engine.Admission;

/// <summary>
/// -RequestsPerSecond: attempt starts over the whole batch, retries included, spaced at least 1/R apart, one at a
/// time: no burst at all, so a limiter without burst allowance (nginx limit_req burst=0) turns none away. The rate is
/// what the server sees, not what the file holds.
/// </summary>
internal sealed class RateAdmission : IAdmission
{
    // A start that the network delays a little must still arrive after its predecessor's interval at the server.
    private const double Margin = 1.02;

    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _turn = new(1, 1);
    private long? _lastStart;

    public RateAdmission(double requestsPerSecond, TimeProvider time)
    {
        _interval = TimeSpan.FromSeconds(Margin / requestsPerSecond);
        _time = time;
    }

    public async ValueTask<IAdmissionTicket> AdmitAsync(string host, CancellationToken cancellationToken)
    {
        // One waiter at a time measures from the start before it, as it happened: a late wake-up delays the next
        // start instead of bunching two together.
        await _turn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_lastStart is { } last && _interval - _time.GetElapsedTime(last) is var wait && wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
            }

            _lastStart = _time.GetTimestamp();
            return NoTicket.Instance;
        }
        finally
        {
            _turn.Release();
        }
    }

    public void Dispose() => _turn.Dispose();
}
