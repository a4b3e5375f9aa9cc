using System;
using System.Diagnostics;
using System.IO;
using System.Management.Automation;
using System.Threading;
using BatchRequest.Bridge;
using BatchRequest.Completion;
using BatchRequest.Engine.Journal;
using BatchRequest.Engine.Reporting;
using BatchRequest.Engine.Requests;
using BatchRequest.Engine.Resources;
using BatchRequest.Engine.Sending;
using BatchRequest.Errors;

namespace BatchRequest.Commands;

/// <summary>Sends request records concurrently under a throttle, with retries, and emits one result per record.</summary>
[Cmdlet(VerbsLifecycle.Invoke, "BatchRequest", SupportsShouldProcess = true)]
[OutputType(typeof(BatchResult))]
public sealed class InvokeBatchRequestCommand : AsyncPipelineCmdlet
{
    /// <summary>How many results -Ordered may hold back per throttle slot while an earlier record is still running.</summary>
    private const int ReorderWindowPerSlot = 4;

    private readonly Stopwatch _elapsed = new();
    private readonly SummaryBuilder _summary = new();
    private RequestSender? _sender;
    private BatchRunner? _runner;
    private bool _inputComplete;
    private long _taken;
    private long _done;
    private long _failed;
    private long _retries;

    // Durable runs: the journal, resume and failed records live in the engine's DurableRun.
    private DurableRun? _durable;
    private CancellationTokenSource? _batchStop;
    private bool _durableStarted;

    /// <summary>A request to send, usually from Import-RequestFile.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public RequestRecord InputObject { get; set; } = null!;

    /// <summary>Most requests in flight at once, and most connections opened to one host.</summary>
    [Parameter]
    [ValidateRange(1, 1024)]
    public int ThrottleLimit { get; set; } = 10;

    /// <summary>Retries after the first attempt of a record; 0 sends each record once.</summary>
    [Parameter]
    [ValidateRange(0, 100)]
    public int MaximumRetryCount { get; set; } = 3;

    /// <summary>Base of the exponential backoff between attempts, in seconds; fractions allowed.</summary>
    [Parameter]
    [ValidateRange(0.001, 3600.0)]
    public double RetryIntervalSec { get; set; } = 1;

    /// <summary>Time allowed per attempt until the response headers arrive, in seconds.</summary>
    [Parameter]
    [ValidateRange(0.001, 86400.0)]
    public double ConnectionTimeoutSeconds { get; set; } = 100;

    /// <summary>Idle time allowed between two reads of a response body, in seconds.</summary>
    [Parameter]
    [ValidateRange(0.001, 86400.0)]
    public double OperationTimeoutSeconds { get; set; } = 100;

    /// <summary>Longest Retry-After obeyed, in seconds; a longer demand ends the record as Throttled.</summary>
    [Parameter]
    [ValidateRange(0.0, 86400.0)]
    public double MaximumRetryAfterSec { get; set; } = 120;

    /// <summary>Header that carries a per-record key, identical on every attempt; makes POST and PATCH retryable.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? IdempotencyKeyHeader { get; set; }

    /// <summary>Retry POST and PATCH after failures that may have reached the server, at the risk of a double effect.</summary>
    [Parameter]
    public SwitchParameter RetryNonIdempotent { get; set; }

    /// <summary>Most attempts started per second over the whole batch, retries included; fractions allowed.</summary>
    [Parameter]
    [ValidateRange(0.001, 1000000.0)]
    public double RequestsPerSecond { get; set; }

    /// <summary>Budget of one record for all its attempts and waits, in seconds; a record's own timeoutSec wins.</summary>
    [Parameter]
    [ValidateRange(0.001, 604800.0)]
    public double RecordTimeoutSec { get; set; }

    /// <summary>HTTP version to ask for; the connection falls back to a lower one when the server lacks it.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(HttpVersionCompleter))]
    public Version HttpVersion { get; set; } = new(1, 1);

    /// <summary>Emit results in input order instead of completion order, holding back a bounded number.</summary>
    [Parameter]
    public SwitchParameter Ordered { get; set; }

    /// <summary>Write no error record for records that got a definite non-success answer; their result still says Failed.</summary>
    [Parameter]
    public SwitchParameter SkipHttpErrorCheck { get; set; }

    /// <summary>
    /// Appends every send and every outcome to this NDJSON journal as it happens, so that a killed run can be
    /// continued with -Resume. Holds ids, fingerprints, statuses and times; never bodies or header values.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? JournalPath { get; set; }

    /// <summary>
    /// Continues the batch of -JournalPath: records it shows succeeded are skipped (Status Skipped), the rest are
    /// sent. A journal that does not exist yet starts the batch, so a scheduled job can always pass -Resume.
    /// </summary>
    [Parameter]
    public SwitchParameter Resume { get; set; }

    /// <summary>Writes every record that does not succeed to this file, as NDJSON that Import-RequestFile reads to send them again.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? FailedPath { get; set; }

    /// <summary>Names the batch in derived idempotency keys; a journal remembers it, so a resumed run need not repeat it.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? BatchId { get; set; }

    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        _durable = OpenDurableRun();
        var options = new SenderOptions
        {
            ThrottleLimit = ThrottleLimit,
            MaximumRetryCount = MaximumRetryCount,
            RetryInterval = TimeSpan.FromSeconds(RetryIntervalSec),
            ConnectionTimeout = TimeSpan.FromSeconds(ConnectionTimeoutSeconds),
            OperationTimeout = TimeSpan.FromSeconds(OperationTimeoutSeconds),
            MaximumRetryAfter = TimeSpan.FromSeconds(MaximumRetryAfterSec),
            IdempotencyKeyHeader = IdempotencyKeyHeader,
            RetryNonIdempotent = RetryNonIdempotent,
            HttpVersion = HttpVersion,
            RequestsPerSecond = MyInvocation.BoundParameters.ContainsKey(nameof(RequestsPerSecond)) ? RequestsPerSecond : null,
            RecordTimeout = MyInvocation.BoundParameters.ContainsKey(nameof(RecordTimeoutSec)) ? TimeSpan.FromSeconds(RecordTimeoutSec) : null,
            BatchIdentity = _durable?.BatchId ?? BatchId ?? string.Empty,
        };
        _sender = new RequestSender(options, OnRetry);

        // A journal that cannot be written stops the workers as Ctrl+C would, but leaves the pipeline to us.
        _batchStop = CancellationTokenSource.CreateLinkedTokenSource(StopToken);
        _runner = new BatchRunner(
            _sender,
            ThrottleLimit,
            OnResult,
            Ordered ? ThrottleLimit * ReorderWindowPerSlot : null,
            _durable is null ? null : _durable.BeforeSend,
            _durable is null ? null : _durable.Record);
        _runner.Start(_batchStop.Token);
        _elapsed.Start();
    }

    protected override void ProcessRecord()
    {
        if (!ShouldProcess(InputObject.ToString(), Messages.SendAction))
        {
            return;
        }

        StartDurableRun();
        _taken++;

        // Back-pressure: while the batch is full the pipeline thread waits here, writing results meanwhile.
        if (!_runner!.TryAdd(InputObject))
        {
            WaitWhileWriting(_runner.AddAsync(InputObject, StopToken));
        }

        StopOnDurableFault();
        WriteQueued();
    }

    protected override void EndProcessing()
    {
        _runner!.Complete();
        _inputComplete = true;
        WaitWhileWriting(_runner.Completion);
        StopOnDurableFault();
        WriteProgress(new ProgressRecord(1, Messages.ProgressActivity, Messages.ProgressDone) { RecordType = ProgressRecordType.Completed });

        BatchSummary summary;
        lock (_summary)
        {
            summary = _summary.Build();
        }

        WriteInformation(summary, new[] { SummaryTag });
    }

    /// <summary>Tag of the information record that carries the batch's <see cref="BatchSummary"/>.</summary>
    public const string SummaryTag = "BatchSummary";

    protected override ProgressRecord? CreateProgress()
    {
        var done = Interlocked.Read(ref _done);
        var seconds = _elapsed.Elapsed.TotalSeconds;
        var rate = seconds > 0 ? done / seconds : 0;
        var status = Text.Format(
            Messages.ProgressStatus,
            done,
            _taken,
            _taken - done,
            rate,
            Interlocked.Read(ref _retries),
            Interlocked.Read(ref _failed));
        var progress = new ProgressRecord(1, Messages.ProgressActivity, status);

        // Only once the input has ended is the total known, and with it a percentage and an ETA.
        if (_inputComplete && _taken > 0)
        {
            progress.PercentComplete = (int)(100 * done / _taken);
            progress.SecondsRemaining = rate > 0 ? (int)((_taken - done) / rate) : -1;
        }

        return progress;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _sender?.Dispose();
            _durable?.Dispose();
            _batchStop?.Dispose();
        }
    }

    // Runs on worker threads: only counts and queues.
    private void OnResult(BatchResult result)
    {
        Interlocked.Increment(ref _done);
        lock (_summary)
        {
            _summary.Add(result);
        }

        QueueOutput(result);

        // A skip is an earlier run's success; only the skip of a changed record carries an error to report.
        if (result.Status != BatchStatus.Succeeded && !(result.Status == BatchStatus.Skipped && result.Error is null))
        {
            Interlocked.Increment(ref _failed);
            if (!(SkipHttpErrorCheck && result.ErrorKind == ErrorKind.HttpStatus))
            {
                QueueError(ResultErrors.For(result));
            }
        }
    }

    // Runs on worker threads: only counts and queues.
    private void OnRetry(RetryNotice notice)
    {
        Interlocked.Increment(ref _retries);
        QueueVerbose(Text.Format(
            notice.DelayFromServer ? Messages.RetryAnnouncedServer : Messages.RetryAnnouncedBackoff,
            notice.Record.Id,
            notice.Record.Method,
            notice.Record.Uri.GetLeftPart(UriPartial.Path),
            notice.Reason,
            notice.NextAttempt,
            notice.Delay.TotalSeconds));
    }

    /// <summary>Opens the journal and the failed-records file the parameters ask for; null when they ask for none.</summary>
    private DurableRun? OpenDurableRun()
    {
        if (JournalPath is null && FailedPath is null && !Resume)
        {
            return null;
        }

        var options = new DurableRunOptions
        {
            JournalPath = JournalPath is null ? null : GetUnresolvedProviderPathFromPSPath(JournalPath),
            Resume = Resume,
            FailedPath = FailedPath is null ? null : GetUnresolvedProviderPathFromPSPath(FailedPath),
            BatchId = BatchId,
            IdempotencyKeyHeader = IdempotencyKeyHeader,
            RetryNonIdempotent = RetryNonIdempotent,
        };
        try
        {
            var durable = DurableRun.Open(options, QueueWarning, _ => _batchStop!.Cancel());
            if (durable.TornJournalLine is { } line)
            {
                WriteVerbose(Text.Format(Messages.JournalTornLine, options.JournalPath, line));
            }

            return durable;
        }
        catch (JournalException exception)
        {
            ThrowTerminatingError(ResultErrors.ForJournal(exception, options.JournalPath));
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            ThrowTerminatingError(new ErrorRecord(exception, JournalErrorIds.Unreadable, ErrorCategory.ReadError, options.JournalPath));
        }

        return null;
    }

    /// <summary>Creates the files at the first record that is really sent, so that -WhatIf leaves them alone.</summary>
    private void StartDurableRun()
    {
        if (_durable is null || _durableStarted)
        {
            return;
        }

        _durableStarted = true;
        try
        {
            _durable.Start();
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            ThrowTerminatingError(new ErrorRecord(exception, JournalErrorIds.Unwritable, ErrorCategory.WriteError, JournalPath ?? FailedPath));
        }
    }

    /// <summary>After a journal write failed: writes every record's result (the rest end NotSent), then stops with the failure.</summary>
    private void StopOnDurableFault()
    {
        if (_durable?.Fault is JournalException fault)
        {
            _runner!.Complete();
            _inputComplete = true;
            WaitWhileWriting(_runner.Completion);
            ThrowTerminatingError(ResultErrors.ForJournal(fault, JournalPath ?? FailedPath));
        }
    }
}
