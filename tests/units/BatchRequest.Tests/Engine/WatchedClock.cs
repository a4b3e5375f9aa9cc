using Microsoft.Extensions.Time.Testing;

namespace BatchRequest.Tests.Engine;

/// <summary>A fake clock that counts the timers made on it and those that fired: signals to wait on instead of sleeping.</summary>
internal sealed class WatchedClock : FakeTimeProvider
{
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
        return base.CreateTimer(
            value =>
            {
                Interlocked.Increment(ref _fired);
                callback(value);
            },
            state,
            dueTime,
            period);
    }
}
