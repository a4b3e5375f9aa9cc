using System;
using System.Collections.Generic;

namespace BatchRequest.Engine.Report;

/// <summary>
/// What happened when over a batch, in at most <see cref="Capacity"/> buckets of equal width: 100 ms wide at
/// first, twice as wide (two neighbours merged) whenever the batch outgrows them, so a day-long batch costs what a
/// minute-long one does. Times before the origin count in the first bucket.
/// </summary>
internal sealed class Timeline
{
    /// <summary>Buckets at most: enough points for a chart as wide as a page, and a small file.</summary>
    public const int Capacity = 512;

    /// <summary>Hosts whose concurrency limit gets a line of its own; the chart stays readable.</summary>
    public const int MaxLimitHosts = 4;

    private readonly long[] _completions = new long[Capacity];
    private readonly long[] _failures = new long[Capacity];
    private readonly long[] _retries = new long[Capacity];

    // Time integrals in ticks: busy is the sum of the records in flight, paused the sum of the hosts paused.
    private readonly double[] _busy = new double[Capacity];
    private readonly double[] _paused = new double[Capacity];

    // The limit of each host at the end of a bucket, zero where it did not change.
    private readonly int[][] _limits = new int[MaxLimitHosts][];
    private readonly List<(string Host, int Initial)> _limitHosts = new();
    private DateTimeOffset? _origin;
    private DateTimeOffset _latest;
    private long _width = TimeSpan.TicksPerSecond / 10;
    private int _count;

    /// <summary>The start of the first bucket, or null before anything was added.</summary>
    public DateTimeOffset? Origin => _origin;

    public TimeSpan BucketWidth => TimeSpan.FromTicks(_width);

    /// <summary>Fixes the start of the timeline at the first time given.</summary>
    public void Begin(DateTimeOffset time)
    {
        _origin ??= time;
        Touch(time);
    }

    public void Completion(DateTimeOffset time, bool failed)
    {
        var index = IndexOf(time);
        _completions[index]++;
        if (failed)
        {
            _failures[index]++;
        }
    }

    public void Retry(DateTimeOffset time, long count = 1) => _retries[IndexOf(time)] += count;

    /// <summary>A record was in flight from <paramref name="start"/> to <paramref name="end"/>.</summary>
    public void InFlight(DateTimeOffset start, DateTimeOffset end) => Spread(_busy, start, end);

    /// <summary>A host was paused from <paramref name="start"/> to <paramref name="end"/>.</summary>
    public void Paused(DateTimeOffset start, DateTimeOffset end) => Spread(_paused, start, end);

    public void Limit(string host, DateTimeOffset time, int previous, int current)
    {
        var line = _limitHosts.FindIndex(known => string.Equals(known.Host, host, StringComparison.OrdinalIgnoreCase));
        if (line < 0)
        {
            if (_limitHosts.Count == MaxLimitHosts)
            {
                return;
            }

            line = _limitHosts.Count;
            _limitHosts.Add((host, previous));
            _limits[line] = new int[Capacity];
        }

        _limits[line][IndexOf(time)] = current;
    }

    /// <summary>The buckets in use, each with its start and the length it covers (the last one only to the latest time).</summary>
    public IReadOnlyList<TimelinePoint> Points()
    {
        var points = new List<TimelinePoint>(_count);
        if (_origin is not { } origin)
        {
            return points;
        }

        var limits = new int[_limitHosts.Count];
        for (var line = 0; line < limits.Length; line++)
        {
            limits[line] = _limitHosts[line].Initial;
        }

        for (var index = 0; index < _count; index++)
        {
            var start = origin + TimeSpan.FromTicks(index * _width);
            var span = index == _count - 1 ? Math.Clamp((_latest - start).Ticks, TimeSpan.TicksPerMillisecond, _width) : _width;
            for (var line = 0; line < limits.Length; line++)
            {
                limits[line] = _limits[line][index] is var value and > 0 ? value : limits[line];
            }

            points.Add(new TimelinePoint(
                start,
                TimeSpan.FromTicks(span),
                _completions[index],
                _failures[index],
                _retries[index],
                _busy[index] / span,
                _paused[index] / span,
                (int[])limits.Clone()));
        }

        return points;
    }

    /// <summary>The hosts of the limit lines, in the order of <see cref="TimelinePoint.Limits"/>.</summary>
    public IEnumerable<string> LimitHosts()
    {
        foreach (var (host, _) in _limitHosts)
        {
            yield return host;
        }
    }

    private void Spread(double[] integral, DateTimeOffset start, DateTimeOffset end)
    {
        if (end <= start || _origin is not { } origin)
        {
            return;
        }

        // The end first: it may widen the buckets, and the start's index must be taken in the final width.
        var last = IndexOf(end);
        var first = IndexOf(start);
        var from = Math.Max(0, (start - origin).Ticks);
        var to = (end - origin).Ticks;
        for (var index = first; index <= last; index++)
        {
            var bucketStart = index * _width;
            var overlap = Math.Min(to, bucketStart + _width) - Math.Max(from, bucketStart);
            if (overlap > 0)
            {
                integral[index] += overlap;
            }
        }
    }

    private int IndexOf(DateTimeOffset time)
    {
        Touch(time);
        var ticks = Math.Max(0, (time - _origin!.Value).Ticks);
        while (ticks / _width >= Capacity)
        {
            Coarsen();
        }

        var index = (int)(ticks / _width);
        _count = Math.Max(_count, index + 1);
        return index;
    }

    private void Touch(DateTimeOffset time)
    {
        _origin ??= time;
        if (time > _latest)
        {
            _latest = time;
        }
    }

    // Each pair of neighbours becomes one bucket twice as wide.
    private void Coarsen()
    {
        for (var index = 0; index < Capacity / 2; index++)
        {
            _completions[index] = _completions[2 * index] + _completions[(2 * index) + 1];
            _failures[index] = _failures[2 * index] + _failures[(2 * index) + 1];
            _retries[index] = _retries[2 * index] + _retries[(2 * index) + 1];
            _busy[index] = _busy[2 * index] + _busy[(2 * index) + 1];
            _paused[index] = _paused[2 * index] + _paused[(2 * index) + 1];
            foreach (var limits in _limits)
            {
                if (limits is not null)
                {
                    limits[index] = limits[(2 * index) + 1] > 0 ? limits[(2 * index) + 1] : limits[2 * index];
                }
            }
        }

        foreach (var array in new Array?[] { _completions, _failures, _retries, _busy, _paused })
        {
            Array.Clear(array!, Capacity / 2, Capacity / 2);
        }

        foreach (var limits in _limits)
        {
            if (limits is not null)
            {
                Array.Clear(limits, Capacity / 2, Capacity / 2);
            }
        }

        _width *= 2;
        _count = (_count + 1) / 2;
    }
}

/// <summary>One bucket of a <see cref="Timeline"/>, as rates and averages.</summary>
/// <param name="InFlight">Records in flight on average over the bucket.</param>
/// <param name="HostsPaused">Hosts paused by Retry-After on average over the bucket (0 to 1 for one host).</param>
/// <param name="Limits">Each limit host's concurrency limit at the bucket's end.</param>
internal sealed record TimelinePoint(
    DateTimeOffset Start,
    TimeSpan Span,
    long Completions,
    long Failures,
    long Retries,
    double InFlight,
    double HostsPaused,
    int[] Limits)
{
    public DateTimeOffset Middle => Start + (Span / 2);

    public double PerSecond(long count) => count / Span.TotalSeconds;
}
