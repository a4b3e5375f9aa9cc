using System;
using System.Threading;

namespace BatchRequest.Bridge;

/// <summary>
/// Wakes the one thread that parks on it; any number of threads may ring it at once. Only the first ring after
/// a park signals: a burst of results costs one wake-up, where <see cref="ManualResetEventSlim.Set()"/> takes its
/// lock for every ring while a waiter exists, and forty workers ringing meet the waking thread on that lock.
/// </summary>
internal sealed class WakeSignal
{
    // Never disposed: a worker still finishing may ring it, and it holds no handle unless asked for one.
    private readonly SemaphoreSlim _signal = new(0);
    private int _parked;

    /// <summary>
    /// Announces a park. The caller then looks for work once more and parks only if it finds none, so that work
    /// queued between its last look and the park is not missed.
    /// </summary>
    public void Prepare() => Interlocked.Exchange(ref _parked, 1);

    /// <summary>Waits until rung or until <paramref name="timeout"/>; a ring left over from before may end it early.</summary>
    public void Park(TimeSpan timeout)
    {
        _signal.Wait(timeout);
        Interlocked.Exchange(ref _parked, 0);
    }

    /// <summary>Wakes the parked thread, if there is one; safe from any thread.</summary>
    public void Ring()
    {
        // The exchange is also the fence between the ringer's write of the work and its read of the flag.
        if (Interlocked.Exchange(ref _parked, 0) == 1)
        {
            _signal.Release();
        }
    }
}
