using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Management.Automation;
using System.Net;
using System.Security;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using BatchRequest.Bridge;
using BatchRequest.Completion;
using BatchRequest.Conversion;
using BatchRequest.Engine.Journal;
using BatchRequest.Engine.Reporting;
using BatchRequest.Engine.Resources;
using BatchRequest.Engine.Security;
using BatchRequest.Engine.Sending;
using BatchRequest.Errors;
using BatchRequest.Model.Reporting;
using BatchRequest.Model.Requests;
using BatchRequest.Model.Results;

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

    /// <summary>A request to send: from Import-RequestFile or New-BatchRequest, or any object with a Uri (or Url) property.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [RequestRecordTransformation]
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

    /// <summary>How to authenticate every request: Bearer or OAuth with -Token or -TokenProvider, Basic with -Credential.</summary>
    [Parameter]
    public BatchAuthentication Authentication { get; set; }

    /// <summary>Bearer token for -Authentication Bearer or OAuth; implies Bearer when -Authentication is not given.</summary>
    [Parameter]
    public SecureString? Token { get; set; }

    /// <summary>
    /// Script block that returns a fresh token (a SecureString); called at the start, and again once for all workers
    /// when the server answers 401, after which the rejected request is retried once. Runs on the pipeline thread.
    /// </summary>
    [Parameter]
    public ScriptBlock? TokenProvider { get; set; }

    /// <summary>User and password for -Authentication Basic; implies Basic when -Authentication is not given.</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>Answer authentication challenges with the identity of the current user.</summary>
    [Parameter]
    public SwitchParameter UseDefaultCredentials { get; set; }

    /// <summary>Client certificate offered to servers that ask for one.</summary>
    [Parameter]
    public X509Certificate2? Certificate { get; set; }

    /// <summary>Headers sent with every record; a record's own header of the same name wins.</summary>
    [Parameter]
    public IDictionary? Headers { get; set; }

    /// <summary>More header names to treat as secrets: masked everywhere and dropped on a cross-origin redirect.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? SecretHeader { get; set; }

    /// <summary>Send credentials over plain http; refused by default.</summary>
    [Parameter]
    public SwitchParameter AllowUnencryptedAuthentication { get; set; }

    /// <summary>Proxy server for every request, instead of the environment's proxy settings.</summary>
    [Parameter]
    public Uri? Proxy { get; set; }

    /// <summary>Credential for -Proxy.</summary>
    [Parameter]
    [Credential]
    public PSCredential? ProxyCredential { get; set; }

    /// <summary>Connect directly, ignoring the environment's proxy settings.</summary>
    [Parameter]
    public SwitchParameter NoProxy { get; set; }

    /// <summary>Redirects followed per attempt; 0 follows none and returns the redirect as the answer.</summary>
    [Parameter]
    [ValidateRange(0, 50)]
    public int MaximumRedirection { get; set; } = 5;

    /// <summary>Follow redirects to another scheme, host or port, dropping credentials and secret headers on the way.</summary>
    [Parameter]
    public SwitchParameter FollowCrossOriginRedirect { get; set; }

    /// <summary>Accept any server certificate. Dangerous: only for test servers you control.</summary>
    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    /// <summary>Largest response body kept, in bytes, counted after decompression; a larger one ends as ResponseTooLarge.</summary>
    [Parameter]
    [ValidateRange(1L, long.MaxValue)]
    public long MaximumResponseBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>Hosts records may be sent to, redirects included; a record for any other host is not sent.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? AllowedHost { get; set; }

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
        if (SkipCertificateCheck)
        {
            WriteWarning(Messages.SkipCertificateCheckWarning);
        }

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
            CommonHeaders = HeadersFrom(Headers),
            SecretHeaders = SecretHeader ?? Array.Empty<string>(),
            UseDefaultCredentials = UseDefaultCredentials,
            AllowUnencryptedAuthentication = AllowUnencryptedAuthentication,
            ClientCertificate = Certificate,
            Proxy = Proxy is null ? null : new WebProxy(Proxy) { Credentials = ProxyCredential?.GetNetworkCredential() },
            NoProxy = NoProxy,
            MaximumRedirection = MaximumRedirection,
            FollowCrossOriginRedirect = FollowCrossOriginRedirect,
            SkipCertificateCheck = SkipCertificateCheck,
            MaximumResponseBytes = MaximumResponseBytes,
            AllowedHosts = AllowedHost,
            BatchIdentity = _durable?.BatchId ?? BatchId ?? string.Empty,
        };
        ApplyAuthentication(options);
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
        if (!ShouldProcess(_sender!.Redactor.Redact(InputObject).ToString(), Messages.SendAction))
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
            // Cancelled already by the bridge; let the workers hand back their records before their sender and
            // journal go, whether the pipeline ended, was stopped, or was cut short downstream.
            if (_runner is not null)
            {
                _runner.Complete();
                Task.WhenAny(_runner.Completion, Task.Delay(TimeSpan.FromSeconds(1))).Wait();
            }

            _sender?.Dispose();
            _durable?.Dispose();
            _batchStop?.Dispose();
        }
    }

    private static IReadOnlyDictionary<string, string> HeadersFrom(IDictionary? headers)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (headers is not null)
        {
            foreach (DictionaryEntry entry in headers)
            {
                result[entry.Key.ToString()!] = entry.Value?.ToString() ?? string.Empty;
            }
        }

        return result;
    }

    /// <summary>Checks the authentication parameters together and puts the credentials into the options.</summary>
    private void ApplyAuthentication(SenderOptions options)
    {
        var scheme = Authentication;
        if (scheme == BatchAuthentication.None)
        {
            scheme = Token is not null || TokenProvider is not null ? BatchAuthentication.Bearer
                : Credential is not null ? BatchAuthentication.Basic
                : BatchAuthentication.None;
        }

        switch (scheme)
        {
            case BatchAuthentication.Bearer or BatchAuthentication.OAuth:
                if (Token is null && TokenProvider is null)
                {
                    ThrowParameterError(Messages.TokenRequired, nameof(Token));
                }

                // The provider's first answer is the starting token; it runs here, on the pipeline thread.
                var token = Token is not null ? Plain(Token) : RunTokenProvider();
                options.BearerToken = new BearerToken(
                    token,
                    TokenProvider is null ? null : cancellationToken => InvokeOnPipelineThread(RunTokenProvider, cancellationToken));
                break;
            case BatchAuthentication.Basic:
                if (Credential is null)
                {
                    ThrowParameterError(Messages.CredentialRequired, nameof(Credential));
                }

                options.BasicCredential = Credential!.GetNetworkCredential();
                break;
        }
    }

    private string RunTokenProvider()
    {
        var output = TokenProvider!.Invoke();
        var last = output.Count > 0 ? output[output.Count - 1]?.BaseObject : null;
        return last switch
        {
            SecureString secure => Plain(secure),
            string text when text.Length > 0 => text,
            _ => throw new PSInvalidOperationException(Messages.TokenProviderReturnedNoToken),
        };
    }

    private static string Plain(SecureString secure) => new NetworkCredential(string.Empty, secure).Password;

    private void ThrowParameterError(string message, string parameterName) =>
        ThrowTerminatingError(new ErrorRecord(
            new PSArgumentException(message, parameterName),
            "AuthenticationParameterMissing",
            ErrorCategory.InvalidArgument,
            null));

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
            _sender!.Redactor.Redact(notice.Record.Uri),
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
            Redactor = new Redactor(SecretHeader),
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
