using BatchRequest.Engine.Admission;
using BatchRequest.Engine.Reporting;
using BatchRequest.Engine.Running;
using BatchRequest.Model.Requests;
using BatchRequest.Model.Results;

namespace BatchRequest.Tests.Engine;

public sealed class ReorderAndPauseTests
{
    [Fact]
    public void ReorderBuffer_OutOfOrderArrivals_ReleasesInSequenceAndHoldsOnlyTheGap()
    {
        var released = new List<string>();
        var buffer = new ReorderBuffer<string>(released.Add);

        buffer.Add(2, "c");
        buffer.Add(1, "b");
        Assert.Empty(released);
        Assert.Equal(2, buffer.Waiting);

        buffer.Add(0, "a");
        buffer.Add(3, "d");

        Assert.Equal(["a", "b", "c", "d"], released);
        Assert.Equal(0, buffer.Waiting);
        Assert.Throws<ArgumentException>(() => buffer.Add(1, "again"));
    }

    [Fact]
    public async Task HostPauseGate_Paused_HoldsThatHostOnlyUntilTheClockPasses()
    {
        var clock = new WatchedClock();
        var gate = new HostPauseGate(clock);
        gate.Pause("api:443", TimeSpan.FromSeconds(5));
        gate.Pause("api:443", TimeSpan.FromSeconds(2));

        var paused = gate.WaitAsync("api:443", CancellationToken.None);
        Assert.True(gate.WaitAsync("other:443", CancellationToken.None).IsCompleted);

        // No timer of the gate was due yet, so nothing can have ended the wait.
        clock.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(0, clock.Fired);
        Assert.False(paused.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(1));
        await paused.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task HostPauseGate_PauseExtendedWhileWaiting_WaitsForTheLaterEnd()
    {
        var clock = new WatchedClock();
        var gate = new HostPauseGate(clock);
        gate.Pause("api:443", TimeSpan.FromSeconds(2));
        var waiting = gate.WaitAsync("api:443", CancellationToken.None);

        gate.Pause("api:443", TimeSpan.FromSeconds(5));
        clock.Advance(TimeSpan.FromSeconds(2));

        // The first wait's timer fired; the gate must wait again, on a new timer for the rest of the pause.
        Assert.Equal(1, clock.Fired);
        Assert.Equal(TimeSpan.FromSeconds(2), await clock.NextTimerAsync());
        Assert.Equal(TimeSpan.FromSeconds(3), await clock.NextTimerAsync());
        Assert.False(waiting.IsCompleted);

        clock.Advance(TimeSpan.FromSeconds(3));
        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void SummaryBuilder_MixedResults_CountsAndPercentiles()
    {
        var builder = new SummaryBuilder();
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        for (var i = 1; i <= 100; i++)
        {
            var record = new RequestRecord($"r{i}", "GET", new Uri("http://h/"));
            builder.Add(new BatchResult(record, i <= 90 ? BatchStatus.Succeeded : BatchStatus.Failed)
            {
                StatusCode = i <= 90 ? 200 : 503,
                Attempts = i <= 90 ? 1 : 4,
                StartTime = start,
                Duration = TimeSpan.FromMilliseconds(i * 10),
            });
        }

        var summary = builder.Build();

        Assert.Equal((100L, 90L, 10L, 30L), (summary.Total, summary.Succeeded, summary.Failed, summary.Retries));
        Assert.Equal(90, summary.ByStatusCode[200]);
        Assert.Equal(10, summary.ByStatusCode[503]);
        AssertWithinHistogramError(TimeSpan.FromMilliseconds(500), summary.LatencyP50);
        AssertWithinHistogramError(TimeSpan.FromMilliseconds(950), summary.LatencyP95);
        AssertWithinHistogramError(TimeSpan.FromMilliseconds(990), summary.LatencyP99);
        Assert.Equal(TimeSpan.FromSeconds(1), summary.Elapsed);
        Assert.Equal(100, summary.RecordsPerSecond, precision: 6);
    }

    [Fact]
    public void SummaryBuilder_StatusCodesOutsideThreeDigits_CountedAndListedInOrder()
    {
        var builder = new SummaryBuilder();
        var record = new RequestRecord("r", "GET", new Uri("http://h/"));
        foreach (var code in new[] { 503, 1234, 200, -7, 200, 99, 1234 })
        {
            builder.Add(new BatchResult(record, BatchStatus.Failed) { StatusCode = code, Attempts = 1 });
        }

        builder.Add(new BatchResult(record, BatchStatus.NotSent));
        var summary = builder.Build();

        Assert.Equal([-7, 99, 200, 503, 1234], summary.ByStatusCode.Keys);
        Assert.Equal([1L, 1, 2, 1, 2], summary.ByStatusCode.Values);
        Assert.Equal((8L, 7L, 1L), (summary.Total, summary.Failed, summary.NotSent));
        Assert.Equal(["Failed", "NotSent"], summary.ByStatus.Keys);
    }

    [Fact]
    public void LatencyHistogram_RandomDurations_PercentilesWithinTheDocumentedError()
    {
        var random = new Random(5);
        var durations = Enumerable.Range(0, 50_000).Select(_ => TimeSpan.FromTicks((long)(Math.Exp(random.NextDouble() * 16) * 10))).ToList();
        var histogram = new LatencyHistogram();
        durations.ForEach(histogram.Add);
        var sorted = durations.Select(d => d.Ticks / 10 * 10).OrderBy(t => t).ToList();

        foreach (var fraction in new[] { 0.01, 0.5, 0.9, 0.95, 0.99, 1.0 })
        {
            var exact = TimeSpan.FromTicks(sorted[(int)Math.Ceiling(fraction * sorted.Count) - 1]);
            AssertWithinHistogramError(exact, histogram.Percentile(fraction));
        }

        Assert.Equal(TimeSpan.Zero, new LatencyHistogram().Percentile(0.5));
    }

    // Half a bucket of 1/128 of a power of two, plus the microsecond the histogram counts in.
    private static void AssertWithinHistogramError(TimeSpan expected, TimeSpan actual) =>
        Assert.InRange(actual.Ticks, (expected.Ticks * 0.996) - 10, (expected.Ticks * 1.004) + 10);
}
