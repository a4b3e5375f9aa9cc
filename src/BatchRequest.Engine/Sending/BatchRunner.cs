using System;
using System.Linq;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using BatchRequest.Engine.Requests;
using BatchRequest.Engine.Resources;

namespace BatchRequest.Engine.Sending;

/// <summary>
/// Runs a batch: a fixed set of workers, one per throttle slot, takes records from a bounded queue and hands
/// every result to a callback. The bounded queue is the back-pressure: producers wait while it is full, so a
/// batch of a million records never holds more than a few dozen in memory.
/// </summary>
public sealed class BatchRunner
{
    private readonly Channel<RequestRecord> _queue;
    private readonly RequestSender _sender;
    private readonly Action<BatchResult> _onResult;
    private readonly int _workerCount;
    private Task? _completion;

    /// <param name="onResult">Called once per record on a worker thread; must be thread-safe and must not block.</param>
    public BatchRunner(RequestSender sender, int throttleLimit, Action<BatchResult> onResult)
    {
        if (throttleLimit <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(throttleLimit), throttleLimit, null);
        }

        _sender = sender;
        _onResult = onResult;
        _workerCount = throttleLimit;

        // Room for one more record per worker keeps every slot busy while the producer refills the queue.
        _queue = Channel.CreateBounded<RequestRecord>(new BoundedChannelOptions(throttleLimit)
        {
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>Where records go in; complete it when the input ends.</summary>
    public ChannelWriter<RequestRecord> Input => _queue.Writer;

    /// <summary>Completes when every record taken in has produced its result.</summary>
    public Task Completion => _completion ?? throw new InvalidOperationException();

    /// <summary>Starts the workers.</summary>
    /// <param name="cancellationToken">Stops the batch: records still queued end as NotSent.</param>
    public void Start(CancellationToken cancellationToken)
    {
        _completion = Task.WhenAll(Enumerable.Range(0, _workerCount)
            .Select(_ => Task.Run(() => WorkAsync(cancellationToken), CancellationToken.None)));
    }

    private async Task WorkAsync(CancellationToken cancellationToken)
    {
        var reader = _queue.Reader;

        // The queue is drained even after a stop, so every record taken in still yields its one result.
        while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            while (reader.TryRead(out var record))
            {
                _onResult(cancellationToken.IsCancellationRequested
                    ? NotSent(record)
                    : await _sender.SendAsync(record, cancellationToken).ConfigureAwait(false));
            }
        }
    }

    private static BatchResult NotSent(RequestRecord record) => new(record, BatchStatus.NotSent)
    {
        ErrorKind = ErrorKind.Canceled,
        Error = Messages.StoppedBeforeSending,
    };
}
