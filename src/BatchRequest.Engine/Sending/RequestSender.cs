using System;
using System.Buffers;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Threading;
using System.Threading.RateLimiting;
using System.Threading.Tasks;
using BatchRequest.Engine.Resources;
using BatchRequest.Engine.Security;
using BatchRequest.Model.Requests;
using BatchRequest.Model.Results;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;

namespace BatchRequest.Engine.Sending;

/// <summary>
/// Sends one record at a time through a shared connection pool, with the batch's retry policy, and turns
/// whatever happened into exactly one <see cref="BatchResult"/>. Safe to call from many workers at once.
/// </summary>
public sealed class RequestSender : IDisposable
{
    private static readonly ResiliencePropertyKey<AttemptState> StateKey = new("BatchRequest.AttemptState");

    private readonly SenderOptions _options;
    private readonly TimeProvider _time;
    private readonly HttpClient _client;
    private readonly HostPauseGate _pauses;
    private readonly RateLimiter? _rateLimiter;
    private readonly Redactor _redactor;
    private readonly HashSet<string>? _allowedHosts;
    private readonly Action<RetryNotice>? _onRetry;

    // One pipeline per host, so that each host has a circuit of its own.
    private readonly ConcurrentDictionary<string, ResiliencePipeline<HttpAnswer>> _pipelines = new(StringComparer.OrdinalIgnoreCase);

    /// <param name="options">Validated here; not to be changed afterwards.</param>
    /// <param name="onRetry">Called on a worker thread before each retry; must not block.</param>
    /// <param name="handler">Replaces the default connection pool (tests); disposed with the sender.</param>
    /// <param name="timeProvider">Clock for backoff and pauses; the system clock by default.</param>
    public RequestSender(
        SenderOptions options,
        Action<RetryNotice>? onRetry = null,
        HttpMessageHandler? handler = null,
        TimeProvider? timeProvider = null)
    {
        options.Validate();
        _options = options;
        _onRetry = onRetry;
        _time = timeProvider ?? TimeProvider.System;
        _pauses = new HostPauseGate(_time);

        // Timeouts are ours, per attempt and per body read; HttpClient's single timeout cannot tell them apart.
        _client = new HttpClient(handler ?? HttpHandlerFactory.Create(options), disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _rateLimiter = options.RequestsPerSecond is { } rate ? CreateRateLimiter(rate) : null;
        _redactor = new Redactor(options.SecretHeaders);
        _allowedHosts = options.AllowedHosts is { } hosts ? new HashSet<string>(hosts, StringComparer.OrdinalIgnoreCase) : null;
    }

    /// <summary>Masks this batch's secrets in anything shown or written.</summary>
    public Redactor Redactor => _redactor;

    /// <summary>Sends the record, retrying as the policy allows. Never throws for a failed request.</summary>
    /// <param name="cancellationToken">Stops the batch: no new attempt starts and the one in flight is aborted.</param>
    public async Task<BatchResult> SendAsync(RequestRecord record, CancellationToken cancellationToken)
    {
        var state = new AttemptState(
            record,
            FailureClassifier.MayResend(record.Method, _options.RetryNonIdempotent, _options.IdempotencyKeyHeader),
            IdempotencyKeys.Of(record, _options.IdempotencyKeyHeader, _options.BatchIdentity));
        var startTime = _time.GetUtcNow();
        var started = _time.GetTimestamp();

        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var recordTimeout = record.Timeout ?? _options.RecordTimeout;
        if (recordTimeout is { } timeout)
        {
            budget.CancelAfter(timeout);
        }

        var context = ResilienceContextPool.Shared.Get(budget.Token);
        context.Properties.Set(StateKey, state);
        Outcome<HttpAnswer> outcome;
        try
        {
            var pipeline = _pipelines.GetOrAdd(record.Uri.Authority, _ => BuildPipeline());
            outcome = await pipeline.ExecuteOutcomeAsync(
                static (ctx, s) => s.Sender.AttemptAsync(ctx, s.State),
                context,
                (Sender: this, State: state)).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        var expiredBudget = budget.IsCancellationRequested && !cancellationToken.IsCancellationRequested ? recordTimeout : null;
        return Conclude(state, outcome, expiredBudget, startTime, _time.GetElapsedTime(started));
    }

    public void Dispose()
    {
        _client.Dispose();
        _rateLimiter?.Dispose();
    }

    /// <summary>A token bucket refilled in small steps, so a rate never arrives as one burst per second.</summary>
    private static RateLimiter CreateRateLimiter(double requestsPerSecond)
    {
        // At most a tenth of a second's worth at once, and a period that makes the rate exact.
        var tokensPerPeriod = Math.Max(1, (int)Math.Ceiling(requestsPerSecond / 10));
        var period = TimeSpan.FromSeconds(tokensPerPeriod / requestsPerSecond);
        return new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = tokensPerPeriod,
            TokensPerPeriod = tokensPerPeriod,
            ReplenishmentPeriod = period,
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
    }

    private ResiliencePipeline<HttpAnswer> BuildPipeline()
    {
        var builder = new ResiliencePipelineBuilder<HttpAnswer> { TimeProvider = _time };
        if (_options.MaximumRetryCount > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpAnswer>
            {
                MaxRetryAttempts = _options.MaximumRetryCount,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = _options.RetryInterval,
                MaxDelay = _options.MaximumRetryDelay,
                ShouldHandle = args => new ValueTask<bool>(ShouldRetry(args.Outcome, args.Context.Properties.GetValue(StateKey, null!))),
                DelayGenerator = args => new ValueTask<TimeSpan?>(args.Outcome.Result?.RetryAfter),
                OnRetry = args =>
                {
                    var state = args.Context.Properties.GetValue(StateKey, null!);
                    _onRetry?.Invoke(new RetryNotice(
                        state.Record,
                        args.AttemptNumber + 2,
                        args.RetryDelay,
                        Describe(args.Outcome),
                        args.Outcome.Result?.RetryAfter is not null));
                    return default;
                },
            });
        }

        // Inside the retry, so every attempt counts toward the host's circuit and a broken circuit ends the retries.
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

    private bool ShouldRetry(Outcome<HttpAnswer> outcome, AttemptState state)
    {
        if (outcome.Exception is { } exception)
        {
            return FailureClassifier.ShouldRetry(FailureClassifier.KindOf(exception), state.MayResend);
        }

        var answer = outcome.Result!;
        return !answer.IsSuccess && !IsThrottled(answer) && FailureClassifier.ShouldRetry(answer.StatusCode, state.MayResend);
    }

    private bool IsThrottled(HttpAnswer answer) => answer.RetryAfter > _options.MaximumRetryAfter;

    private async ValueTask<Outcome<HttpAnswer>> AttemptAsync(ResilienceContext context, AttemptState state)
    {
        var cancellationToken = context.CancellationToken;
        var record = state.Record;
        try
        {
            EnsureMaySend(record.Uri, carriesCredentials: true);
            await _pauses.WaitAsync(record.Uri.Authority, cancellationToken).ConfigureAwait(false);

            // Retries spend tokens too: the rate is what the server sees, not what the file holds.
            using var lease = _rateLimiter is null
                ? null
                : await _rateLimiter.AcquireAsync(1, cancellationToken).ConfigureAwait(false);
            state.Attempts++;

            // One timer per attempt: it bounds each wait for headers, then each read of the body.
            using var attemptTimer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var response = await SendFollowingRedirectsAsync(state, attemptTimer, cancellationToken).ConfigureAwait(false);
            var answer = await ReadAnswerAsync(response, attemptTimer, cancellationToken).ConfigureAwait(false);
            if (answer.RetryAfter is { } wait && !IsThrottled(answer))
            {
                _pauses.Pause(record.Uri.Authority, wait);
            }

            return Outcome.FromResult(answer);
        }
        catch (Exception exception)
        {
            return Outcome.FromException<HttpAnswer>(exception);
        }
    }

    /// <summary>
    /// Sends one attempt and follows its redirects here rather than in the handler, which would carry custom
    /// secret headers to another host. A 401 on a refreshable token is answered once with a fresh token.
    /// </summary>
    private async Task<HttpResponseMessage> SendFollowingRedirectsAsync(
        AttemptState state,
        CancellationTokenSource attemptTimer,
        CancellationToken cancellationToken)
    {
        var hop = new Hop(state.Record.Uri, state.Record.Method, state.Record.Body is not null, CarriesSecrets: true);
        var refreshed = false;
        for (var hops = 0; ; )
        {
            var token = hop.CarriesSecrets ? _options.BearerToken?.Current : null;
            using var request = BuildMessage(state, hop, token);
            HttpResponseMessage response;
            try
            {
                attemptTimer.CancelAfter(_options.ConnectionTimeout);
                response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attemptTimer.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new AttemptTimeoutException(Text.Format(Messages.HeadersTimedOut, _options.ConnectionTimeout.TotalSeconds));
            }

            var status = (int)response.StatusCode;
            if (status == 401 && token is not null && !refreshed && _options.BearerToken!.CanRefresh)
            {
                response.Dispose();

                // The refresh may wait for the pipeline thread; that time belongs to no request.
                attemptTimer.CancelAfter(Timeout.InfiniteTimeSpan);
                await _options.BearerToken.RefreshAsync(token, cancellationToken).ConfigureAwait(false);
                refreshed = true;
                continue;
            }

            if (!RedirectPolicy.IsRedirect(status) || response.Headers.Location is not { } location || _options.MaximumRedirection == 0)
            {
                return response;
            }

            response.Dispose();
            if (++hops > _options.MaximumRedirection)
            {
                throw new PolicyException(ErrorKind.TooManyRedirects, Text.Format(Messages.TooManyRedirects, _options.MaximumRedirection));
            }

            hop = NextHop(hop, new Uri(hop.Uri, location), status);
        }
    }

    private Hop NextHop(Hop from, Uri to, int statusCode)
    {
        var shown = _redactor.Redact(to);
        if (RedirectPolicy.IsDowngrade(from.Uri, to))
        {
            throw new PolicyException(ErrorKind.RedirectRefused, Text.Format(Messages.RedirectDowngradeRefused, shown));
        }

        var sameOrigin = RedirectPolicy.IsSameOrigin(from.Uri, to);
        if (!sameOrigin && !_options.FollowCrossOriginRedirect)
        {
            throw new PolicyException(ErrorKind.RedirectRefused, Text.Format(Messages.RedirectCrossOriginRefused, shown));
        }

        // The connection pool answers challenges with these on every host; they cannot be dropped for one hop.
        if (!sameOrigin && (_options.UseDefaultCredentials || _options.ClientCertificate is not null))
        {
            throw new PolicyException(ErrorKind.RedirectRefused, Text.Format(Messages.RedirectCrossOriginWithHandlerCredentials, shown));
        }

        var carriesSecrets = from.CarriesSecrets && sameOrigin;
        EnsureMaySend(to, carriesSecrets);
        var method = RedirectPolicy.NextMethod(statusCode, from.Method);
        return new Hop(to, method, from.SendsBody && method == from.Method, carriesSecrets);
    }

    /// <summary>Refuses a host outside the allow-list, and credentials over plain http unless allowed.</summary>
    private void EnsureMaySend(Uri uri, bool carriesCredentials)
    {
        if (_allowedHosts is not null && !_allowedHosts.Contains(uri.IdnHost))
        {
            throw new PolicyException(ErrorKind.HostNotAllowed, Text.Format(Messages.HostNotAllowed, uri.IdnHost));
        }

        if (carriesCredentials && HasCredentials && uri.Scheme == Uri.UriSchemeHttp && !_options.AllowUnencryptedAuthentication)
        {
            throw new PolicyException(ErrorKind.InsecureAuthentication, Messages.CredentialsOverHttpRefused);
        }
    }

    private bool HasCredentials => _options.BearerToken is not null || _options.BasicCredential is not null || _options.UseDefaultCredentials;

    private HttpRequestMessage BuildMessage(AttemptState state, Hop hop, BearerToken.Snapshot? token)
    {
        var record = state.Record;
        var request = new HttpRequestMessage(new HttpMethod(hop.Method), hop.Uri) { Version = _options.HttpVersion };
        request.VersionPolicy = HttpVersionPolicy.RequestVersionOrLower;
        if (hop.SendsBody)
        {
            request.Content = new StringContent(record.Body!, Encoding.UTF8);
            request.Content.Headers.Remove("Content-Type");
            request.Content.Headers.TryAddWithoutValidation("Content-Type", record.ContentType ?? "text/plain; charset=utf-8");
        }

        // Batch headers first, so a record's own header of the same name replaces them.
        AddHeaders(request, _options.CommonHeaders, hop.CarriesSecrets);
        AddHeaders(request, record.Headers, hop.CarriesSecrets);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.Value);
        }
        else if (hop.CarriesSecrets && _options.BasicCredential is { } basic)
        {
            var pair = Encoding.UTF8.GetBytes(basic.UserName + ":" + basic.Password);
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(pair));
        }

        if (_options.IdempotencyKeyHeader is { } keyHeader)
        {
            request.Headers.Remove(keyHeader);
            request.Headers.TryAddWithoutValidation(keyHeader, state.IdempotencyKey);
        }

        return request;
    }

    private void AddHeaders(HttpRequestMessage request, IReadOnlyDictionary<string, string> headers, bool withSecrets)
    {
        foreach (var header in headers)
        {
            if (!withSecrets && _redactor.IsSecretHeader(header.Key))
            {
                continue;
            }

            request.Headers.Remove(header.Key);
            if (!request.Headers.TryAddWithoutValidation(header.Key, header.Value) && request.Content is not null)
            {
                request.Content.Headers.Remove(header.Key);
                request.Content.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }
    }

    private async Task<HttpAnswer> ReadAnswerAsync(
        HttpResponseMessage response,
        CancellationTokenSource readTimer,
        CancellationToken cancellationToken)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in response.Headers.Concat(response.Content.Headers))
        {
            headers[header.Key] = string.Join(", ", header.Value);
        }

        var body = await ReadBodyAsync(response, readTimer, cancellationToken).ConfigureAwait(false);
        var contentType = response.Content.Headers.ContentType;
        var statusCode = (int)response.StatusCode;
        return new HttpAnswer(statusCode, response.ReasonPhrase, headers)
        {
            Body = body.Count == 0 ? null : Decode(body, contentType?.CharSet),
            ContentType = contentType?.MediaType,
            RetryAfter = RetryAfter.AppliesTo(statusCode) ? RetryAfter.Parse(headers, _time.GetUtcNow()) : null,
        };
    }

    /// <summary>Reads the whole body, bounded in size and in idle time between reads.</summary>
    private async Task<ArraySegment<byte>> ReadBodyAsync(
        HttpResponseMessage response,
        CancellationTokenSource readTimer,
        CancellationToken cancellationToken)
    {
        using var stream = await response.Content.ReadAsStreamAsync().ConfigureAwait(false);
        using var body = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            while (true)
            {
                // HttpClient's timeouts end at the headers; a server that stalls mid-body is caught here.
                readTimer.CancelAfter(_options.OperationTimeout);
                int read;
                try
                {
                    read = await stream.ReadAsync(chunk, 0, chunk.Length, readTimer.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new AttemptTimeoutException(Text.Format(Messages.BodyStalled, _options.OperationTimeout.TotalSeconds));
                }

                if (read == 0)
                {
                    return new ArraySegment<byte>(body.GetBuffer(), 0, (int)body.Length);
                }

                if (body.Length + read > _options.MaximumResponseBytes)
                {
                    throw new ResponseTooLargeException(Text.Format(Messages.ResponseTooLarge, _options.MaximumResponseBytes), (int)response.StatusCode);
                }

                body.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    private static string Decode(ArraySegment<byte> body, string? charset)
    {
        var encoding = Encoding.UTF8;
        if (!string.IsNullOrEmpty(charset))
        {
            try
            {
                encoding = Encoding.GetEncoding(charset!.Trim('"'));
            }
            catch (ArgumentException)
            {
                // An unknown charset is the server's mistake; UTF-8 is the best guess for a modern API.
            }
        }

        return encoding.GetString(body.Array!, body.Offset, body.Count);
    }

    private BatchResult Conclude(
        AttemptState state,
        Outcome<HttpAnswer> outcome,
        TimeSpan? expiredBudget,
        DateTimeOffset startTime,
        TimeSpan duration)
    {
        var record = state.Record;
        var shown = _redactor.Redact(record);
        if (outcome.Result is { } answer)
        {
            var throttled = IsThrottled(answer);
            return new BatchResult(shown, answer.IsSuccess ? BatchStatus.Succeeded : throttled ? BatchStatus.Throttled : BatchStatus.Failed)
            {
                Original = record,
                StatusCode = answer.StatusCode,
                Attempts = state.Attempts,
                StartTime = startTime,
                Duration = duration,
                ErrorKind = answer.IsSuccess ? ErrorKind.None : throttled ? ErrorKind.Throttled : ErrorKind.HttpStatus,
                Error = answer.IsSuccess ? null : throttled
                    ? Text.Format(Messages.RetryAfterTooLong, answer.RetryAfter!.Value.TotalSeconds, _options.MaximumRetryAfter.TotalSeconds)
                    : Text.Format(Messages.HttpStatusFailed, answer.StatusCode, answer.ReasonPhrase),
                Content = answer.Body,
                ContentType = answer.ContentType,
                Headers = _redactor.Redact(answer.Headers),
            };
        }

        var exception = outcome.Exception!;
        var kind = expiredBudget is not null ? ErrorKind.Timeout : FailureClassifier.KindOf(exception);
        BatchStatus status;
        string message;
        if (kind is ErrorKind.Canceled or ErrorKind.CircuitOpen)
        {
            var stopped = kind == ErrorKind.Canceled;
            status = state.Attempts == 0 ? BatchStatus.NotSent : stopped ? BatchStatus.Canceled : BatchStatus.Failed;
            message = !stopped ? Text.Format(Messages.CircuitOpen, record.Uri.Authority)
                : state.Attempts == 0 ? Messages.StoppedBeforeSending : Messages.StoppedInFlight;
        }
        else if (state.Attempts == 0)
        {
            // Refused before anything left the machine.
            status = BatchStatus.NotSent;
            message = exception.Message;
        }
        else
        {
            status = FailureClassifier.MayHaveReachedServer(kind) && !state.MayResend ? BatchStatus.OutcomeUnknown : BatchStatus.Failed;
            message = expiredBudget is { } budget
                ? Text.Format(Messages.RecordBudgetExpired, budget.TotalSeconds)
                : exception.Message;
        }

        return new BatchResult(shown, status)
        {
            Original = record,
            StatusCode = (exception as ResponseTooLargeException)?.StatusCode,
            Attempts = state.Attempts,
            StartTime = startTime,
            Duration = duration,
            ErrorKind = kind,
            Error = message,
            Exception = exception,
        };
    }

    private static string Describe(Outcome<HttpAnswer> outcome) => outcome.Exception is { } exception
        ? $"{FailureClassifier.KindOf(exception)}: {exception.Message}"
        : $"{outcome.Result!.StatusCode} ({outcome.Result.ReasonPhrase})";

    /// <summary>One request of an attempt: the first, or one after a redirect.</summary>
    private sealed record Hop(Uri Uri, string Method, bool SendsBody, bool CarriesSecrets);

    /// <summary>What one record's attempts share: counted, read by the retry predicate.</summary>
    private sealed class AttemptState
    {
        public AttemptState(RequestRecord record, bool mayResend, string? idempotencyKey)
        {
            Record = record;
            MayResend = mayResend;
            IdempotencyKey = idempotencyKey;
        }

        public RequestRecord Record { get; }

        public bool MayResend { get; }

        public string? IdempotencyKey { get; }

        public int Attempts { get; set; }
    }
}
