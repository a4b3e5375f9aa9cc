using System;
using System.Collections.Concurrent;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using BatchRequest.Engine.Admission;
using BatchRequest.Engine.Security;
using BatchRequest.Model.Requests;
using BatchRequest.Model.Results;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;

namespace BatchRequest.Engine.Sending;

/// <summary>
/// Sends one record at a time through a shared connection pool, with the batch's retry policy, asking admission
/// before every attempt, and turns whatever happened into exactly one <see cref="BatchResult"/>. Safe to call
/// from many workers at once.
/// </summary>
public sealed class RequestSender : IDisposable
{
    private static readonly ResiliencePropertyKey<OutgoingRecord> RecordKey = new("BatchRequest.OutgoingRecord");

    private readonly SenderOptions _options;
    private readonly TimeProvider _time;
    private readonly HttpClient _client;
    private readonly IAdmission _admission;
    private readonly AttemptExchange _exchange;
    private readonly OutcomeMapper _outcomes;
    private readonly Action<RetryNotice>? _onRetry;

    // Records between a retry's announcement and its attempt: progress tells them from those in flight.
    private long _waitingToRetry;

    // One pipeline per host, so that each host has a circuit of its own; built once even when a host's first
    // records arrive together, as a batch's first wave does (in a fresh process a build takes milliseconds).
    private readonly ConcurrentDictionary<string, Lazy<Task<ResiliencePipeline<HttpAnswer>>>> _pipelines = new(StringComparer.OrdinalIgnoreCase);

    // The first host's pipeline, built in the background from the start, while the records are still being read.
    private Task<ResiliencePipeline<HttpAnswer>>? _firstPipeline;

    /// <param name="options">Validated here; not to be changed afterwards.</param>
    /// <param name="onRetry">Called on a worker thread before each retry; must not block.</param>
    /// <param name="handler">Replaces the default connection pool (tests); disposed with the sender.</param>
    /// <param name="timeProvider">Clock for backoff and pauses; the system clock by default.</param>
    /// <param name="admission">Asked before every attempt; disposed with the sender. By default only the hosts' pauses.</param>
    /// <param name="batchIdentity">Names the batch in derived idempotency keys.</param>
    /// <param name="maxConnectionsPerHost">Connections the default pool opens to one host at most.</param>
    public RequestSender(
        SenderOptions options,
        Action<RetryNotice>? onRetry = null,
        HttpMessageHandler? handler = null,
        TimeProvider? timeProvider = null,
        IAdmission? admission = null,
        string batchIdentity = "",
        int maxConnectionsPerHost = int.MaxValue)
    {
        options.Validate();
        _options = options;
        _onRetry = onRetry;
        _time = timeProvider ?? TimeProvider.System;
        _admission = admission ?? new CompositeAdmission([new HostPauseGate(_time)]);

        // Timeouts are ours, per attempt and per body read; HttpClient's single timeout cannot tell them apart.
        _client = new HttpClient(handler ?? HttpHandlerFactory.Create(options, maxConnectionsPerHost), disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        Redactor = new Redactor(options.SecretHeaders);
        Identity = new RecordIdentity(options.IdempotencyKeyHeader, options.RetryNonIdempotent, batchIdentity);
        _exchange = new AttemptExchange(_client, options, Redactor, _time);
        _outcomes = new OutcomeMapper(options, Redactor);
        var warmUp = handler is null;
        _firstPipeline = Task.Run(() =>
        {
            var pipeline = BuildPipeline();

            // After the pipeline, which the first record needs first; a pool of the caller's own needs no warm-up.
            if (warmUp)
            {
                SendPathWarmUp.Start(options);
            }

            return pipeline;
        });
    }

    /// <summary>Masks this batch's secrets in anything shown or written.</summary>
    public Redactor Redactor { get; }

    /// <summary>Records waiting out the delay before a retry now; safe from any thread.</summary>
    public long WaitingToRetry => Interlocked.Read(ref _waitingToRetry);

    /// <summary>How this batch keys its records; <see cref="RecordIdentity.Prepare"/> makes what <see cref="SendAsync(OutgoingRecord, CancellationToken)"/> takes.</summary>
    public RecordIdentity Identity { get; }

    /// <summary>The record's first request as text safe to show: method, URI and headers with secrets masked, body size.</summary>
    public string Describe(RequestRecord record) => _exchange.Describe(Identity.Prepare(record));

    /// <summary>Sends a record not yet prepared; see <see cref="SendAsync(OutgoingRecord, CancellationToken)"/>.</summary>
    public Task<BatchResult> SendAsync(RequestRecord record, CancellationToken cancellationToken) =>
        SendAsync(Identity.Prepare(record), cancellationToken);

    /// <summary>Sends the record, retrying as the policy allows. Never throws for a failed request.</summary>
    /// <param name="cancellationToken">Stops the batch: no new attempt starts and the one in flight is aborted.</param>
    public async Task<BatchResult> SendAsync(OutgoingRecord outgoing, CancellationToken cancellationToken)
    {
        var record = outgoing.Record;
        var waitStart = _time.GetUtcNow();
        var waitStarted = _time.GetTimestamp();

        // A source of its own only for a record with a time budget; the others need nothing but the batch's stop.
        var recordTimeout = record.Timeout ?? _options.RecordTimeout;
        using var budget = recordTimeout is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (recordTimeout is { } timeout)
        {
            budget!.CancelAfter(timeout);
        }

        var context = ResilienceContextPool.Shared.Get(budget?.Token ?? cancellationToken);
        context.Properties.Set(RecordKey, outgoing);
        Outcome<HttpAnswer> outcome;
        try
        {
            var pipeline = await PipelineFor(record.Uri.Authority).ConfigureAwait(false);
            outcome = await pipeline.ExecuteOutcomeAsync(
                static (ctx, sender) => sender.AttemptAsync(ctx),
                context,
                this).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);

            // A stop during the delay ends the record without its next attempt.
            EndRetryWait(outgoing);
        }

        // Time spent waiting for admission before the first attempt (a rate, a shared quota) is not the record's:
        // its start and duration count from that attempt, or from here for a record that never left.
        var expiredBudget = budget is { IsCancellationRequested: true } && !cancellationToken.IsCancellationRequested ? recordTimeout : null;
        var (startTime, from) = outgoing.FirstAttempt ?? (waitStart, waitStarted);
        return _outcomes.ToResult(outgoing, outcome, expiredBudget, startTime, _time.GetElapsedTime(from));
    }

    /// <summary>
    /// The result of a record that was not sent because the batch stopped (<paramref name="exception"/> null), or
    /// whose way through the batch threw: NotSent while nothing left, else as a failure that may have reached the server.
    /// </summary>
    public BatchResult Abandoned(OutgoingRecord outgoing, Exception? exception) => _outcomes.Abandoned(outgoing, exception);

    public void Dispose()
    {
        _client.Dispose();
        _admission.Dispose();
    }

    // The sender passed as the factory's state: a lambda capturing it would be a new delegate for every record.
    private Task<ResiliencePipeline<HttpAnswer>> PipelineFor(string host) =>
        _pipelines.GetOrAdd(host, static (_, sender) => new(sender.PipelineForNewHost), this).Value;

    private Task<ResiliencePipeline<HttpAnswer>> PipelineForNewHost() =>
        Interlocked.Exchange(ref _firstPipeline, null) ?? Task.FromResult(BuildPipeline());

    private ResiliencePipeline<HttpAnswer> BuildPipeline()
    {
        var builder = new ResiliencePipelineBuilder<HttpAnswer> { TimeProvider = _time };
        if (_options.MaximumRetryCount > 0)
        {
            var retry = new RetryStrategyOptions<HttpAnswer>
            {
                MaxRetryAttempts = _options.MaximumRetryCount,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = _options.RetryInterval,
                MaxDelay = _options.MaximumRetryDelay,
                ShouldHandle = args => new ValueTask<bool>(ShouldRetry(args.Outcome, args.Context.Properties.GetValue(RecordKey, null!))),
                DelayGenerator = args => new ValueTask<TimeSpan?>(args.Outcome.Result?.RetryAfter),
                OnRetry = args =>
                {
                    var outgoing = args.Context.Properties.GetValue(RecordKey, null!);
                    if (outgoing.BeginRetryWait())
                    {
                        Interlocked.Increment(ref _waitingToRetry);
                    }

                    _onRetry?.Invoke(new RetryNotice(
                        Redactor.Redact(outgoing.Record),
                        args.AttemptNumber + 2,
                        args.RetryDelay,
                        Describe(args.Outcome),
                        args.Outcome.Result?.RetryAfter is not null));
                    return default;
                },
            };
            if (_options.Jitter is { } jitter)
            {
                retry.Randomizer = jitter;
            }

            builder.AddRetry(retry);
        }

        if (!_options.CircuitBreaker)
        {
            return builder.Build();
        }

        // Inside the retry, so every attempt counts toward the host's circuit and a broken circuit ends the retries.
        // A ratio of 1 opens it only for a host that gave no answer at all to the attempts of the window: a host that
        // answers some, or answers 429 and 503, is busy, not down, and admission slows the batch down instead.
        builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpAnswer>
        {
            FailureRatio = 1.0,
            MinimumThroughput = _options.CircuitBreakerThreshold,
            SamplingDuration = _options.CircuitSamplingDuration,
            BreakDuration = _options.CircuitBreakDuration,
            ShouldHandle = args => new ValueTask<bool>(args.Outcome.Exception is { } exception
                ? FailureClassifier.IsHostFailure(FailureClassifier.KindOf(exception))
                : FailureClassifier.IsHostFailure(args.Outcome.Result!.StatusCode)),
        });

        return builder.Build();
    }

    private bool ShouldRetry(Outcome<HttpAnswer> outcome, OutgoingRecord outgoing)
    {
        if (outcome.Exception is { } exception)
        {
            return FailureClassifier.ShouldRetry(FailureClassifier.KindOf(exception), outgoing.MayResend);
        }

        var answer = outcome.Result!;
        return !answer.IsSuccess && !_outcomes.IsThrottled(answer) && FailureClassifier.ShouldRetry(answer.StatusCode, outgoing.MayResend);
    }

    private async ValueTask<Outcome<HttpAnswer>> AttemptAsync(ResilienceContext context)
    {
        var cancellationToken = context.CancellationToken;
        var outgoing = context.Properties.GetValue(RecordKey, null!);
        EndRetryWait(outgoing);
        var host = outgoing.Record.Uri.Authority;
        IAdmissionTicket? ticket = null;
        long? started = null;
        try
        {
            _exchange.EnsureMaySend(outgoing.Record, outgoing.Record.Uri, carriesSecrets: true);
            ticket = await _admission.AdmitAsync(host, cancellationToken).ConfigureAwait(false);
            started = _time.GetTimestamp();
            outgoing.CountAttempt(_time.GetUtcNow(), started.Value);
            var answer = await _exchange.RunAsync(outgoing, cancellationToken).ConfigureAwait(false);
            ticket.Complete(new AttemptFeedback(
                SignalOf(answer.StatusCode),
                _time.GetElapsedTime(started.Value),
                answer.RetryAfter is { } wait && !_outcomes.IsThrottled(answer) ? wait : null));
            return Outcome.FromResult(answer);
        }
        catch (Exception exception)
        {
            // Only an attempt that started teaches admission anything; a refusal before it (a host not allowed) does not.
            if (started is { } start)
            {
                ticket!.Complete(new AttemptFeedback(SignalOf(FailureClassifier.KindOf(exception)), _time.GetElapsedTime(start)));
            }

            return Outcome.FromException<HttpAnswer>(exception);
        }
        finally
        {
            ticket?.Dispose();
        }
    }

    private void EndRetryWait(OutgoingRecord outgoing)
    {
        if (outgoing.EndRetryWait())
        {
            Interlocked.Decrement(ref _waitingToRetry);
        }
    }

    private static AttemptSignal SignalOf(int statusCode) =>
        FailureClassifier.IsOverload(statusCode) ? AttemptSignal.Overloaded
        : FailureClassifier.IsHostFailure(statusCode) ? AttemptSignal.Failed
        : AttemptSignal.Answered;

    // A refusal or a reset is how a busy server sheds connections; both slow the batch down all the same.
    private static AttemptSignal SignalOf(ErrorKind kind) => kind switch
    {
        ErrorKind.Canceled => AttemptSignal.Canceled,
        ErrorKind.ConnectFailed or ErrorKind.ConnectionReset => AttemptSignal.Overloaded,
        _ => AttemptSignal.Failed,
    };

    private static string Describe(Outcome<HttpAnswer> outcome) => outcome.Exception is { } exception
        ? $"{FailureClassifier.KindOf(exception)}: {exception.Message}"
        : $"{outcome.Result!.StatusCode} ({outcome.Result.ReasonPhrase})";
}
