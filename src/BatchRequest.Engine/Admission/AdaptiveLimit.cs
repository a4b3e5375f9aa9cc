using System;

namespace BatchRequest.Engine.Admission;

/// <summary>
/// The concurrency limit of one host, found as it goes: fed how each attempt ended, asked what the limit is now.
/// Not thread-safe; <see cref="AdaptiveConcurrencyAdmission"/> holds its lock around every call.
/// </summary>
/// <remarks>
/// Additive increase, multiplicative decrease, as TCP congestion control and Netflix's AIMD limit do:
/// <list type="bullet">
/// <item>Slow start: from <see cref="InitialLimit"/>, each good answer adds <see cref="SlowStartGrowth"/>, so the limit
/// triples every round trip until the first sign of overload.</item>
/// <item>Then each good answer adds 1/limit, about one more slot per round trip, back up to the limit at which the host
/// last said it was overloaded; past that, <see cref="ProbeSlowdown"/> times slower, so the host turns few away.</item>
/// <item>An overload signal (429, 503, a refusal while the host answers others, a timeout) or latency risen above
/// <see cref="LatencyTolerance"/> times the lowest seen multiplies the limit by <see cref="BackoffRatio"/> (or takes one
/// slot, whichever is more). Attempts
/// admitted before that cut are one event: they cut the limit once, not once each.</item>
/// <item>The limit grows only while it is used (half of it in flight when an attempt starts or ends), and stays between 1 and the ceiling.</item>
/// </list>
/// </remarks>
public sealed class AdaptiveLimit
{
    /// <summary>The limit in force before anything is known, when the ceiling is higher.</summary>
    public const int InitialLimit = 8;

    /// <summary>What each good answer adds while in slow start.</summary>
    public const double SlowStartGrowth = 2;

    /// <summary>What an overload signal leaves of the limit; at least one slot goes.</summary>
    public const double BackoffRatio = 0.9;

    /// <summary>How much slower the limit grows past the level at which the host last said it was overloaded.</summary>
    public const double ProbeSlowdown = 4;

    /// <summary>Latency above this multiple of the lowest seen reads as queueing at the server.</summary>
    public const double LatencyTolerance = 2.0;

    /// <summary>Latency changes smaller than this are noise, however large a multiple they are.</summary>
    public static readonly TimeSpan LatencyNoise = TimeSpan.FromMilliseconds(20);

    /// <summary>How long the lowest latency is trusted before it is measured again, so a host that got slower for everyone is not read as overloaded forever.</summary>
    public static readonly TimeSpan LatencyWindow = TimeSpan.FromSeconds(30);

    // Answers it takes before latency is judged: the first few after a start are not yet representative.
    private const int LatencySamples = 10;
    private const double SmoothingFactor = 0.2;

    private readonly int _ceiling;
    private readonly TimeProvider _time;
    private double _limit;
    private double _slowStartThreshold = double.PositiveInfinity;
    private double _overloadedAt = double.PositiveInfinity;
    private double _smoothedMilliseconds;
    private double _lowestMilliseconds = double.PositiveInfinity;
    private DateTimeOffset _lowestSince;
    private int _samples;

    /// <param name="ceiling">The most the limit may reach: -ThrottleLimit.</param>
    /// <param name="time">Clock that ages the lowest latency.</param>
    public AdaptiveLimit(int ceiling, TimeProvider time)
    {
        if (ceiling < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ceiling), ceiling, null);
        }

        _ceiling = ceiling;
        _time = time;
        _limit = Math.Min(ceiling, InitialLimit);
        _lowestSince = time.GetUtcNow();
        Lowest = Highest = Limit;
    }

    /// <summary>Attempts that may be in flight now.</summary>
    public int Limit => Math.Clamp((int)Math.Floor(_limit), 1, _ceiling);

    /// <summary>The lowest limit in force so far.</summary>
    public int Lowest { get; private set; }

    /// <summary>The highest limit in force so far.</summary>
    public int Highest { get; private set; }

    /// <summary>Counts the cuts; an attempt admitted in an earlier epoch cannot cut again.</summary>
    public long Epoch { get; private set; }

    /// <summary>Learns from one attempt; true when that changed <see cref="Limit"/>.</summary>
    /// <param name="feedback">How the attempt ended.</param>
    /// <param name="epochAtAdmission"><see cref="Epoch"/> when the attempt was admitted.</param>
    /// <param name="inFlight">Attempts in flight while it was: the more of those at its admission and at its end, itself included.</param>
    public bool Learn(AttemptFeedback feedback, long epochAtAdmission, int inFlight)
    {
        var before = Limit;
        switch (feedback.Signal)
        {
            case AttemptSignal.Overloaded or AttemptSignal.Failed:
                Cut(epochAtAdmission);
                break;
            case AttemptSignal.Answered when LatencyRose(feedback.Latency):
                Cut(epochAtAdmission);
                break;
            case AttemptSignal.Answered when 2 * inFlight >= _limit:
                _limit = Math.Min(_ceiling, _limit + Growth());
                break;
        }

        var after = Limit;
        Lowest = Math.Min(Lowest, after);
        Highest = Math.Max(Highest, after);
        return after != before;
    }

    private double Growth() =>
        _limit < _slowStartThreshold ? SlowStartGrowth
        : _limit + 1 < _overloadedAt ? 1 / _limit
        : 1 / (_limit * ProbeSlowdown);

    private void Cut(long epochAtAdmission)
    {
        if (epochAtAdmission != Epoch)
        {
            return;
        }

        _overloadedAt = _limit;
        _limit = Math.Max(1, Math.Min(_limit * BackoffRatio, _limit - 1));
        _slowStartThreshold = _limit;
        Epoch++;
    }

    private bool LatencyRose(TimeSpan latency)
    {
        var milliseconds = latency.TotalMilliseconds;
        var now = _time.GetUtcNow();
        if (now - _lowestSince > LatencyWindow)
        {
            // Measure the floor again: what was lowest half a minute ago may no longer be possible for anyone.
            _lowestMilliseconds = _smoothedMilliseconds > 0 ? _smoothedMilliseconds : milliseconds;
            _lowestSince = now;
        }

        if (milliseconds < _lowestMilliseconds)
        {
            // A new floor starts the average afresh: the slow first answers of a fresh process (its code still being
            // compiled) say nothing about the server's queue.
            _lowestMilliseconds = milliseconds;
            _lowestSince = now;
            _smoothedMilliseconds = milliseconds;
        }

        _smoothedMilliseconds = _samples == 0 ? milliseconds : _smoothedMilliseconds + SmoothingFactor * (milliseconds - _smoothedMilliseconds);
        _samples++;
        var allowed = Math.Max(_lowestMilliseconds * LatencyTolerance, _lowestMilliseconds + LatencyNoise.TotalMilliseconds);
        return _samples >= LatencySamples && _smoothedMilliseconds > allowed;
    }
}
