using System;
using System.Linq;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using BatchRequest.Engine.Resources;
using BatchRequest.Model.Requests;
using BatchRequest.Model.Results;

namespace BatchRequest.Engine.Sending;

/// <summary>
/// Runs a batch: a fixed set of workers, one per throttle slot, takes records from a bounded queue and hands
/// every result to a callback. The bounded queue is the back-pressure: a producer waits while it is full, so a
/// batch of a million records never holds more than a few dozen in memory.
/// </summary>
public sealed class BatchRunner
{
    private readonly Channel<(long Sequence, RequestRecord Record)> _queue;
    private readonly RequestSender _sender;
    private readonly Action<BatchResult> _deliver;
    private readonly Func<RequestRecord, BatchResult?>? _beforeSend;
    private readonly Action<BatchResult>? _afterSend;
    private readonly int _workerCount;

    // Only in ordered mode: how far sending may run ahead of the oldest result not yet delivered.
    private readonly SemaphoreSlim? _reorderWindow;
    private readonly ReorderBuffer<BatchResult>? _reorder;
    private long _added;
    private Task? _completion;

    /// <param name="throttleLimit">Workers, and so requests in flight at most.</param>
    /// <param name="onResult">Called once per record on a worker thread; must be thread-safe and must not block.</param>
    /// <param name="reorderWindow">Deliver results in input order, holding back at most this many; null for completion order.</param>
    /// <param name="beforeSend">
    /// Called on a worker thread just before a record's first attempt may leave (journals mark it there); a result
    /// it returns is delivered instead of sending the record (a resumed run skips what its journal shows done).
    /// </param>
    /// <param name="afterSend">Called on a worker thread with every result as soon as it exists, before reordering (journals record it there).</param>
    public BatchRunner(
        RequestSender sender,
        int throttleLimit,
        Action<BatchResult> onResult,
        int? reorderWindow = null,
        Func<RequestRecord, BatchResult?>? beforeSend = null,
        Action<BatchResult>? afterSend = null)
    {
        if (throttleLimit <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(throttleLimit), throttleLimit, null);
        }

        _sender = sender;
        _workerCount = throttleLimit;
        if (reorderWindow is { } window)
        {
            if (window < throttleLimit)
            {
                throw new ArgumentOutOfRangeException(nameof(reorderWindow), window, null);
            }

            _reorderWindow = new SemaphoreSlim(window, window);
            _reorder = new ReorderBuffer<BatchResult>(result =>
            {
                onResult(result);
                _reorderWindow.Release();
            });
        }

        _deliver = onResult;
        _beforeSend = beforeSend;
        _afterSend = afterSend;

        // Room for one more record per worker keeps every slot busy while the producer refills the queue.
        _queue = Channel.CreateBounded<(long, RequestRecord)>(new BoundedChannelOptions(throttleLimit)
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
    public bool TryAdd(RequestRecord record)
    {
        if (_reorderWindow is not null && !_reorderWindow.Wait(0))
        {
            return false;
        }

        if (_queue.Writer.TryWrite((_added, record)))
        {
            _added++;
            return true;
        }

        _reorderWindow?.Release();
        return false;
    }

    /// <summary>Adds a record, waiting for room.</summary>
    public async Task AddAsync(RequestRecord record, CancellationToken cancellationToken)
    {
        if (_reorderWindow is not null)
        {
            await _reorderWindow.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            await _queue.Writer.WriteAsync((_added, record), cancellationToken).ConfigureAwait(false);
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
                BatchResult result;
                try
                {
                    result = cancellationToken.IsCancellationRequested
                        ? NotSent(item.Record, ErrorKind.Canceled, Messages.StoppedBeforeSending)
                        : _beforeSend?.Invoke(item.Record) ?? await _sender.SendAsync(item.Record, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception exception)
                {
                    // The sender never throws; a hook that does must not cost the record its result, nor the
                    // batch this worker, which would leave the input waiting forever for a free slot.
                    result = NotSent(item.Record, ErrorKind.Unexpected, exception.Message, exception);
                }

                _afterSend?.Invoke(result);
                if (_reorder is null)
                {
                    _deliver(result);
                }
                else
                {
                    _reorder.Add(item.Sequence, result);
                }
            }
        }
    }

    private BatchResult NotSent(RequestRecord record, ErrorKind kind, string error, Exception? exception = null) =>
        new(_sender.Redactor.Redact(record), BatchStatus.NotSent)
        {
            Original = record,
            ErrorKind = kind,
            Error = error,
            Exception = exception,
        };
}
