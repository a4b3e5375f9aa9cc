using System.Collections.Concurrent;
using BatchRequest.Engine.Running;
using BatchRequest.Engine.Sending;
using BatchRequest.Model.Requests;
using BatchRequest.Model.Results;

namespace BatchRequest.Tests.Engine;

/// <summary>The runner's own promises, whatever its steps do: one result per record, no stall, no lost slot.</summary>
[Collection(LoopbackCollection.Name)]
public sealed class BatchRunnerTests
{
    private readonly LoopbackFixture _loopback;

    public BatchRunnerTests(LoopbackFixture loopback) => _loopback = loopback;

    [Fact]
    public async Task Run_HookThrows_RecordStillGetsOneResultAndTheBatchGoesOn()
    {
        using var sender = new RequestSender(new SenderOptions());
        var steps = new SendingSteps(sender) { ThrowBeforeSend = id => id is "boom1" or "boom2" };

        var results = await RunAsync(steps, ["a", "boom1", "b", "boom2", "c", "d"], reorderWindow: null);

        Assert.Equal(6, results.Count);
        Assert.All(results.Where(r => r.Id.StartsWith("boom", StringComparison.Ordinal)), r =>
            Assert.Equal((BatchStatus.NotSent, ErrorKind.Unexpected), (r.Outcome, r.Kind)));
        Assert.Equal(4, results.Count(r => r.Outcome == BatchStatus.Succeeded));
        Assert.Empty(steps.Faults);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(4)]
    public async Task Run_JournalHookThrowsAfterTheSend_ResultIsStillDeliveredAndTheFaultReported(int? reorderWindow)
    {
        using var sender = new RequestSender(new SenderOptions());
        var steps = new SendingSteps(sender) { ThrowWhenFinished = id => id == "r3" };
        var ids = Enumerable.Range(0, 10).Select(i => $"r{i}").ToList();

        var results = await RunAsync(steps, ids, reorderWindow);

        Assert.Equal(ids.Order(), results.Select(r => r.Id).Order());
        Assert.All(results, r => Assert.Equal(BatchStatus.Succeeded, r.Outcome));
        Assert.Equal("r3", Assert.Single(steps.Faults));
    }

    [Fact]
    public async Task Run_Ordered_DeliveryThrowsForOneRecord_TheRestFollowInOrderWithoutAStall()
    {
        using var sender = new RequestSender(new SenderOptions());
        var steps = new SendingSteps(sender) { ThrowOnDelivery = id => id == "o2" };
        var ids = Enumerable.Range(0, 20).Select(i => $"o{i}").ToList();

        // A window of 2 slots: a gap left by the failed delivery would stop the producer at the third record.
        var results = await RunAsync(steps, ids, reorderWindow: 2);

        Assert.Equal(ids.Where(id => id != "o2"), results.Select(r => r.Id));
        Assert.Equal("o2", Assert.Single(steps.Faults));
    }

    private async Task<List<BatchResult>> RunAsync(SendingSteps steps, IEnumerable<string> ids, int? reorderWindow)
    {
        var runner = new BatchRunner(steps, 2, reorderWindow);
        runner.Start(CancellationToken.None);
        foreach (var id in ids)
        {
            var record = steps.Sender.Identity.Prepare(new RequestRecord(id, "GET", _loopback.Url($"delay/{id.Length % 3}?id={id}")));
            await runner.AddAsync(record, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        }

        runner.Complete();
        await runner.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        return steps.Delivered.ToList();
    }

    /// <summary>The steps of a session without a journal, with faults injected where a journal or an owner could fail.</summary>
    private sealed class SendingSteps(RequestSender sender) : IRecordSteps
    {
        public RequestSender Sender => sender;

        public Func<string, bool> ThrowBeforeSend { get; init; } = _ => false;

        public Func<string, bool> ThrowWhenFinished { get; init; } = _ => false;

        public Func<string, bool> ThrowOnDelivery { get; init; } = _ => false;

        public ConcurrentQueue<BatchResult> Delivered { get; } = new();

        public ConcurrentQueue<string> Faults { get; } = new();

        public Task<BatchResult> RunAsync(OutgoingRecord record, CancellationToken cancellationToken) =>
            ThrowBeforeSend(record.Record.Id)
                ? throw new ArgumentOutOfRangeException("journal")
                : sender.SendAsync(record, cancellationToken);

        public BatchResult Abandoned(OutgoingRecord record, Exception? exception) => sender.Abandoned(record, exception);

        public void Finished(OutgoingRecord record, BatchResult result)
        {
            if (ThrowWhenFinished(result.Id))
            {
                throw new IOException("No space left on device.");
            }
        }

        public void Deliver(BatchResult result)
        {
            if (ThrowOnDelivery(result.Id))
            {
                throw new InvalidOperationException("The owner could not take it.");
            }

            Delivered.Enqueue(result);
        }

        public void Faulted(BatchResult result, Exception exception) => Faults.Enqueue(result.Id);
    }
}
