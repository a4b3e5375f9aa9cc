using System;
using System.Collections;
using System.Management.Automation;
using System.Security;
using System.Security.Cryptography.X509Certificates;
using BatchRequest.Binding;
using BatchRequest.Bridge;
using BatchRequest.Completion;
using BatchRequest.Conversion;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Journal;
using BatchRequest.Engine.Session;
using BatchRequest.Engine.SharedQuota;
using BatchRequest.Errors;
using BatchRequest.Model.Requests;
using BatchRequest.Model.Results;
using BatchRequest.Resources;

namespace BatchRequest.Commands;

/// <summary>Sends request records concurrently under a throttle, with retries, and emits one result per record.</summary>
[Cmdlet(VerbsLifecycle.Invoke, "BatchRequest", SupportsShouldProcess = true)]
[OutputType(typeof(BatchResult))]
public sealed class InvokeBatchRequestCommand : AsyncPipelineCmdlet
{
    /// <summary>Tag of the information record that carries the batch's summary.</summary>
    public const string SummaryTag = "BatchSummary";

    private BatchSession? _session;
    private bool _summaryWritten;

    // Looked up once: a resource lookup per record takes a lock that the workers' lookups contend for.
    private readonly string _sendAction = Messages.SendAction;

    /// <summary>A request to send: from Import-RequestFile or New-BatchRequest, or any object with a Uri (or Url) property.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [RequestRecordTransformation]
    public RequestRecord InputObject { get; set; } = null!;

    /// <summary>Most requests in flight at once, and most connections opened to one host.</summary>
    [Parameter]
    [ValidateRange(1, 1024)]
    public int ThrottleLimit { get; set; } = 10;

    /// <summary>Find the API's capacity: -ThrottleLimit becomes the ceiling of a per-host limit that grows while answers are good and backs off on overload.</summary>
    [Parameter]
    public SwitchParameter AdaptiveThrottle { get; set; }

    /// <summary>Attempts to a host, all without an answer within 30 seconds, that open its circuit: its remaining records end NotSent.</summary>
    [Parameter]
    [ValidateRange(2, 1000000)]
    public int CircuitBreakerThreshold { get; set; } = 20;

    /// <summary>How long an open circuit refuses a host's records before one probe may try it again, in seconds.</summary>
    [Parameter]
    [ValidateRange(0.5, 86400.0)]
    public double CircuitBreakSec { get; set; } = 30;

    /// <summary>Never open a host's circuit: every record is tried, however the host answered others.</summary>
    [Parameter]
    public SwitchParameter NoCircuitBreaker { get; set; }

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
    [HttpVersionTransformation]
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

    /// <summary>A quota shared with every process naming it, on Redis: redis://host:port[/db]/name or rediss://.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SharedThrottle { get; set; }

    /// <summary>The password (and user, for Redis ACLs) of the -SharedThrottle store.</summary>
    [Parameter]
    [Credential]
    public PSCredential? SharedThrottleCredential { get; set; }

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

    /// <summary>User-Agent of every request; by default BatchRequest/version PowerShell/version. A record's own User-Agent header wins.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? UserAgent { get; set; }

    /// <summary>Writes each answer's body, byte for byte, to a file in this existing folder named after the record's id; the result's OutFile names it.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? OutDirectory { get; set; }

    /// <summary>Largest body written to a file under -OutDirectory, in bytes; a larger one ends as ResponseTooLarge. No limit by default.</summary>
    [Parameter]
    [ValidateRange(1L, long.MaxValue)]
    public long MaximumOutFileSize { get; set; }

    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        if (SkipCertificateCheck)
        {
            WriteWarning(Messages.SkipCertificateCheckWarning);
        }

        BatchSessionOptions options;
        try
        {
            options = SessionOptionsBinder.Bind(this, InvokeOnPipelineThread);
        }
        catch (ParameterConflictException conflict)
        {
            ThrowTerminatingError(new ErrorRecord(conflict, conflict.ErrorId, ErrorCategory.InvalidArgument, null));
            return;
        }

        try
        {
            _session = BatchSession.Open(options, new SessionObserver(this, SkipHttpErrorCheck, ThrottleLimit));
        }
        catch (JournalException exception)
        {
            ThrowTerminatingError(ResultErrors.ForJournal(exception, options.Journal.JournalPath));
        }
        catch (SharedQuotaException exception)
        {
            ThrowTerminatingError(new ErrorRecord(exception, exception.ErrorId, ErrorCategory.ResourceUnavailable, options.Admission.SharedQuota?.ToString()));
        }

        if (_session!.TornJournalLine is { } line)
        {
            WriteVerbose(Text.Format(Messages.JournalTornLine, options.Journal.JournalPath, line));
        }

        _session.Start(StopToken);
    }

    protected override void ProcessRecord()
    {
        // Asked only when it can say no or show something: otherwise it answers yes, after formatting a message
        // per record (a resource lookup under a lock) that nobody sees.
        if (ShowsShouldProcess && !ShouldProcess(_session!.Describe(InputObject), _sendAction))
        {
            return;
        }

        try
        {
            // Back-pressure: while the batch is full the pipeline thread waits here, writing results meanwhile.
            WaitWhileWriting(_session!.AddAsync(InputObject, StopToken));
        }
        catch (JournalException exception)
        {
            ThrowTerminatingError(ResultErrors.ForJournal(exception, JournalPath ?? FailedPath));
        }

        StopOnFault();
        WriteQueued();
    }

    protected override void EndProcessing()
    {
        _session!.Complete();
        WaitWhileWriting(_session.Completion);
        StopOnFault();
        CompleteProgress();
        WriteSummary();
    }

    protected override ProgressRecord? CreateProgress() => ProgressReport.Of(_session!.Progress);

    protected override void Dispose(bool disposing)
    {
        if (disposing && _session is { } session)
        {
            try
            {
                // A batch stopped by Ctrl+C, or cut short downstream (Select-Object -First), still tells what it did:
                // the stop ends what was queued NotSent and what was in flight Canceled, and the summary counts them.
                if (!_summaryWritten)
                {
                    session.Stop();
                    WriteSummary();
                }
            }
            finally
            {
                session.Dispose();
            }
        }
    }

    private void WriteSummary()
    {
        _summaryWritten = true;
        WriteInformation(_session!.Summary(), new[] { SummaryTag });
    }

    /// <summary>After the batch stopped on a fault: writes every record's result (the rest end NotSent), then stops with the fault.</summary>
    private void StopOnFault()
    {
        if (_session!.Fault is { } fault)
        {
            _session.Complete();
            WaitWhileWriting(_session.Completion);
            ThrowTerminatingError(ResultErrors.ForFault(fault, JournalPath ?? FailedPath));
        }
    }
}
