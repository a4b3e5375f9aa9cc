using System;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Resources;
using BatchRequest.Engine.Security;
using BatchRequest.Model.Results;
using Polly;

namespace BatchRequest.Engine.Sending;

/// <summary>Turns whatever the attempts of a record came to into its one <see cref="BatchResult"/>.</summary>
internal sealed class OutcomeMapper
{
    private readonly SenderOptions _options;
    private readonly Redactor _redactor;

    public OutcomeMapper(SenderOptions options, Redactor redactor)
    {
        _options = options;
        _redactor = redactor;
    }

    /// <summary>The server asked for a longer wait than the batch allows: the record ends Throttled.</summary>
    public bool IsThrottled(HttpAnswer answer) => answer.RetryAfter > _options.MaximumRetryAfter;

    public BatchResult ToResult(
        OutgoingRecord outgoing,
        Outcome<HttpAnswer> outcome,
        TimeSpan? expiredBudget,
        DateTimeOffset startTime,
        TimeSpan duration)
    {
        var record = outgoing.Record;
        var shown = _redactor.Redact(record);
        var attempts = outgoing.Attempts;
        if (outcome.Result is { } answer)
        {
            var throttled = IsThrottled(answer);
            return new BatchResult(shown, answer.IsSuccess ? BatchStatus.Succeeded : throttled ? BatchStatus.Throttled : BatchStatus.Failed)
            {
                Original = record,
                StatusCode = answer.StatusCode,
                Attempts = attempts,
                StartTime = startTime,
                Duration = duration,
                Kind = answer.IsSuccess ? ErrorKind.None : throttled ? ErrorKind.Throttled : ErrorKind.HttpStatus,
                Error = answer.IsSuccess ? null : throttled
                    ? Text.Format(Messages.RetryAfterTooLong, answer.RetryAfter!.Value.TotalSeconds, _options.MaximumRetryAfter.TotalSeconds)
                    : Text.Format(Messages.HttpStatusFailed, answer.StatusCode, answer.ReasonPhrase),
                Content = answer.Body,
                ContentType = answer.ContentType,
                OutFile = answer.OutFile,
                Headers = ResponseHeaders.Of(_redactor.Redact(answer.Headers)),
            };
        }

        var exception = outcome.Exception!;
        var kind = expiredBudget is not null ? ErrorKind.Timeout : FailureClassifier.KindOf(exception);
        BatchStatus status;
        string message;
        if (kind is ErrorKind.Canceled or ErrorKind.CircuitOpen)
        {
            var stopped = kind == ErrorKind.Canceled;
            status = attempts == 0 ? BatchStatus.NotSent : stopped ? BatchStatus.Canceled : BatchStatus.Failed;
            message = !stopped
                ? attempts == 0
                    ? Text.Format(Messages.CircuitOpen, record.Uri.Authority)
                    : Text.Format(Messages.CircuitOpenAfterAttempts, record.Uri.Authority, attempts)
                : attempts == 0 ? Messages.StoppedBeforeSending : Messages.StoppedInFlight;
        }
        else
        {
            status = AfterFailure(outgoing, kind);
            message = expiredBudget is { } budget && attempts > 0
                ? Text.Format(Messages.RecordBudgetExpired, budget.TotalSeconds)
                : exception.Message;
        }

        return new BatchResult(shown, status)
        {
            Original = record,
            StatusCode = (exception as ResponseTooLargeException)?.StatusCode,
            Attempts = attempts,
            StartTime = startTime,
            Duration = duration,
            Kind = kind,
            Error = message,
            Exception = exception,
        };
    }

    /// <summary>
    /// The result of a record that was not sent because the batch stopped (<paramref name="exception"/> null), or
    /// whose way through the batch threw where nothing should.
    /// </summary>
    public BatchResult Abandoned(OutgoingRecord outgoing, Exception? exception)
    {
        var shown = _redactor.Redact(outgoing.Record);
        if (exception is null)
        {
            return new BatchResult(shown, BatchStatus.NotSent)
            {
                Original = outgoing.Record,
                Kind = ErrorKind.Canceled,
                Error = Messages.StoppedBeforeSending,
            };
        }

        // Whether a request left decides between NotSent and OutcomeUnknown: a resume would resend a NotSent POST.
        return new BatchResult(shown, AfterFailure(outgoing, ErrorKind.Unexpected))
        {
            Original = outgoing.Record,
            Attempts = outgoing.Attempts,
            Kind = ErrorKind.Unexpected,
            Error = exception.Message,
            Exception = exception,
        };
    }

    /// <summary>
    /// The status of a record that failed with <paramref name="kind"/>: NotSent while nothing left the machine;
    /// OutcomeUnknown when the server may have acted on a request that must not be sent twice; else Failed.
    /// </summary>
    private static BatchStatus AfterFailure(OutgoingRecord outgoing, ErrorKind kind) =>
        outgoing.Attempts == 0 ? BatchStatus.NotSent
        : FailureClassifier.MayHaveReachedServer(kind) && !outgoing.MayResend ? BatchStatus.OutcomeUnknown
        : BatchStatus.Failed;
}
