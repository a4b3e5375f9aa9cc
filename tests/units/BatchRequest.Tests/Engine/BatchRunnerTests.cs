using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using BatchRequest.Engine.Sending;
using BatchRequest.Model.Requests;
using BatchRequest.Model.Results;

namespace BatchRequest.Tests.Engine;

[Collection(LoopbackCollection.Name)]
public sealed class BatchRunnerTests
{
    private readonly LoopbackFixture _loopback;

    public BatchRunnerTests(LoopbackFixture loopback) => _loopback = loopback;

    [Fact]
    public async Task Run_ManySlowRecords_KeepsExactlyTheThrottleInFlightAndSendsEachOnce()
    {
        _loopback.Server.Stats.Reset();
        var results = await RunAsync(new SenderOptions { ThrottleLimit = 8 }, Enumerable.Range(1, 64).Select(i => Get($"delay/30?id=run{i}")));

        Assert.Equal(64, results.Count);
        Assert.All(results, r => Assert.Equal(BatchStatus.Succeeded, r.Status));
        Assert.Equal(8, _loopback.Server.Stats.MaxInFlight);
        Assert.True(_loopback.Server.Stats.Connections <= 8);
        Assert.Equal(64, _loopback.Server.Stats.Ledger.Select(a => a.Id).Distinct().Count());
    }

    [Fact]
    public async Task Run_Ordered_DeliversInInputOrderDespiteRandomLatency()
    {
        var random = new Random(7);
        var records = Enumerable.Range(0, 60).Select(i => Get($"delay/{random.Next(0, 40)}?id=ord{i}")).ToList();

        var results = await RunAsync(new SenderOptions { ThrottleLimit = 6 }, records, reorderWindow: 12);

        Assert.Equal(records.Select(r => r.Id), results.Select(r => r.Id));
    }

    [Fact]
    public async Task Run_DeadHostBesideHealthyHost_OpensTheCircuitForTheDeadHostOnly()
    {
        var options = new SenderOptions
        {
            ThrottleLimit = 4,
            CircuitBreakerThreshold = 8,
            RetryInterval = TimeSpan.FromMilliseconds(5),
            MaximumRetryDelay = TimeSpan.FromMilliseconds(20),
        };
        var dead = new Uri($"http://127.0.0.1:{UnusedPort()}/");
        var records = Enumerable.Range(0, 40).SelectMany(i => new[]
        {
            new RequestRecord($"dead{i}", "GET", new Uri(dead, $"x?id=dead{i}")),
            Get($"delay/1?id=alive{i}"),
        });

        var results = await RunAsync(options, records);

        var deadResults = results.Where(r => r.Id.StartsWith("dead", StringComparison.Ordinal)).ToList();
        var aliveResults = results.Where(r => r.Id.StartsWith("alive", StringComparison.Ordinal)).ToList();
        Assert.All(aliveResults, r => Assert.Equal(BatchStatus.Succeeded, r.Status));
        Assert.Contains(deadResults, r => r.Status == BatchStatus.NotSent && r.ErrorKind == ErrorKind.CircuitOpen);
        Assert.True(deadResults.Sum(r => r.Attempts) < 40, "The open circuit should spare most of the 160 attempts.");
    }

    [Fact]
    public async Task Run_Stopped_EndsQueuedRecordsAsNotSentAndDeliversEveryRecord()
    {
        using var stop = new CancellationTokenSource();
        var delivered = new ConcurrentBag<BatchResult>();
        using var sender = new RequestSender(new SenderOptions { ThrottleLimit = 2 });
        var runner = new BatchRunner(sender, 2, delivered.Add);
        runner.Start(stop.Token);
        for (var i = 0; i < 4; i++)
        {
            await runner.AddAsync(Get($"delay/10000?id=stop{i}"), CancellationToken.None);
        }

        stop.Cancel();
        runner.Complete();
        await runner.Completion.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(4, delivered.Count);
        Assert.All(delivered, r => Assert.Contains(r.Status, new[] { BatchStatus.Canceled, BatchStatus.NotSent }));
    }

    [Fact]
    public async Task Run_HookThrows_RecordStillGetsOneResultAndTheBatchGoesOn()
    {
        var results = new List<BatchResult>();
        using var sender = new RequestSender(new SenderOptions { ThrottleLimit = 2 });
        var runner = new BatchRunner(
            sender,
            2,
            r => { lock (results) { results.Add(r); } },
            beforeSend: record => record.Id == "boom1" || record.Id == "boom2" ? throw new ArgumentOutOfRangeException("journal") : null);
        runner.Start(CancellationToken.None);
        foreach (var id in new[] { "a", "boom1", "b", "boom2", "c", "d" })
        {
            await runner.AddAsync(Get($"delay/1?id={id}"), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        }

        runner.Complete();
        await runner.Completion.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(6, results.Count);
        Assert.All(results.Where(r => r.Id.StartsWith("boom", StringComparison.Ordinal)), r =>
            Assert.Equal((BatchStatus.NotSent, ErrorKind.Unexpected), (r.Status, r.ErrorKind)));
        Assert.Equal(4, results.Count(r => r.Status == BatchStatus.Succeeded));
    }

    private async Task<List<BatchResult>> RunAsync(SenderOptions options, IEnumerable<RequestRecord> records, int? reorderWindow = null)
    {
        var results = new List<BatchResult>();
        using var sender = new RequestSender(options);
        var runner = new BatchRunner(sender, options.ThrottleLimit, r => { lock (results) { results.Add(r); } }, reorderWindow);
        runner.Start(CancellationToken.None);
        foreach (var record in records)
        {
            if (!runner.TryAdd(record))
            {
                await runner.AddAsync(record, CancellationToken.None);
            }
        }

        runner.Complete();
        await runner.Completion.WaitAsync(TimeSpan.FromSeconds(60));
        return results;
    }

    private RequestRecord Get(string path) => new(path.Split("id=")[1], "GET", _loopback.Url(path));

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
