using System.Threading;
using System.Threading.Tasks;

namespace BatchRequest.Engine.Admission;

/// <summary>The fixed throttle: at most a set number of attempts in flight, whatever the host says.</summary>
internal sealed class ConcurrencyAdmission : IAdmission, ILimitReporter
{
    private readonly SemaphoreSlim _slots;
    private readonly int _limit;

    public ConcurrencyAdmission(int limit)
    {
        _limit = limit;
        _slots = new SemaphoreSlim(limit, limit);
    }

    public LimitReport Report() => new(_limit, _limit, _limit, _limit);

    public async ValueTask<IAdmissionTicket> AdmitAsync(string host, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Slot(_slots);
    }

    public void Dispose() => _slots.Dispose();

    private sealed class Slot : IAdmissionTicket
    {
        private SemaphoreSlim? _slots;

        public Slot(SemaphoreSlim slots) => _slots = slots;

        public void Complete(AttemptFeedback feedback)
        {
        }

        // Exactly one release, however often a ticket is disposed.
        public void Dispose() => Interlocked.Exchange(ref _slots, null)?.Release();
    }
}
