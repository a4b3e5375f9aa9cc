using BatchRequest.Engine.Journal;
using BatchRequest.Engine.Session;
using BatchRequest.Model.Requests;
using BatchRequest.Model.Results;

namespace BatchRequest.Tests.Engine;

[Collection(LoopbackCollection.Name)]
public sealed class JournalRunTests : IDisposable
{
    private readonly LoopbackFixture _loopback;
    private readonly string _directory = Directory.CreateTempSubdirectory("batchrequest-run-").FullName;

    public JournalRunTests(LoopbackFixture loopback) => _loopback = loopback;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Run_ResumedAfterFailures_SkipsWhatSucceededAndSendsOnlyTheRest()
    {
        var journal = Path.Combine(_directory, "run.ndjson");
        var records = Enumerable.Range(1, 12)
            .Select(i => i % 4 == 0 ? Get($"flaky/1/404?id=jr{i}") : Get($"delay/5?id=jr{i}"))
            .ToList();

        var first = await RunAsync(new DurableRunOptions { JournalPath = journal }, records, ordered: true);
        _loopback.Server.Stats.Reset();
        var second = await RunAsync(new DurableRunOptions { JournalPath = journal, Resume = true }, records, ordered: false);

        Assert.Equal(records.Select(r => r.Id), first.Select(r => r.Id));
        Assert.Equal(3, first.Count(r => r.Outcome == BatchStatus.Failed));
        Assert.Equal(9, second.Count(r => r.Outcome == BatchStatus.Skipped));
        Assert.Equal(3, second.Count(r => r.Outcome == BatchStatus.Succeeded));
        Assert.Equal(["jr12", "jr4", "jr8"], _loopback.Server.Stats.Ledger.Select(a => a.Id!).OrderBy(id => id, StringComparer.Ordinal));
        var entries = JournalReader.Read(journal).ToList();
        Assert.Equal(2, entries.Count(e => e.Event == JournalEvent.Run));
        Assert.Equal(15, entries.Count(e => e.Event == JournalEvent.Sending));
        // Every result has its line, the skipped ones of the second run too.
        Assert.Equal(24, entries.Count(e => e.Event == JournalEvent.Result));
        Assert.Equal(9, entries.Count(e => e.Event == JournalEvent.Result && e.Status == BatchStatus.Skipped));
    }

    private static async Task<List<BatchResult>> RunAsync(DurableRunOptions durableOptions, IEnumerable<RequestRecord> records, bool ordered)
    {
        var options = new BatchSessionOptions { Admission = { ThrottleLimit = 4 }, Sending = { MaximumRetryCount = 0 }, Ordered = ordered };
        options.Journal.JournalPath = durableOptions.JournalPath;
        options.Journal.Resume = durableOptions.Resume;
        var results = new ResultList();
        using var session = BatchSession.Open(options, results);
        session.Start(CancellationToken.None);
        foreach (var record in records)
        {
            await session.AddAsync(record, CancellationToken.None);
        }

        session.Complete();
        await session.Completion.WaitAsync(TimeSpan.FromSeconds(60));
        return results.Items;
    }

    private sealed class ResultList : IBatchObserver
    {
        public List<BatchResult> Items { get; } = [];

        public void OnResult(BatchResult result)
        {
            lock (Items)
            {
                Items.Add(result);
            }
        }
    }

    private RequestRecord Get(string path) => new(path.Split("id=")[1], "GET", _loopback.Url(path));
}
