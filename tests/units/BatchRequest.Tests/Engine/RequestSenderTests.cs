using System.Net;
using System.Net.Sockets;
using BatchRequest.Engine.Admission;
using BatchRequest.Engine.Security;
using BatchRequest.Engine.Sending;
using BatchRequest.Model.Requests;
using BatchRequest.Model.Results;

namespace BatchRequest.Tests.Engine;

[Collection(LoopbackCollection.Name)]
public sealed class RequestSenderTests
{
    private readonly LoopbackFixture _loopback;

    public RequestSenderTests(LoopbackFixture loopback) => _loopback = loopback;

    private static SenderOptions FastRetries() => new()
    {
        RetryInterval = TimeSpan.FromMilliseconds(10),
        MaximumRetryDelay = TimeSpan.FromMilliseconds(50),
    };

    [Fact]
    public async Task Send_503TwiceThenOk_SucceedsOnThirdAttempt()
    {
        using var sender = new RequestSender(FastRetries());
        var result = await sender.SendAsync(Get("flaky/2/503?id=s1"), CancellationToken.None);

        Assert.Equal((BatchStatus.Succeeded, 200, 3), (result.Outcome, result.StatusCode, result.Attempts));
        Assert.Contains("\"attempt\":3", result.Content);
        Assert.Equal(3, _loopback.Server.Stats.Ledger.Count(a => a.Id == "s1"));
    }

    [Fact]
    public async Task WarmUp_ReadsItsCannedAnswer_WithoutOpeningAConnection()
    {
        // A proxy that would see any connection the warm-up opened, named both ways a batch can name one.
        var proxy = new TcpListener(IPAddress.Loopback, 0);
        proxy.Start();
        try
        {
            var accepting = proxy.AcceptSocketAsync();
            var options = new SenderOptions { Proxy = new WebProxy($"http://127.0.0.1:{((IPEndPoint)proxy.LocalEndpoint).Port}") };

            var status = await SendPathWarmUp.RunAsync(options).WaitAsync(TimeSpan.FromSeconds(10));

            Assert.Equal(HttpStatusCode.OK, status);
            Assert.False(accepting.IsCompleted);
        }
        finally
        {
            proxy.Stop();
        }
    }

    [Fact]
    public async Task Send_500Forever_FailsAfterFourAttempts()
    {
        using var sender = new RequestSender(FastRetries());
        var result = await sender.SendAsync(Get("status/500?id=s2"), CancellationToken.None);

        Assert.Equal((BatchStatus.Failed, 500, 4, ErrorKind.HttpStatus), (result.Outcome, result.StatusCode, result.Attempts, result.Kind));
        Assert.Equal(4, _loopback.Server.Stats.Ledger.Count(a => a.Id == "s2"));
    }

    [Theory]
    [InlineData(400)]
    [InlineData(401)]
    [InlineData(404)]
    [InlineData(422)]
    [InlineData(501)]
    public async Task Send_DefiniteClientError_FailsWithoutRetry(int statusCode)
    {
        using var sender = new RequestSender(FastRetries());
        var result = await sender.SendAsync(Get($"status/{statusCode}?id=s3-{statusCode}"), CancellationToken.None);

        Assert.Equal((BatchStatus.Failed, statusCode, 1), (result.Outcome, result.StatusCode, result.Attempts));
    }

    [Fact]
    public async Task Send_Post503WithoutKey_IsNotResent()
    {
        using var sender = new RequestSender(FastRetries());
        var result = await sender.SendAsync(Post("flaky/1/503?id=s4"), CancellationToken.None);

        Assert.Equal((BatchStatus.Failed, 503, 1), (result.Outcome, result.StatusCode, result.Attempts));
    }

    [Fact]
    public async Task Send_Post503WithIdempotencyKey_IsRetriedWithTheSameKey()
    {
        var options = FastRetries();
        options.IdempotencyKeyHeader = "Idempotency-Key";
        using var sender = new RequestSender(options);
        var result = await sender.SendAsync(Post("flaky/2/503?id=s5"), CancellationToken.None);

        Assert.Equal((BatchStatus.Succeeded, 3), (result.Outcome, result.Attempts));
        var keys = _loopback.Server.Stats.Ledger.Where(a => a.Id == "s5").Select(a => a.IdempotencyKey).ToList();
        Assert.Equal(3, keys.Count);
        Assert.Single(keys.Distinct());
        Assert.False(string.IsNullOrEmpty(keys[0]));
    }

    [Fact]
    public async Task Send_ConnectionRefused_RetriesThenFailsAsConnectFailed()
    {
        using var sender = new RequestSender(FastRetries());
        var result = await sender.SendAsync(new RequestRecord("s6", "POST", new Uri($"http://127.0.0.1:{UnusedPort()}/")), CancellationToken.None);

        Assert.Equal((BatchStatus.Failed, ErrorKind.ConnectFailed, 4), (result.Outcome, result.Kind, result.Attempts));
        Assert.Null(result.StatusCode);
    }

    [Fact]
    public async Task Send_RetryAfterLongerThanAllowed_EndsThrottledAtOnce()
    {
        using var sender = new RequestSender(FastRetries());
        var result = await sender.SendAsync(Get("status/429?id=s7&retryAfter=3600"), CancellationToken.None);

        Assert.Equal((BatchStatus.Throttled, ErrorKind.Throttled, 1), (result.Outcome, result.Kind, result.Attempts));
    }

    [Fact]
    public async Task Send_RetryAfterTooLargeForTimeSpan_EndsThrottledAtOnce()
    {
        using var sender = new RequestSender(FastRetries());
        var result = await sender.SendAsync(Get("status/429?id=s7b&retryAfter=99999999999999"), CancellationToken.None);

        Assert.Equal((BatchStatus.Throttled, ErrorKind.Throttled, 1), (result.Outcome, result.Kind, result.Attempts));
    }

    [Fact]
    public async Task Send_RetryAfterBeyondBackoffCap_WaitsWhatTheServerAsked()
    {
        // The fake clock proves the wait without sleeping: nothing is resent until 60 s have "passed".
        var clock = new WatchedClock();
        var options = FastRetries();
        var announced = new TaskCompletionSource<RetryNotice>(TaskCreationOptions.RunContinuationsAsynchronously);
        var admission = new CountingAdmission();
        using var sender = new RequestSender(options, notice => announced.TrySetResult(notice), timeProvider: clock, admission: admission);
        var sending = sender.SendAsync(Get("flaky/1/429?id=s8&retryAfter=60"), CancellationToken.None);

        var retry = await announced.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(TimeSpan.FromSeconds(60), retry.Delay);
        Assert.True(retry.DelayFromServer);

        // One second short of the wait no timer is due, so no retry can have begun.
        var fired = clock.Fired;
        clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(fired, clock.Fired);
        Assert.Equal(1, admission.Admitted);

        clock.Advance(TimeSpan.FromSeconds(1));
        var result = await sending.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((BatchStatus.Succeeded, 2), (result.Outcome, result.Attempts));
        Assert.Equal(2, admission.Admitted);
        Assert.Equal(2, Arrivals("s8").Count);
    }

    [Fact]
    public async Task Send_BackoffDelays_GrowAndStayUnderTheCap()
    {
        // Seeded jitter: the same delays on every run, so the comparison below cannot depend on luck.
        var first = await BackoffDelays("s9", seed: 3);
        var again = await BackoffDelays("s9b", seed: 3);

        Assert.Equal(6, first.Count);
        Assert.Equal(first, again);
        Assert.All(first, d => Assert.InRange(d, TimeSpan.Zero, TimeSpan.FromSeconds(30)));
        Assert.True(first.Skip(3).Average(d => d.TotalSeconds) > first.Take(2).Average(d => d.TotalSeconds));
    }

    private async Task<List<TimeSpan>> BackoffDelays(string id, int seed)
    {
        var clock = new WatchedClock();
        var delays = new List<TimeSpan>();
        var options = new SenderOptions
        {
            RetryInterval = TimeSpan.FromSeconds(1),
            MaximumRetryDelay = TimeSpan.FromSeconds(30),
            MaximumRetryCount = 6,
            Jitter = new Random(seed).NextDouble,
        };
        using var sender = new RequestSender(options, notice => { lock (delays) { delays.Add(notice.Delay); } }, timeProvider: clock);
        var sending = sender.SendAsync(Get($"status/503?id={id}"), CancellationToken.None);

        // Each delay is moved through once the sender waits on it, exactly, so the clock ends where the delays add up.
        for (var retry = 0; retry < options.MaximumRetryCount; retry++)
        {
            var wait = await clock.NextTimerAsync();
            lock (delays)
            {
                AssertTimerFor(delays[retry], wait);
            }

            clock.Advance(wait);
        }

        Assert.Equal(7, (await sending.WaitAsync(TimeSpan.FromSeconds(10))).Attempts);
        return delays;
    }

    [Fact]
    public async Task Send_Stopped_EndsCanceledAndAbortsTheRequest()
    {
        using var sender = new RequestSender(FastRetries());
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var result = await sender.SendAsync(Get("delay/30000?id=s10"), stop.Token);

        Assert.Equal((BatchStatus.Canceled, ErrorKind.Canceled), (result.Outcome, result.Kind));
        Assert.True(result.Duration < TimeSpan.FromSeconds(5));
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("POST")]
    public async Task Send_429WithRetryAfter_WaitsThenRetriesAnyMethodWithOneKey(string method)
    {
        var clock = new WatchedClock();
        var options = FastRetries();
        options.IdempotencyKeyHeader = "Idempotency-Key";
        var notices = new List<RetryNotice>();
        using var sender = new RequestSender(options, notices.Add, timeProvider: clock);
        var id = $"ra-{method}";
        var sending = sender.SendAsync(new RequestRecord(id, method, _loopback.Url($"flaky/1/429?id={id}&retryAfter=1")), CancellationToken.None);

        // The wait starts once the 429 is read and announced; until the clock moves, nothing is resent.
        Assert.Equal(TimeSpan.FromSeconds(1), await clock.NextTimerAsync());
        Assert.Equal((TimeSpan.FromSeconds(1), true), (notices[0].Delay, notices[0].DelayFromServer));
        Assert.Single(Arrivals(id));
        Assert.False(sending.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(1));
        var result = await sending.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal((BatchStatus.Succeeded, 2), (result.Outcome, result.Attempts));
        Assert.True(Assert.Single(notices).DelayFromServer);
        Assert.Single(Arrivals(id).Select(a => a.IdempotencyKey).Distinct());
    }

    [Fact]
    public async Task Send_RetryAfterAsHttpDate_WaitsUntilThatDate()
    {
        // The server writes its own time + 3 s in whole seconds; its time is later than the fake clock's start by at
        // most the real time since then.
        var sinceStart = System.Diagnostics.Stopwatch.StartNew();
        var clock = new WatchedClock();
        var notices = new List<RetryNotice>();
        using var sender = new RequestSender(FastRetries(), notices.Add, timeProvider: clock);
        var sending = sender.SendAsync(Get("flaky/1/503?id=date&retryAfter=date:3"), CancellationToken.None);

        var wait = await clock.NextTimerAsync();
        Assert.True(notices[0].DelayFromServer);
        AssertTimerFor(notices[0].Delay, wait);
        Assert.InRange(wait, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3) + sinceStart.Elapsed);
        var early = wait - TimeSpan.FromMilliseconds(1);
        clock.Advance(early);
        Assert.Equal(1L, sender.WaitingToRetry);

        // To the date itself: the host's pause ends there too, to the tick, not at the timer's whole millisecond.
        clock.Advance(notices[0].Delay - early);

        Assert.Equal(BatchStatus.Succeeded, (await sending.WaitAsync(TimeSpan.FromSeconds(10))).Outcome);
    }

    [Fact]
    public async Task Send_MalformedRetryAfter_FallsBackToBackoffAndRetries()
    {
        var notices = new List<RetryNotice>();
        using var sender = new RequestSender(FastRetries(), notices.Add);
        var result = await sender.SendAsync(Get("flaky/1/429?id=malformed&retryAfter=soon"), CancellationToken.None);

        Assert.Equal((BatchStatus.Succeeded, 2), (result.Outcome, result.Attempts));
        Assert.False(Assert.Single(notices).DelayFromServer);
    }

    [Fact]
    public async Task Send_408ThenOk_Retries()
    {
        using var sender = new RequestSender(FastRetries());
        var result = await sender.SendAsync(Get("flaky/1/408?id=s408"), CancellationToken.None);

        Assert.Equal((BatchStatus.Succeeded, 2), (result.Outcome, result.Attempts));
    }

    [Fact]
    public async Task Send_GetToServerThatNeverAnswers_RetriesThenTimesOut()
    {
        var options = FastRetries();
        options.ConnectionTimeout = TimeSpan.FromMilliseconds(200);
        using var sender = new RequestSender(options);
        var result = await sender.SendAsync(Get("never?id=never-get"), CancellationToken.None);

        Assert.Equal((BatchStatus.Failed, ErrorKind.Timeout, 4), (result.Outcome, result.Kind, result.Attempts));
        Assert.Equal(4, Arrivals("never-get").Count);
    }

    [Fact]
    public async Task Send_PostToServerThatNeverAnswers_IsOutcomeUnknownAfterOneAttempt()
    {
        var options = FastRetries();
        options.ConnectionTimeout = TimeSpan.FromMilliseconds(200);
        using var sender = new RequestSender(options);
        var result = await sender.SendAsync(Post("never?id=never-post"), CancellationToken.None);

        Assert.Equal((BatchStatus.OutcomeUnknown, ErrorKind.Timeout, 1), (result.Outcome, result.Kind, result.Attempts));
        Assert.Single(Arrivals("never-post"));
    }

    [Fact]
    public async Task Send_BodyStallsAfterHeaders_TimesOutInsteadOfHanging()
    {
        var options = FastRetries();
        options.OperationTimeout = TimeSpan.FromMilliseconds(200);
        options.MaximumRetryCount = 1;
        using var sender = new RequestSender(options);
        var result = await sender.SendAsync(Get("stall-body/100?id=stall"), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal((BatchStatus.Failed, ErrorKind.Timeout, 2), (result.Outcome, result.Kind, result.Attempts));
        Assert.Null(result.StatusCode);
    }

    [Fact]
    public async Task Send_GetResetAfterRequestRead_IsRetried()
    {
        using var sender = new RequestSender(FastRetries());
        var result = await sender.SendAsync(Get("reset?id=reset-get"), CancellationToken.None);

        Assert.Equal((BatchStatus.Failed, ErrorKind.ConnectionReset, 4), (result.Outcome, result.Kind, result.Attempts));
        Assert.Equal(4, Arrivals("reset-get").Count);
    }

    [Fact]
    public async Task Send_PostResetAfterRequestRead_IsOutcomeUnknown()
    {
        using var sender = new RequestSender(FastRetries());
        var result = await sender.SendAsync(Post("reset?id=reset-post"), CancellationToken.None);

        Assert.Equal((BatchStatus.OutcomeUnknown, ErrorKind.ConnectionReset, 1), (result.Outcome, result.Kind, result.Attempts));
        Assert.Single(Arrivals("reset-post"));
    }

    [Fact]
    public async Task Send_UnknownHost_IsRetriedAndEndsAsDnsFailure()
    {
        // Name resolution is the one step faked, so that no query leaves the machine.
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = (_, _) => throw new SocketException((int)SocketError.HostNotFound),
        };
        using var sender = new RequestSender(FastRetries(), handler: handler);
        var result = await sender.SendAsync(new RequestRecord("dns", "POST", new Uri("http://no-such-host.invalid/")), CancellationToken.None);

        Assert.Equal((BatchStatus.Failed, ErrorKind.DnsFailure, 4), (result.Outcome, result.Kind, result.Attempts));
    }

    [Fact]
    public async Task Send_RecordBudgetRunsOut_EndsAsTimeout()
    {
        using var sender = new RequestSender(FastRetries());
        var record = new RequestRecord("budget", "GET", _loopback.Url("delay/10000?id=budget")) { Timeout = TimeSpan.FromMilliseconds(300) };
        var result = await sender.SendAsync(record, CancellationToken.None);

        Assert.Equal((BatchStatus.Failed, ErrorKind.Timeout, 1), (result.Outcome, result.Kind, result.Attempts));
        Assert.Contains("0.3", result.Error);
    }

    [Fact]
    public async Task Send_PostAnsweredWithATooLargeBody_IsOutcomeUnknownWithItsStatus()
    {
        var options = FastRetries();
        options.MaximumResponseBytes = 10;
        using var sender = new RequestSender(options);
        var result = await sender.SendAsync(Post("echo?id=big-post"), CancellationToken.None);

        Assert.Equal((BatchStatus.OutcomeUnknown, ErrorKind.ResponseTooLarge, 200, 1), (result.Outcome, result.Kind, result.StatusCode, result.Attempts));
        Assert.Single(Arrivals("big-post"));
    }

    [Fact]
    public async Task Send_TokenRefreshSlowerThanTheAttemptTimeout_DoesNotCostTheRetriedRequest()
    {
        var options = FastRetries();
        options.ConnectionTimeout = TimeSpan.FromMilliseconds(300);
        options.AllowUnencryptedAuthentication = true;
        options.BearerToken = new BearerToken("stale", async cancellationToken =>
        {
            await Task.Delay(800, cancellationToken);
            return "fresh";
        });
        using var sender = new RequestSender(options);
        var result = await sender.SendAsync(Post("bearer/fresh?id=slow-refresh"), CancellationToken.None);

        Assert.Equal((BatchStatus.Succeeded, 200), (result.Outcome, result.StatusCode));
        Assert.Equal(["Bearer stale", "Bearer fresh"], Arrivals("slow-refresh").Select(a => a.Authorization));
    }

    private List<TestServer.Arrival> Arrivals(string id) => _loopback.Server.Stats.Ledger.Where(a => a.Id == id).ToList();

    private RequestRecord Get(string path) => new(path, "GET", _loopback.Url(path));

    private RequestRecord Post(string path) => new(path, "POST", _loopback.Url(path)) { Body = "{}", ContentType = "application/json" };

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The timer made is the announced delay, in the whole milliseconds that timers count.</summary>
    private static void AssertTimerFor(TimeSpan delay, TimeSpan timer) =>
        Assert.InRange(delay - timer, TimeSpan.Zero, TimeSpan.FromMilliseconds(1) - TimeSpan.FromTicks(1));

    /// <summary>Lets every attempt through at once and counts them: the sender asks it before each one.</summary>
    private sealed class CountingAdmission : IAdmission
    {
        private int _admitted;

        public int Admitted => Volatile.Read(ref _admitted);

        public ValueTask<IAdmissionTicket> AdmitAsync(string host, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _admitted);
            return new ValueTask<IAdmissionTicket>(NoTicket.Instance);
        }

        public void Dispose()
        {
        }
    }
}
