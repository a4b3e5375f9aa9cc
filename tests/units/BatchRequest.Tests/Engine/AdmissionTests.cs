using BatchRequest.Engine.Admission;
using Microsoft.Extensions.Time.Testing;

namespace BatchRequest.Tests.Engine;

/// <summary>The admission parts on a fake clock: the adaptive limit's arithmetic, its enforcer, the pacer.</summary>
public sealed class AdmissionTests
{
    private static readonly TimeSpan Rtt = TimeSpan.FromMilliseconds(50);

    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);

    [Fact]
    public void AdaptiveLimit_GoodAnswersAtFullUse_TripleTheLimitEachRoundUntilTheCeiling()
    {
        var limit = new AdaptiveLimit(64, _clock);
        var rounds = new List<int> { limit.Limit };
        while (limit.Limit < 64)
        {
            // One round trip: each slot of the round answers well, and every slot is in use when it is admitted.
            var slots = limit.Limit;
            for (var i = 0; i < slots; i++)
            {
                limit.Learn(Answered(), limit.Epoch, limit.Limit);
            }

            rounds.Add(limit.Limit);
        }

        Assert.Equal([8, 24, 64], rounds);
        Assert.Equal((8, 64), (limit.Lowest, limit.Highest));
    }

    [Fact]
    public void AdaptiveLimit_AnswersWhileMostSlotsIdle_DoNotGrowIt()
    {
        var limit = new AdaptiveLimit(64, _clock);

        for (var i = 0; i < 100; i++)
        {
            limit.Learn(Answered(), limit.Epoch, inFlight: 3);
        }

        Assert.Equal(AdaptiveLimit.InitialLimit, limit.Limit);
    }

    [Theory]
    [InlineData(AttemptSignal.Overloaded)]
    [InlineData(AttemptSignal.Failed)]
    public void AdaptiveLimit_OneOverloadEvent_CutsOnceHoweverManyAttemptsReportIt(AttemptSignal signal)
    {
        var limit = new AdaptiveLimit(64, _clock);
        GrowTo(limit, 24);
        var epoch = limit.Epoch;

        Assert.True(limit.Learn(new AttemptFeedback(signal, Rtt), epoch, 24));
        var afterCut = limit.Limit;
        for (var i = 0; i < 10; i++)
        {
            Assert.False(limit.Learn(new AttemptFeedback(signal, Rtt), epoch, 24));
        }

        Assert.Equal(21, afterCut);
        Assert.Equal(afterCut, limit.Limit);
        Assert.Equal(epoch + 1, limit.Epoch);
    }

    [Fact]
    public void AdaptiveLimit_AfterACut_ClimbsBackAboutOnePerRoundThenProbesPastTheOverloadSlowly()
    {
        var limit = new AdaptiveLimit(64, _clock);
        GrowTo(limit, 11);
        limit.Learn(new AttemptFeedback(AttemptSignal.Overloaded, Rtt), limit.Epoch, 11);
        Assert.Equal(9, limit.Limit);

        var answersBackTo10 = AnswersUntil(limit, 10);
        var answersPast11 = AnswersUntil(limit, 11);

        Assert.InRange(answersBackTo10, 1, 10);
        Assert.InRange(answersPast11, 10 * (int)AdaptiveLimit.ProbeSlowdown - 4, 10 * (int)AdaptiveLimit.ProbeSlowdown + 4);
    }

    [Fact]
    public void AdaptiveLimit_RepeatedOverload_NeverGoesBelowOne()
    {
        var limit = new AdaptiveLimit(64, _clock);

        for (var i = 0; i < 50; i++)
        {
            limit.Learn(new AttemptFeedback(AttemptSignal.Overloaded, Rtt), limit.Epoch, 1);
        }

        Assert.Equal((1, 1), (limit.Limit, limit.Lowest));
    }

    [Fact]
    public void AdaptiveLimit_LatencyTwiceTheLowest_CutsUntilTheFloorIsMeasuredAgain()
    {
        var limit = new AdaptiveLimit(64, _clock);
        for (var i = 0; i < 10; i++)
        {
            limit.Learn(new AttemptFeedback(AttemptSignal.Answered, TimeSpan.FromMilliseconds(50)), limit.Epoch, 1);
        }

        var before = limit.Limit;
        var slow = new AttemptFeedback(AttemptSignal.Answered, TimeSpan.FromMilliseconds(400));
        var cuts = 0;
        for (var i = 0; i < 20; i++)
        {
            cuts += limit.Learn(slow, limit.Epoch, 1) ? 1 : 0;
        }

        Assert.True(cuts > 0 && limit.Limit < before, "Queueing at the server should bring the limit down.");

        // Half a minute on, 400 ms is the new floor for everyone: no longer a sign of this batch's load, so the
        // limit grows again instead of being cut.
        _clock.Advance(AdaptiveLimit.LatencyWindow + TimeSpan.FromSeconds(1));
        limit.Learn(slow, limit.Epoch, limit.Limit);
        var settled = limit.Limit;
        for (var i = 0; i < 20; i++)
        {
            Assert.True(limit.Learn(slow, limit.Epoch, limit.Limit) is var changed && (!changed || limit.Limit > settled));
        }

        Assert.True(limit.Limit > settled);
    }

    [Fact]
    public void AdaptiveLimit_SlowFirstAnswersThenFastOnes_IsNotReadAsQueueing()
    {
        var limit = new AdaptiveLimit(64, _clock);

        // A fresh process: its first answers take long while its code compiles, then the server's own latency shows.
        for (var i = 0; i < 12; i++)
        {
            limit.Learn(new AttemptFeedback(AttemptSignal.Answered, TimeSpan.FromMilliseconds(400)), limit.Epoch, limit.Limit);
        }

        var cutsAfterwards = 0;
        for (var i = 0; i < 30; i++)
        {
            var epoch = limit.Epoch;
            limit.Learn(new AttemptFeedback(AttemptSignal.Answered, TimeSpan.FromMilliseconds(50)), epoch, limit.Limit);
            cutsAfterwards += limit.Epoch != epoch ? 1 : 0;
        }

        Assert.Equal(0, cutsAfterwards);
        Assert.Equal(64, limit.Limit);
    }

    [Fact]
    public async Task AdaptiveAdmission_AtTheLimit_HoldsTheNextUntilASlotFreesAndServesInOrder()
    {
        using var admission = new AdaptiveConcurrencyAdmission(2, _clock);
        var first = await admission.AdmitAsync("api", CancellationToken.None);
        var second = await admission.AdmitAsync("api", CancellationToken.None);
        var third = admission.AdmitAsync("api", CancellationToken.None).AsTask();
        var fourth = admission.AdmitAsync("api", CancellationToken.None).AsTask();
        var otherHost = admission.AdmitAsync("other", CancellationToken.None);

        Assert.True(otherHost.IsCompleted);
        Assert.False(third.IsCompleted);
        first.Complete(Answered());
        first.Dispose();
        (await third.WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
        Assert.False(fourth.IsCompleted);
        second.Dispose();
        (await fourth.WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
        Assert.Equal(new LimitReport(2, 2, 2, 2), admission.Report());
    }

    [Fact]
    public async Task AdaptiveAdmission_FirstAttemptsStartAloneAsTheSlotsFill_EachGoodAnswerStillGrowsTheLimit()
    {
        using var admission = new AdaptiveConcurrencyAdmission(64, _clock);
        var tickets = new List<IAdmissionTicket>();
        for (var i = 0; i < AdaptiveLimit.InitialLimit; i++)
        {
            tickets.Add(await admission.AdmitAsync("api", CancellationToken.None));
        }

        // The rest of the batch waits; each slot the limit gains goes to the next of them at once.
        var waiting = Enumerable.Range(0, 100).Select(_ => admission.AdmitAsync("api", CancellationToken.None).AsTask()).ToList();

        // The first ones were admitted with one, two, three in flight, but all of the slots are in use when they answer.
        foreach (var ticket in tickets)
        {
            ticket.Complete(Answered());
        }

        Assert.Equal(3 * AdaptiveLimit.InitialLimit, admission.Report().Current);
        tickets.ForEach(ticket => ticket.Dispose());
        foreach (var next in waiting)
        {
            (await next.WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
        }
    }

    [Fact]
    public async Task AdaptiveAdmission_AFewRecordsWithNothingBehindThem_DoNotGrowTheLimit()
    {
        using var admission = new AdaptiveConcurrencyAdmission(64, _clock);
        var tickets = new List<IAdmissionTicket>();
        for (var i = 0; i < 3; i++)
        {
            tickets.Add(await admission.AdmitAsync("api", CancellationToken.None));
        }

        // Three of eight slots in use at every start and every end: the limit was never what held the batch back.
        foreach (var ticket in tickets)
        {
            ticket.Complete(Answered());
            ticket.Dispose();
        }

        Assert.Equal(AdaptiveLimit.InitialLimit, admission.Report().Current);
    }

    [Fact]
    public async Task AdaptiveAdmission_WaitCancelled_TakesNoSlot()
    {
        using var admission = new AdaptiveConcurrencyAdmission(1, _clock);
        using var stop = new CancellationTokenSource();
        var held = await admission.AdmitAsync("api", CancellationToken.None);
        var cancelled = admission.AdmitAsync("api", stop.Token).AsTask();
        var next = admission.AdmitAsync("api", CancellationToken.None).AsTask();

        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        held.Dispose();

        (await next.WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
    }

    [Fact]
    public async Task RateAdmission_StartsInARow_AreSpacedByTheIntervalWithoutABurst()
    {
        // The clock moves only once the waiter's timer exists: the third start makes its own after the second has
        // gone, on another thread, and a move before that would not count for it.
        var clock = new WatchedClock();
        using var rate = new RateAdmission(10, clock);
        var interval = TimeSpan.FromSeconds(1.02 / 10);

        await rate.AdmitAsync("api", CancellationToken.None);
        var second = rate.AdmitAsync("api", CancellationToken.None).AsTask();
        var third = rate.AdmitAsync("api", CancellationToken.None).AsTask();

        Assert.Equal(interval, await clock.NextTimerAsync());
        clock.Advance(interval - TimeSpan.FromMilliseconds(1));
        await Task.Yield();
        Assert.False(second.IsCompleted);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        await second.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.False(third.IsCompleted);
        Assert.Equal(interval, await clock.NextTimerAsync());
        clock.Advance(interval);
        await third.WaitAsync(TimeSpan.FromSeconds(5));
    }

    private static AttemptFeedback Answered() => new(AttemptSignal.Answered, Rtt);

    private static void GrowTo(AdaptiveLimit limit, int target)
    {
        while (limit.Limit < target)
        {
            limit.Learn(Answered(), limit.Epoch, limit.Limit);
        }

        // Growth in slow start comes in steps of two: cut back to the target when it overshot.
        while (limit.Limit > target)
        {
            limit.Learn(new AttemptFeedback(AttemptSignal.Overloaded, Rtt), limit.Epoch, limit.Limit);
        }
    }

    private static int AnswersUntil(AdaptiveLimit limit, int target)
    {
        var answers = 0;
        while (limit.Limit < target)
        {
            limit.Learn(Answered(), limit.Epoch, limit.Limit);
            answers++;
        }

        return answers;
    }
}
