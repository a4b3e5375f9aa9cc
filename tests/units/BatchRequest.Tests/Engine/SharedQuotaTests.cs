using BatchRequest.Engine.Admission;
using BatchRequest.Engine.SharedQuota;
using Microsoft.Extensions.Time.Testing;

namespace BatchRequest.Tests.Engine;

/// <summary>The quota's address, its lease arithmetic on a fake clock, and its scripts' effects on a real redis-server.</summary>
public sealed class SharedQuotaTests : IClassFixture<RedisFixture>
{
    private readonly RedisFixture _redis;

    public SharedQuotaTests(RedisFixture redis) => _redis = redis;

    [Theory]
    [InlineData("redis://127.0.0.1:6380/orders", "127.0.0.1", 6380, 0, "orders", false)]
    [InlineData("redis://quota.example/3/orders-api", "quota.example", 6379, 3, "orders-api", false)]
    [InlineData("rediss://quota.example:6390/orders.v2", "quota.example", 6390, 0, "orders.v2", true)]
    public void Parse_Address_ReadsItsParts(string text, string host, int port, int database, string name, bool tls)
    {
        var address = QuotaAddress.Parse(text);

        Assert.Equal((host, port, database, name, tls), (address.Host, address.Port, address.Database, address.Name, address.Tls));
        Assert.Equal((QuotaAddress.DefaultLease, QuotaAddress.DefaultOutage), (address.Lease, address.Outage));
        Assert.Equal("batchrequest:{" + name + "}:", address.KeyPrefix);
    }

    [Fact]
    public void Parse_PasswordAndOptions_AreKeptAndNeverShown()
    {
        var address = QuotaAddress.Parse("redis://app:s3cr3t@127.0.0.1:6380/orders?leaseSec=2&outageSec=0.5");

        Assert.Equal(("app", "s3cr3t"), (address.User, address.Password));
        Assert.Equal((TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(0.5)), (address.Lease, address.Outage));
        Assert.Equal("redis://***@127.0.0.1:6380/0/orders", address.ToString());
        Assert.Equal(("ops", "pw"), (QuotaAddress.Parse("redis://127.0.0.1/q", "ops", "pw").User, QuotaAddress.Parse("redis://127.0.0.1/q", "ops", "pw").Password));
    }

    [Theory]
    [InlineData("http://127.0.0.1/q", SharedQuotaErrorIds.Invalid)]
    [InlineData("redis://127.0.0.1:6379", SharedQuotaErrorIds.Invalid)]
    [InlineData("redis://127.0.0.1/x/y/z", SharedQuotaErrorIds.Invalid)]
    [InlineData("redis://127.0.0.1/q?leaseSec=0.5", SharedQuotaErrorIds.Invalid)]
    [InlineData("redis://127.0.0.1/q?leaseSec=16", SharedQuotaErrorIds.Invalid)]
    [InlineData("redis://127.0.0.1/q?lease=5", SharedQuotaErrorIds.Invalid)]
    [InlineData("redis://:pw-in-uri@127.0.0.1/has space", SharedQuotaErrorIds.Invalid)]
    public void Parse_NotAQuotaAddress_IsRefusedWithoutItsPassword(string text, string errorId)
    {
        var exception = Assert.Throws<SharedQuotaException>(() => QuotaAddress.Parse(text));

        Assert.Equal(errorId, exception.ErrorId);
        Assert.DoesNotContain("pw-in-uri", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_PasswordInTheAddressAndTheCredential_IsRefused()
    {
        var exception = Assert.Throws<SharedQuotaException>(() => QuotaAddress.Parse("redis://:a@127.0.0.1/q", "user", "b"));

        Assert.Equal(SharedQuotaErrorIds.CredentialTwice, exception.ErrorId);
    }

    [Fact]
    public void LeaseTerms_OnAFakeClock_RenewThreeTimesALeaseAndEndTheOutageWaitOnTime()
    {
        var clock = new FakeTimeProvider();
        var terms = new LeaseTerms(TimeSpan.FromSeconds(9), TimeSpan.FromSeconds(30));
        var since = clock.GetTimestamp();

        Assert.Equal(TimeSpan.FromSeconds(3), terms.RenewEvery);
        Assert.False(terms.OutageOver(LeaseTerms.NoOutage, clock.GetTimestamp(), clock));
        clock.Advance(TimeSpan.FromSeconds(29.9));
        Assert.False(terms.OutageOver(since, clock.GetTimestamp(), clock));
        clock.Advance(TimeSpan.FromSeconds(0.1));
        Assert.True(terms.OutageOver(since, clock.GetTimestamp(), clock));
    }

    [Fact]
    public async Task Acquire_UpToTheLimit_GrantsThenRefusesUntilASlotIsReleasedAndAnnounced()
    {
        var released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var store = Connect("slots", onReleased: () => released.TrySetResult());

        var first = await store.TryAcquireAsync(["a"], 2, "api:443", null);
        var second = await store.TryAcquireAsync(["b"], 2, "api:443", null);
        var third = await store.TryAcquireAsync(["c"], 2, "api:443", null);
        store.Release("a");
        await released.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var fourth = await store.TryAcquireAsync(["c"], 2, "api:443", null);

        Assert.Equal((1, 1), (first.Granted, first.Held));
        Assert.Equal((1, 2), (second.Granted, second.Held));
        Assert.Equal((0, (TimeSpan?)null), (third.Granted, third.Paused));
        Assert.Equal((1, 2), (fourth.Granted, fourth.Held));
    }

    [Fact]
    public async Task Acquire_ManyAtOnce_LeasesAsManyAsAreFreeInOrderInOneRoundTrip()
    {
        using var store = Connect("many");
        Assert.Equal(1, (await store.TryAcquireAsync(["held"], 4, "api:443", null)).Granted);
        var before = store.RoundTrips;

        var many = await store.TryAcquireAsync(["m1", "m2", "m3", "m4", "m5"], 4, "api:443", null);
        var asked = store.RoundTrips - before;
        var full = await store.TryAcquireAsync(["m4"], 4, "api:443", null);
        store.Release("m1");
        var freed = await store.TryAcquireAsync(["m4", "m5"], 4, "api:443", null);

        Assert.Equal((3, 4, 1L), (many.Granted, many.Held, asked));
        Assert.All(many.Starts, start => Assert.Equal(TimeSpan.Zero, start));
        Assert.Equal((0, (TimeSpan?)null), (full.Granted, full.Paused));
        Assert.Equal((1, 4), (freed.Granted, freed.Held));
    }

    [Fact]
    public async Task Acquire_ManyWithARate_GivesEachItsOwnStartAndTheNextAskWaitsBehindThem()
    {
        using var store = Connect("many-rate");
        var spacing = TimeSpan.FromMilliseconds(100);

        var many = await store.TryAcquireAsync(["a", "b", "c", "d"], 10, "api:443", spacing);
        var next = await store.TryAcquireAsync(["e"], 10, "api:443", spacing);

        // One script, one clock reading: the starts are exactly the spacing apart.
        Assert.Equal([TimeSpan.Zero, spacing, 2 * spacing, 3 * spacing], many.Starts);
        Assert.InRange(next.Starts[0], TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(400));
    }

    [Fact]
    public async Task Acquire_SlotGivenBackWhileAnotherWaits_GoesToTheOneThatWaitedNotToTheOneThatGaveItBack()
    {
        var name = "turns-" + Guid.NewGuid().ToString("N")[..8];
        using var releases = new SemaphoreSlim(0);
        using var holder = Connect(name, onReleased: () => releases.Release(), unique: false);
        using var waiter = Connect(name, unique: false);
        Assert.Equal(1, (await holder.TryAcquireAsync(["h1"], 1, "api:443", null)).Granted);
        Assert.Equal(0, (await waiter.TryAcquireAsync(["w1"], 1, "api:443", null)).Granted);

        holder.Release("h1");
        var holderAgain = await holder.TryAcquireAsync(["h2"], 1, "api:443", null);
        var waiterTurn = await waiter.TryAcquireAsync(["w1"], 1, "api:443", null);
        waiter.Release("w1");

        // A release is fire-and-forget on its own connection, so the holder's next ask on another connection could
        // overtake it: the holder asks once it has heard of both releases, its own and the waiter's.
        Assert.True(await releases.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.True(await releases.WaitAsync(TimeSpan.FromSeconds(5)));
        var holderTurn = await holder.TryAcquireAsync(["h2"], 1, "api:443", null);

        Assert.Equal((0, 1, 1), (holderAgain.Granted, waiterTurn.Granted, holderTurn.Granted));
    }

    [Fact]
    public async Task Acquire_AfterALeaseEnded_GrantsItsSlotWithoutAnyRelease()
    {
        using var store = Connect("expiry", "?leaseSec=1");
        Assert.Equal(1, (await store.TryAcquireAsync(["killed"], 1, "api:443", null)).Granted);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        // The store's own clock ends the lease: ask until it has.
        AcquireResult again;
        while ((again = await store.TryAcquireAsync(["next"], 1, "api:443", null)).Granted == 0)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), "The lease did not end within 5 s.");
            await Task.Delay(50);
        }

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.8), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Renew_WhileHeld_KeepsTheSlotPastItsFirstLease()
    {
        using var store = Connect("renew", "?leaseSec=1");
        Assert.Equal(1, (await store.TryAcquireAsync(["live"], 1, "api:443", null)).Granted);

        for (var i = 0; i < 5; i++)
        {
            await Task.Delay(300);
            await store.RenewAsync(["live"]);
        }

        // 1.5 s after it was taken a one-second lease lives only because it was renewed.
        Assert.Equal(0, (await store.TryAcquireAsync(["other"], 1, "api:443", null)).Granted);
    }

    [Fact]
    public async Task Acquire_WithARate_SpacesTheStartsOnTheStoresClock()
    {
        using var store = Connect("rate");
        var spacing = TimeSpan.FromMilliseconds(100);

        var waits = new List<TimeSpan>();
        for (var i = 0; i < 5; i++)
        {
            waits.Add((await store.TryAcquireAsync([$"r{i}"], 10, "api:443", spacing)).Starts[0]);
        }

        // Each start 100 ms after the one before, less the time the asking itself took.
        Assert.Equal(TimeSpan.Zero, waits[0]);
        for (var i = 1; i < waits.Count; i++)
        {
            Assert.InRange(waits[i] - waits[i - 1], TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(100));
        }
    }

    [Fact]
    public async Task Pause_OneHost_HoldsItForAllAndLeavesTheOthers()
    {
        var name = "pause-" + Guid.NewGuid().ToString("N")[..8];
        using var store = Connect(name, unique: false);
        using var other = Connect(name, unique: false);

        await store.PauseAsync("api:443", TimeSpan.FromSeconds(5));
        await store.PauseAsync("api:443", TimeSpan.FromSeconds(1));
        var paused = await other.TryAcquireAsync(["p1"], 4, "api:443", null);
        var elsewhere = await other.TryAcquireAsync(["p2"], 4, "other:443", null);

        Assert.Equal(0, paused.Granted);
        Assert.InRange(paused.Paused!.Value, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(5));
        Assert.Equal(1, elsewhere.Granted);
    }

    [Fact]
    public async Task Pause_Lengthened_IsAnnouncedToEveryParticipantAtOnce()
    {
        var name = "announce-" + Guid.NewGuid().ToString("N")[..8];
        var heard = new TaskCompletionSource<(string Host, TimeSpan Left)>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var store = Connect(name, unique: false);
        using var other = QuotaStore.Connect(QuotaAddress.Parse(_redis.Quota(name)), () => { }, TimeSpan.FromSeconds(5), (host, left) => heard.TrySetResult((host, left)));

        await store.PauseAsync("api:443", TimeSpan.FromSeconds(3));
        var (host, left) = await heard.Task.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(("api:443", TimeSpan.FromSeconds(3)), (host, left));
    }

    [Fact]
    public async Task ShareLimit_Lower_HoldsEveryParticipantToIt()
    {
        using var store = Connect("limit");
        store.ShareLimit(1);
        await store.RenewAsync([]);

        Assert.Equal(1, (await store.TryAcquireAsync(["l1"], 3, "api:443", null)).Granted);
        Assert.Equal(0, (await store.TryAcquireAsync(["l2"], 3, "api:443", null)).Granted);
    }

    [Fact]
    public async Task Admission_MoreWorkersThanSlots_AdmitsTheOldestUpToTheLimitAndTheOthersAsSlotsComeBack()
    {
        using var admission = Admit("admit", limit: 3);

        var waits = Enumerable.Range(0, 5).Select(_ => admission.AdmitAsync("api:443", CancellationToken.None).AsTask()).ToList();
        var admitted = await Task.WhenAll(waits.Take(3)).WaitAsync(TimeSpan.FromSeconds(10));
        await Task.Delay(200);
        Assert.False(waits[3].IsCompleted || waits[4].IsCompleted, "More workers than slots were admitted.");

        admitted[0].Dispose();
        var fourth = await waits[3].WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(waits[4].IsCompleted, "One slot given back admitted two workers.");
        admitted[1].Dispose();
        var fifth = await waits[4].WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(3, admission.Report().SlotsHighest);
        foreach (var ticket in new[] { admitted[2], fourth, fifth })
        {
            ticket.Dispose();
        }
    }

    [Fact]
    public async Task Admission_WorkerCanceledWhileWaiting_HoldsNoSlot()
    {
        using var admission = Admit("cancel", limit: 1);
        var held = await admission.AdmitAsync("api:443", CancellationToken.None);
        using var stop = new CancellationTokenSource();

        var waiting = admission.AdmitAsync("api:443", stop.Token).AsTask();
        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        held.Dispose();

        using var next = await admission.AdmitAsync("api:443", CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, admission.Report().SlotsHighest);
    }

    [Fact]
    public async Task Admission_SlotGivenBackWhileAWorkerWaits_PassesToItWithoutARoundTrip()
    {
        using var admission = Admit("hand-over", limit: 1);
        var held = await admission.AdmitAsync("api:443", CancellationToken.None);
        var asked = admission.Report().RoundTrips;
        var waiting = admission.AdmitAsync("api:443", CancellationToken.None).AsTask();
        while (admission.Report().RoundTrips == asked)
        {
            await Task.Delay(5);   // the waiting worker's first ask, answered: every slot is held
        }

        var before = admission.Report().RoundTrips;
        held.Dispose();
        using var next = await waiting.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(before, admission.Report().RoundTrips);
    }

    [Fact]
    public async Task Admission_SlotGivenBackAfterARetryAfter_GoesToTheStoreWhichHoldsTheWaitingWorker()
    {
        using var admission = Admit("paused", limit: 1);
        var held = await admission.AdmitAsync("api:443", CancellationToken.None);
        var waiting = admission.AdmitAsync("api:443", CancellationToken.None).AsTask();
        var clock = System.Diagnostics.Stopwatch.StartNew();

        held.Complete(new AttemptFeedback(AttemptSignal.Overloaded, TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(1)));
        held.Dispose();
        using var next = await waiting.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Connect_NoServer_IsUnavailableAndNamesTheStoreWithoutItsPassword()
    {
        var address = QuotaAddress.Parse($"redis://:pw-secret@127.0.0.1:{_redis.Port + 1}/none");

        var exception = Assert.Throws<SharedQuotaException>(() => QuotaStore.Connect(address, () => { }, TimeSpan.FromSeconds(2)));

        Assert.Equal(SharedQuotaErrorIds.Unavailable, exception.ErrorId);
        Assert.Contains($"redis://***@127.0.0.1:{_redis.Port + 1}/0/none", exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("pw-secret", exception.Message, StringComparison.Ordinal);
    }

    private SharedQuotaAdmission Admit(string name, int limit) =>
        SharedQuotaAdmission.Connect(QuotaAddress.Parse(_redis.Quota(name + "-" + Guid.NewGuid().ToString("N")[..8], "")), limit, null, TimeProvider.System);

    // A quota of its own for each test unless two participants must share one.
    private QuotaStore Connect(string name, string query = "", Action? onReleased = null, bool unique = true) =>
        QuotaStore.Connect(
            QuotaAddress.Parse(_redis.Quota(unique ? name + "-" + Guid.NewGuid().ToString("N")[..8] : name, query)),
            onReleased ?? (() => { }),
            TimeSpan.FromSeconds(5));
}
