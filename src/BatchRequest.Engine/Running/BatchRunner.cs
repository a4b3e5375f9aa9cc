using System;
using System.Linq;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using BatchRequest.Engine.Sending;
using BatchRequest.Model.Results;

namespace BatchRequest.Engine.Running;

/// <summary>
/// Runs a batch: a fixed set of workers takes records from a bounded queue and takes each through the steps to
/// its one result. The bounded queue is the back-pressure: a producer waits while it is full, so a batch of a
/// million records never holds more than a few dozen in memory.
/// </summary>
public sealed class BatchRunner
{
    private readonly Channel<Queued> _queue;
    private readonly IRecordSteps _steps;
    private readonly int _workerCount;

    // Only in ordered mode: how far sending may run ahead of the oldest result not yet delivered.
    private readonly SemaphoreSlim? _reorderWindow;
    private readonly ReorderBuffer<BatchResult>? _reorder;
    private long _added;
    private Task? _completion;

    /// <param name="steps">What each record goes through.</param>
    /// <param name="workers">Records in progress at once.</param>
    /// <param name="reorderWindow">Deliver results in input order, holding back at most this many; null for completion order.</param>
    public BatchRunner(IRecordSteps steps, int workers, int? reorderWindow = null)
    {
        if (workers <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(workers), workers, null);
        }

        _steps = steps;
        _workerCount = workers;
        if (reorderWindow is { } window)
        {
            if (window < workers)
            {
                throw new ArgumentOutOfRangeException(nameof(reorderWindow), window, null);
            }

            _reorderWindow = new SemaphoreSlim(window, window);
            _reorder = new ReorderBuffer<BatchResult>(Deliver);
        }

        // Room for one more record per worker keeps every slot busy while the producer refills the queue.
        _queue = Channel.CreateBounded<Queued>(new BoundedChannelOptions(workers)
        {
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>Completes when every record added has produced its result.</summary>
    public Task Completion => _completion ?? throw new InvalidOperationException("The runner was not started.");

    /// <summary>Starts the workers.</summary>
    /// <param name="cancellationToken">Stops the batch: records still queued end as NotSent.</param>
    public void Start(CancellationToken cancellationToken)
    {
        _completion = Task.WhenAll(Enumerable.Range(0, _workerCount)
            .Select(_ => Task.Run(() => WorkAsync(cancellationToken), CancellationToken.None)));
    }

    /// <summary>Adds a record without waiting; false when the batch has no room for it now.</summary>
    public bool TryAdd(OutgoingRecord record)
    {
        if (_reorderWindow is not null && !_reorderWindow.Wait(0))
        {
            return false;
        }

        if (_queue.Writer.TryWrite(new Queued(_added, record)))
        {
            _added++;
            return true;
        }

        _reorderWindow?.Release();
        return false;
    }

    /// <summary>Adds a record, waiting for room.</summary>
    /// <exception cref="OperationCanceledException">The wait was cancelled; the record was not added.</exception>
    public async Task AddAsync(OutgoingRecord record, CancellationToken cancellationToken)
    {
        if (_reorderWindow is not null)
        {
            await _reorderWindow.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            await _queue.Writer.WriteAsync(new Queued(_added, record), cancellationToken).ConfigureAwait(false);
            _added++;
        }
        catch (OperationCanceledException)
        {
            _reorderWindow?.Release();
            throw;
        }
    }

    /// <summary>Declares the input finished; the workers end once the queue is empty.</summary>
    public void Complete() => _queue.Writer.TryComplete();

    private async Task WorkAsync(CancellationToken cancellationToken)
    {
        var reader = _queue.Reader;

        // The queue is drained even after a stop, so every record taken in still yields its one result.
        while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            while (reader.TryRead(out var item))
            {
                await ProcessAsync(item.Sequence, item.Record, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The one guard around a record's whole path: whatever throws, the record gets its result and, in ordered
    /// mode, its place in the sequence, or the producer would wait forever for a slot or for the gap to close.
    /// </summary>
    private async Task ProcessAsync(long sequence, OutgoingRecord record, CancellationToken cancellationToken)
    {
        BatchResult result;
        try
        {
            result = cancellationToken.IsCancellationRequested
                ? _steps.Abandoned(record, null)
                : await _steps.RunAsync(record, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            result = _steps.Abandoned(record, exception);
        }

        try
        {
            _steps.Finished(record, result);
        }
        catch (Exception exception)
        {
            _steps.Faulted(result, exception);
        }

        if (_reorder is null)
        {
            Deliver(result);
        }
        else
        {
            _reorder.Add(sequence, result);
        }
    }

    private void Deliver(BatchResult result)
    {
        try
        {
            _steps.Deliver(result);
        }
        catch (Exception exception)
        {
            _steps.Faulted(result, exception);
        }
        finally
        {
            _reorderWindow?.Release();
        }
    }

    // A class, not a tuple: the runtime ships the channel's code for reference types precompiled, while for a
    // struct a fresh process compiles it first (about 35 methods before the first record is sent).
    private sealed record Queued(long Sequence, OutgoingRecord Record);
}
