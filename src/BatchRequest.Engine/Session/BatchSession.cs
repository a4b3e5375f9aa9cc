using System;
using System.Collections.Generic;
using System.IO;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using BatchRequest.Engine.Admission;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Journal;
using BatchRequest.Engine.Reporting;
using BatchRequest.Engine.Resources;
using BatchRequest.Engine.Running;
using BatchRequest.Engine.Security;
using BatchRequest.Engine.Sending;
using BatchRequest.Model.Reporting;
using BatchRequest.Model.Requests;
using BatchRequest.Model.Results;

namespace BatchRequest.Engine.Session;

/// <summary>
/// One batch, from the first record to the summary: the one entry point into the engine. It owns the connection
/// pool and the sender, admission, the runner, the journal with its resume decisions and failed-records file, the
/// stop on a fault, and the summary. Feed it records with <see cref="AddAsync"/>, then <see cref="Complete"/> and
/// wait for <see cref="Completion"/>; results reach the <see cref="IBatchObserver"/> as they come.
/// </summary>
public sealed class BatchSession : IDisposable
{
    private readonly IBatchObserver _observer;
    private readonly DurableRun _durable;
    private readonly RequestSender _sender;
    private readonly BatchRunner _runner;
    private readonly CompositeAdmission _admission;

    // Stops the workers: the owner's stop (Ctrl+C), or a fault of the journal or of delivery.
    private readonly CancellationTokenSource _stop;
    private readonly SummaryBuilder _summary = new();
    private readonly object _filesGate = new();
    private readonly TimeProvider _time;
    private long _startedAt;
    private CancellationTokenRegistration _ownerStop;
    private Exception? _fault;
    private bool _filesOpen;
    private bool _started;
    private long _taken;
    private long _done;
    private long _problems;
    private long _retries;
    private long _running;

    // The total before the input ends: the counts of the validated batches the records came from, each once.
    private readonly HashSet<ValidatedBatch> _batches = new();
    private ValidatedBatch? _lastBatch;
    private long _announced;
    private bool _unannounced;
    private bool _inputComplete;

    private BatchSession(
        BatchSessionOptions options,
        IBatchObserver observer,
        DurableRun durable,
        CancellationTokenSource stop,
        HttpMessageHandler? handler,
        TimeProvider time)
    {
        _observer = observer;
        _time = time;
        _durable = durable;
        _stop = stop;
        var throttle = options.Admission.ThrottleLimit;
        // What admission tells goes to the journal from here, so admission knows nothing of journals.
        _admission = CompositeAdmission.For(options.Admission, time, OnLimitChanged, durable.RecordPause);
        _sender = new RequestSender(options.Sending, OnRetry, handler, time, _admission, durable.BatchId, maxConnectionsPerHost: throttle);
        _runner = new BatchRunner(new Steps(this), throttle, options.Ordered ? throttle * BatchSessionOptions.ReorderWindowPerSlot : null);
    }

    /// <summary>The batch's identity in derived idempotency keys: the journal's, the one asked for, or a new one.</summary>
    public string BatchId => _durable.BatchId;

    /// <summary>Line number of a torn last line of a resumed journal that was skipped, or null.</summary>
    public long? TornJournalLine => _durable.TornJournalLine;

    /// <summary>Masks this batch's secrets in anything shown or written.</summary>
    public Redactor Redactor => _sender.Redactor;

    /// <summary>What the record would send, as text safe to show (-WhatIf): method, URI, headers with secrets masked, body size.</summary>
    public string Describe(RequestRecord record) => _sender.Describe(record);

    /// <summary>Completes when every record added has its result.</summary>
    public Task Completion => _started ? _runner.Completion : Task.CompletedTask;

    /// <summary>Why the batch stopped on its own (a journal that cannot be written, a result that could not be delivered); null while all is well.</summary>
    public Exception? Fault => _durable.Fault ?? Volatile.Read(ref _fault);

    /// <summary>Counts so far; safe from any thread.</summary>
    public BatchProgress Progress => new(
        Interlocked.Read(ref _taken),
        Interlocked.Read(ref _done),
        Interlocked.Read(ref _problems),
        Interlocked.Read(ref _retries),
        _admission.Report()!.Value,
        _started ? _time.GetElapsedTime(_startedAt) : TimeSpan.Zero,
        Total(),
        Interlocked.Read(ref _running),
        _sender.WaitingToRetry,
        _admission.Quota());

    /// <summary>Checks the options and reads the journal of a resumed run; sends and writes nothing yet.</summary>
    /// <param name="observer">Told of results, retries and warnings on worker threads.</param>
    /// <param name="handler">Replaces the default connection pool (tests); disposed with the session.</param>
    /// <param name="timeProvider">Clock for backoff, pauses and the journal; the system clock by default.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="JournalException">The journal cannot be used: exists, in use, unreadable, malformed, another batch's.</exception>
    public static BatchSession Open(
        BatchSessionOptions options,
        IBatchObserver? observer = null,
        HttpMessageHandler? handler = null,
        TimeProvider? timeProvider = null)
    {
        options.Validate();
        observer ??= SilentObserver.Instance;
        var time = timeProvider ?? TimeProvider.System;
        var stop = new CancellationTokenSource();
        DurableRun? durable = null;
        try
        {
            durable = DurableRun.Open(options.Journal, new Redactor(options.Sending.SecretHeaders), observer.OnWarning, _ => stop.Cancel(), time);
            return new BatchSession(options, observer, durable, stop, handler, time);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            durable?.Dispose();
            stop.Dispose();
            throw new JournalException(JournalErrorIds.Unreadable, exception.Message, exception);
        }
        catch
        {
            durable?.Dispose();
            stop.Dispose();
            throw;
        }
    }

    /// <summary>A result that did not succeed and is not an earlier run's success: worth an error record.</summary>
    public static bool NeedsAttention(BatchResult result) =>
        result.Outcome != BatchStatus.Succeeded && !(result.Outcome == BatchStatus.Skipped && result.Error is null);

    /// <summary>Starts the workers; call once, before the first record.</summary>
    /// <param name="cancellationToken">The owner's stop: records still queued end NotSent, those in flight Canceled.</param>
    public void Start(CancellationToken cancellationToken)
    {
        _ownerStop = cancellationToken.Register(static state => ((CancellationTokenSource)state!).Cancel(), _stop);
        _startedAt = _time.GetTimestamp();
        _runner.Start(_stop.Token);
        _started = true;
    }

    /// <summary>
    /// Takes a record into the batch. Completes at once while the batch has room; otherwise the returned task
    /// waits for room (back-pressure). The first record creates the journal and removes an old failed-records file.
    /// </summary>
    /// <exception cref="JournalException">The journal or the failed-records file cannot be created.</exception>
    /// <exception cref="OperationCanceledException">The wait for room was cancelled; the record was not taken.</exception>
    /// <exception cref="JournalException">The failed-records file is a file the records come from.</exception>
    public ValueTask AddAsync(RequestRecord record, CancellationToken cancellationToken)
    {
        NoteSource(record);
        OpenFiles();
        var outgoing = _sender.Identity.Prepare(record);
        Interlocked.Increment(ref _taken);
        return _runner.TryAdd(outgoing) ? default : new ValueTask(AddWaitingAsync(outgoing, cancellationToken));
    }

    /// <summary>Declares the input finished; <see cref="Completion"/> follows once every record has its result.</summary>
    public void Complete()
    {
        Volatile.Write(ref _inputComplete, true);
        _runner.Complete();
    }

    /// <summary>The summary of what has ended so far; safe from any thread.</summary>
    public BatchSummary Summary()
    {
        lock (_summary)
        {
            return _summary.Build(_admission.Report(), _admission.Quota());
        }
    }

    /// <summary>
    /// Stops the batch now and waits, at most a second, for the workers to hand back their records: those still
    /// queued end NotSent, those in flight Canceled, and all are counted in <see cref="Summary"/>.
    /// </summary>
    public void Stop()
    {
        _runner.Complete();
        if (_started)
        {
            _stop.Cancel();
            Task.WhenAny(_runner.Completion, Task.Delay(TimeSpan.FromSeconds(1))).Wait();
        }
    }

    public void Dispose()
    {
        // Let the workers hand back their records before the sender and the journal go, whether the batch ended,
        // was stopped, or was cut short by its owner.
        Stop();
        _ownerStop.Dispose();
        _sender.Dispose();
        _durable.Dispose();
        _stop.Dispose();
    }

    private long? Total()
    {
        var taken = Interlocked.Read(ref _taken);
        if (Volatile.Read(ref _inputComplete))
        {
            return taken;
        }

        var announced = Interlocked.Read(ref _announced);
        return Volatile.Read(ref _unannounced) || announced == 0 ? null : Math.Max(announced, taken);
    }

    /// <summary>
    /// Adds the count of a record's validated batch the first time one of its records comes, and checks its files
    /// against the files the batch writes; on the adding thread only.
    /// </summary>
    private void NoteSource(RequestRecord record)
    {
        if (record.Batch is not { } batch)
        {
            // A record from elsewhere: how many more will come is unknown until the input ends.
            Volatile.Write(ref _unannounced, true);
        }
        else if (!ReferenceEquals(batch, _lastBatch))
        {
            _lastBatch = batch;
            if (_batches.Add(batch))
            {
                foreach (var file in batch.Files)
                {
                    _durable.CheckSource(file);
                }

                Interlocked.Add(ref _announced, batch.Count);
            }
        }
    }

    private async Task AddWaitingAsync(OutgoingRecord outgoing, CancellationToken cancellationToken)
    {
        try
        {
            await _runner.AddAsync(outgoing, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Interlocked.Decrement(ref _taken);
            throw;
        }
    }

    // Called for every record: once the files are open, without taking the lock.
    private void OpenFiles()
    {
        if (Volatile.Read(ref _filesOpen))
        {
            return;
        }

        lock (_filesGate)
        {
            if (_filesOpen)
            {
                return;
            }

            try
            {
                _durable.Start();
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                throw new JournalException(JournalErrorIds.Unwritable, exception.Message, exception);
            }
            finally
            {
                // Tried once: a journal that cannot be created fails the first record, not every one.
                Volatile.Write(ref _filesOpen, true);
            }
        }
    }

    private void OnRetry(RetryNotice notice)
    {
        Interlocked.Increment(ref _retries);
        _durable.RecordRetry(notice);
        _observer.OnRetry(notice);
    }

    private void OnLimitChanged(string host, int previous, int current)
    {
        _durable.RecordLimit(host, previous, current);
        _observer.OnLimitChanged(host, previous, current);
    }

    /// <summary>The session's side of the runner: journal, send, and delivery to the summary and the observer.</summary>
    private sealed class Steps : IRecordSteps
    {
        private readonly BatchSession _session;

        public Steps(BatchSession session) => _session = session;

        public async Task<BatchResult> RunAsync(OutgoingRecord record, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _session._running);
            try
            {
                return _session._durable.BeforeSend(record)
                    ?? await _session._sender.SendAsync(record, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _session._running);
            }
        }

        public BatchResult Abandoned(OutgoingRecord record, Exception? exception) => _session._sender.Abandoned(record, exception);

        public void Finished(OutgoingRecord record, BatchResult result) => _session._durable.Record(record, result);

        public void Deliver(BatchResult result)
        {
            var session = _session;
            Interlocked.Increment(ref session._done);
            if (NeedsAttention(result))
            {
                Interlocked.Increment(ref session._problems);
            }

            lock (session._summary)
            {
                session._summary.Add(result);
            }

            session._observer.OnResult(result);
        }

        public void Faulted(BatchResult result, Exception exception)
        {
            var fault = new InvalidOperationException(Text.Format(Messages.ResultNotDelivered, result.Id, exception.Message), exception);
            if (Interlocked.CompareExchange(ref _session._fault, fault, null) is null)
            {
                _session._stop.Cancel();
            }
        }
    }

    private sealed class SilentObserver : IBatchObserver
    {
        public static readonly SilentObserver Instance = new();

        public void OnResult(BatchResult result)
        {
        }
    }
}
