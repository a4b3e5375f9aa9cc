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

        var first = await store.TryAcquireAsync("a", 2, "api:443", null);
        var second = await store.TryAcquireAsync("b", 2, "api:443", null);
        var third = await store.TryAcquireAsync("c", 2, "api:443", null);
        store.Release("a");
        await released.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var fourth = await store.TryAcquireAsync("c", 2, "api:443", null);

        Assert.Equal((true, 1), (first.Granted, first.Held));
        Assert.Equal((true, 2), (second.Granted, second.Held));
        Assert.Equal((false, (TimeSpan?)null), (third.Granted, third.Wait));
        Assert.Equal((true, 2), (fourth.Granted, fourth.Held));
    }

    [Fact]
    public async Task Acquire_AfterALeaseEnded_GrantsItsSlotWithoutAnyRelease()
    {
        using var store = Connect("expiry", "?leaseSec=1");
        Assert.True((await store.TryAcquireAsync("killed", 1, "api:443", null)).Granted);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        // The store's own clock ends the lease: ask until it has.
        AcquireResult again;
        while (!(again = await store.TryAcquireAsync("next", 1, "api:443", null)).Granted)
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
        Assert.True((await store.TryAcquireAsync("live", 1, "api:443", null)).Granted);

        for (var i = 0; i < 5; i++)
        {
            await Task.Delay(300);
            await store.RenewAsync(["live"]);
        }

        // 1.5 s after it was taken a one-second lease lives only because it was renewed.
        Assert.False((await store.TryAcquireAsync("other", 1, "api:443", null)).Granted);
    }

    [Fact]
    public async Task Acquire_WithARate_SpacesTheStartsOnTheStoresClock()
    {
        using var store = Connect("rate");
        var spacing = TimeSpan.FromMilliseconds(100);

        var waits = new List<TimeSpan>();
        for (var i = 0; i < 5; i++)
        {
            waits.Add((await store.TryAcquireAsync($"r{i}", 10, "api:443", spacing)).Wait!.Value);
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
        var paused = await other.TryAcquireAsync("p1", 4, "api:443", null);
        var elsewhere = await other.TryAcquireAsync("p2", 4, "other:443", null);

        Assert.False(paused.Granted);
        Assert.InRange(paused.Wait!.Value, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(5));
        Assert.True(elsewhere.Granted);
    }

    [Fact]
    public async Task ShareLimit_Lower_HoldsEveryParticipantToIt()
    {
        using var store = Connect("limit");
        store.ShareLimit(1);
        await store.RenewAsync([]);

        Assert.True((await store.TryAcquireAsync("l1", 3, "api:443", null)).Granted);
        Assert.False((await store.TryAcquireAsync("l2", 3, "api:443", null)).Granted);
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

    // A quota of its own for each test unless two participants must share one.
    private QuotaStore Connect(string name, string query = "", Action? onReleased = null, bool unique = true) =>
        QuotaStore.Connect(
            QuotaAddress.Parse(_redis.Quota(unique ? name + "-" + Guid.NewGuid().ToString("N")[..8] : name, query)),
            onReleased ?? (() => { }),
            TimeSpan.FromSeconds(5));
}
