using System;
using System.Threading;
using System.Threading.Tasks;
using BatchRequest.Engine.Sending;
using BatchRequest.Model.Results;

namespace BatchRequest.Engine.Running;

/// <summary>What the runner does with each record, in this order, on a worker thread; the session supplies them.</summary>
public interface IRecordSteps
{
    /// <summary>Makes the record's result: a decision of the journal, or a send. May throw.</summary>
    Task<BatchResult> RunAsync(OutgoingRecord record, CancellationToken cancellationToken);

    /// <summary>
    /// The result of a record that was not run because the batch stopped (<paramref name="exception"/> null), or
    /// whose run threw. Must not throw.
    /// </summary>
    BatchResult Abandoned(OutgoingRecord record, Exception? exception);

    /// <summary>Called once per record as soon as its result exists, before any reordering (a journal records it here).</summary>
    void Finished(OutgoingRecord record, BatchResult result);

    /// <summary>Called once per record: in completion order, or in input order when the runner reorders.</summary>
    void Deliver(BatchResult result);

    /// <summary>Told when <see cref="Finished"/> or <see cref="Deliver"/> threw; should stop the batch. Must not throw.</summary>
    void Faulted(BatchResult result, Exception exception);
}
