using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace BatchRequest.Tests.Engine;

/// <summary>A fake clock that counts the timers made on it and those that fired: signals to wait on instead of sleeping.</summary>
internal sealed class WatchedClock : FakeTimeProvider
{
    private readonly Channel<TimeSpan> _made = Channel.CreateUnbounded<TimeSpan>();
    private int _created;
    private int _fired;

    public WatchedClock()
        : base(DateTimeOffset.UtcNow)
    {
    }

    public int Created => Volatile.Read(ref _created);

    public int Fired => Volatile.Read(ref _fired);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        Interlocked.Increment(ref _created);
        var timer = base.CreateTimer(
            value =>
            {
                Interlocked.Increment(ref _fired);
                callback(value);
            },
            state,
            dueTime,
            period);
        _made.Writer.TryWrite(dueTime);
        return timer;
    }

    /// <summary>
    /// The due time of the next timer made on this clock, once it exists (fails after 10 s of real time). Moving the
    /// clock only then loses no step to a timer made just after a move; due timers fire inside Advance.
    /// </summary>
    public async Task<TimeSpan> NextTimerAsync() =>
        await _made.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
}
