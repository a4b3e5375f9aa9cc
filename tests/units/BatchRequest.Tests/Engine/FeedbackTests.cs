using System.Globalization;
using BatchRequest.Engine.Reporting;
using BatchRequest.Engine.Requests;
using BatchRequest.Engine.Sending;
using BatchRequest.Engine.Session;
using BatchRequest.Model.Requests;
using BatchRequest.Model.Results;

namespace BatchRequest.Tests.Engine;

/// <summary>What a batch tells as it goes and at its end: progress, the summary's text, what -WhatIf shows, body file names.</summary>
[Collection(LoopbackCollection.Name)]
public sealed class FeedbackTests : IDisposable
{
    private readonly LoopbackFixture _loopback;
    private readonly string _directory = Directory.CreateTempSubdirectory("batchrequest-feedback-").FullName;

    public FeedbackTests(LoopbackFixture loopback) => _loopback = loopback;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Progress_RecordsOfAValidatedFile_KnowTheTotalBeforeTheInputEnds()
    {
        var file = Path.Combine(_directory, "five.ndjson");
        File.WriteAllLines(file, Enumerable.Range(1, 5).Select(i => $$"""{"id":"p{{i}}","uri":"{{_loopback.Url($"delay/1?id=p{i}")}}"}"""));
        var reader = new RequestBatchReader([file], new RecordReadOptions());
        reader.Validate(_ => { }, 100);
        var records = reader.Read().Select(entry => entry.Record!).ToList();
        using var session = BatchSession.Open(new BatchSessionOptions());
        session.Start(CancellationToken.None);

        await session.AddAsync(records[0], CancellationToken.None);
        await session.AddAsync(records[1], CancellationToken.None);
        var early = session.Progress;
        await WaitUntil(() => session.Progress.Done == 2);
        var later = session.Progress;

        Assert.Equal(5, early.Total);
        Assert.InRange(early.PercentComplete, 0, 40);
        Assert.Equal((5L, 40), (later.Total!.Value, later.PercentComplete));
        Assert.True(later.SecondsRemaining >= 0);
    }

    [Fact]
    public async Task Progress_RecordBuiltInAScript_LeavesTheTotalUnknownUntilTheInputEnds()
    {
        using var session = BatchSession.Open(new BatchSessionOptions());
        session.Start(CancellationToken.None);

        await session.AddAsync(new RequestRecord("s1", "GET", _loopback.Url("delay/1?id=s1")), CancellationToken.None);
        var open = session.Progress;
        session.Complete();
        await session.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal((null, -1, -1), (open.Total, open.PercentComplete, open.SecondsRemaining));
        Assert.Equal((1L, 100), (session.Progress.Total!.Value, session.Progress.PercentComplete));
    }

    [Fact]
    public void Validate_Partition_CountsOnlyWhatThePartitionEmits()
    {
        var file = Path.Combine(_directory, "parts.ndjson");
        File.WriteAllLines(file, Enumerable.Range(1, 40).Select(i => $$"""{"id":"r{{i}}","uri":"http://h/{{i}}"}"""));
        var reader = new RequestBatchReader([file], new RecordReadOptions(), RequestPartition.Parse("2/3"));

        reader.Validate(_ => { }, 100);
        var records = reader.Read().Select(entry => entry.Record!).ToList();

        Assert.InRange(records.Count, 1, 39);
        Assert.All(records, record => Assert.Equal(records.Count, record.Batch!.Count));
        Assert.Same(records[0].Batch, records[^1].Batch);
    }

    [Fact]
    public async Task Progress_RecordWaitingOutRetryAfter_IsWaitingToRetryNotInFlight()
    {
        var clock = new WatchedClock();
        using var session = BatchSession.Open(new BatchSessionOptions(), timeProvider: clock);
        session.Start(CancellationToken.None);

        // Moved only once the record waits on it: a move before the wait's timer exists would be lost.
        await session.AddAsync(new RequestRecord("w1", "GET", _loopback.Url("flaky/1/429?id=w1&retryAfter=60")), CancellationToken.None);
        Assert.Equal(TimeSpan.FromSeconds(60), await clock.NextTimerAsync());
        var waiting = session.Progress;
        clock.Advance(TimeSpan.FromSeconds(60));
        session.Complete();
        await session.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal((1L, 1L, 0L, 0L, 1L), (waiting.WaitingToRetry, waiting.Running, waiting.InFlight, waiting.Queued, waiting.Pending));
        Assert.Equal((0L, 0L, 1L), (session.Progress.WaitingToRetry, session.Progress.Running, session.Progress.Done));
    }

    [Fact]
    public void Summary_ToString_NamesTheCountsRateLatencyAndLimit()
    {
        var builder = new SummaryBuilder();
        var start = DateTimeOffset.UtcNow;
        var record = new RequestRecord("x", "GET", new Uri("http://h/"));
        foreach (var (status, ms) in new[] { (BatchStatus.Succeeded, 10), (BatchStatus.Succeeded, 20), (BatchStatus.Succeeded, 30), (BatchStatus.Failed, 2000) })
        {
            builder.Add(new BatchResult(record, status) { Attempts = 1, StartTime = start, Duration = TimeSpan.FromMilliseconds(ms) });
        }

        builder.Add(new BatchResult(record, BatchStatus.NotSent));
        var previous = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        try
        {
            var text = builder.Build(new BatchRequest.Engine.Admission.LimitReport(8, 2, 10, 10)).ToString();

            // The histogram's percentiles are within 0.4 % of the exact value, so the last digit may differ.
            Assert.StartsWith("5 records in 2.00 s (2.5/s): 3 Succeeded, 1 Failed, 1 NotSent; 0 retries; latency p50 ", text);
            Assert.Matches(@"p50 (19\.9|20|20\.1) ms, p95 (1\.99|2|2\.01) s, p99 (1\.99|2|2\.01) s;", text);
            Assert.EndsWith("; concurrency limit 8 (lowest 2, highest 10)", text);
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [Fact]
    public void Describe_RecordWithSecrets_ShowsEveryHeaderWithSecretsMaskedAndTheBodySize()
    {
        var options = new BatchSessionOptions();
        options.Sending.UserAgent = "BatchRequest/1.0 Test/1";
        options.Sending.CommonHeaders = new Dictionary<string, string> { ["X-Tenant"] = "t1" };
        options.Sending.SecretHeaders = ["X-Signature"];
        using var session = BatchSession.Open(options);
        var record = new RequestRecord("d1", "POST", new Uri("http://h/orders?token=hunter2&page=1"))
        {
            Headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["X-Api-Key"] = "hunter2", ["X-Signature"] = "hunter2" },
            Body = "{\"sku\":\"é\"}",
            ContentType = "application/json",
        };

        var text = session.Describe(record);

        Assert.DoesNotContain("hunter2", text);
        Assert.StartsWith("POST http://h/orders?token=***&page=1", text);
        Assert.Contains("  X-Api-Key: ***", text);
        Assert.Contains("  X-Signature: ***", text);
        Assert.Contains("  X-Tenant: t1", text);
        Assert.Contains("  User-Agent: BatchRequest/1.0 Test/1", text);
        Assert.Contains("  Content-Type: application/json", text);
        Assert.Contains("  body: 12 bytes", text);
    }

    [Theory]
    [InlineData("order-17", "order-17")]
    [InlineData("a/b", "a_b~")]
    [InlineData("CON", "_CON~")]
    [InlineData("trailing.", "trailing_~")]
    [InlineData("", "_~")]
    [InlineData("x:y*z?", "x_y_z_~")]
    public void SafeName_Id_IsAPortableFileName(string id, string expectedStart)
    {
        var name = BodyFiles.SafeName(id);

        Assert.StartsWith(expectedStart, name);
        Assert.Equal(id == expectedStart ? id.Length : expectedStart.Length + 8, name.Length);
    }

    [Fact]
    public void PathFor_IdsThatCollide_GetFilesOfTheirOwnAndTheSameOnEveryAttempt()
    {
        var files = new BodyFiles(_directory);
        var longId = new string('é', 300);

        var paths = new[] { "a", "A", "a/b", "a_b", "a" }.Select(files.PathFor).ToList();

        Assert.Equal(4, paths.Take(4).Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.Equal(paths[0], paths[4]);
        Assert.All(paths, path => Assert.Equal(_directory, Path.GetDirectoryName(path)));
        Assert.InRange(System.Text.Encoding.UTF8.GetByteCount(Path.GetFileName(files.PathFor(longId))), 100, 220);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not hold within 30 s.");
            await Task.Delay(10);
        }
    }
}
