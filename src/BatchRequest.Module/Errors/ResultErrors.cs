using System;
using System.Management.Automation;
using BatchRequest.Engine.Journal;
using BatchRequest.Model.Results;
using BatchRequest.Engine.SharedQuota;

namespace BatchRequest.Errors;

/// <summary>Turns a result that did not succeed into its one error record, with a stable id and category.</summary>
internal static class ResultErrors
{
    public static ErrorRecord For(BatchResult result)
    {
        var (errorId, category) = result.Outcome switch
        {
            BatchStatus.OutcomeUnknown => ("RequestOutcomeUnknown", ErrorCategory.InvalidResult),
            BatchStatus.NotSent when result.Kind == ErrorKind.Canceled => ("RequestNotSent", ErrorCategory.OperationStopped),
            BatchStatus.Skipped => (JournalErrorIds.RecordChanged, ErrorCategory.InvalidData),
            _ => IdOf(result),
        };

        var exception = new BatchRequestException($"{result.Id}: {result.Error}", result.Exception);
        return new ErrorRecord(exception, errorId, category, result.Request);
    }

    /// <summary>The terminating error of a batch that stopped on its own: its journal failed, or a result could not be delivered.</summary>
    public static ErrorRecord ForFault(Exception fault, string? journalPath) => fault is JournalException journal
        ? ForJournal(journal, journalPath)
        : new ErrorRecord(fault, "BatchFaulted", ErrorCategory.InvalidOperation, null);

    /// <summary>The terminating error of a journal, or a file of failed records, that cannot be used.</summary>
    public static ErrorRecord ForJournal(JournalException exception, object? target)
    {
        var category = exception.ErrorId switch
        {
            JournalErrorIds.Malformed => ErrorCategory.InvalidData,
            JournalErrorIds.Unreadable => ErrorCategory.ReadError,
            JournalErrorIds.Exists => ErrorCategory.ResourceExists,
            JournalErrorIds.InUse => ErrorCategory.ResourceBusy,
            JournalErrorIds.Unwritable => ErrorCategory.WriteError,
            JournalErrorIds.NotFound => ErrorCategory.ObjectNotFound,
            _ => ErrorCategory.InvalidArgument,
        };
        return new ErrorRecord(exception, exception.ErrorId, category, target);
    }

    private static (string, ErrorCategory) IdOf(BatchResult result) => result.Kind switch
    {
        ErrorKind.HttpStatus => ("RequestHttpStatus", CategoryOf(result.StatusCode ?? 0)),
        ErrorKind.Timeout => ("RequestTimedOut", ErrorCategory.OperationTimeout),
        ErrorKind.ConnectFailed => ("RequestConnectFailed", ErrorCategory.ConnectionError),
        ErrorKind.DnsFailure => ("RequestDnsFailure", ErrorCategory.ConnectionError),
        ErrorKind.ConnectionReset => ("RequestConnectionReset", ErrorCategory.ConnectionError),
        ErrorKind.ProtocolError => ("RequestProtocolError", ErrorCategory.ProtocolError),
        ErrorKind.TlsFailure => ("RequestTlsFailure", ErrorCategory.SecurityError),
        ErrorKind.ResponseTooLarge => ("ResponseTooLarge", ErrorCategory.LimitsExceeded),
        ErrorKind.Throttled => ("RequestThrottled", ErrorCategory.LimitsExceeded),
        ErrorKind.Canceled => ("RequestCanceled", ErrorCategory.OperationStopped),
        ErrorKind.CircuitOpen => ("RequestCircuitOpen", ErrorCategory.ResourceUnavailable),
        ErrorKind.HostNotAllowed => ("RequestHostNotAllowed", ErrorCategory.PermissionDenied),
        ErrorKind.InsecureAuthentication => ("RequestInsecureAuthentication", ErrorCategory.SecurityError),
        ErrorKind.RedirectRefused => ("RequestRedirectRefused", ErrorCategory.SecurityError),
        ErrorKind.TooManyRedirects => ("RequestTooManyRedirects", ErrorCategory.LimitsExceeded),
        ErrorKind.TokenRefreshFailed => ("RequestTokenRefreshFailed", ErrorCategory.AuthenticationError),
        ErrorKind.SharedThrottleUnavailable => (SharedQuotaErrorIds.Unavailable, ErrorCategory.ResourceUnavailable),
        _ => ("RequestFailed", ErrorCategory.NotSpecified),
    };

    private static ErrorCategory CategoryOf(int statusCode) => statusCode switch
    {
        401 => ErrorCategory.AuthenticationError,
        403 => ErrorCategory.PermissionDenied,
        404 or 410 => ErrorCategory.ObjectNotFound,
        409 => ErrorCategory.ResourceExists,
        >= 400 and < 500 => ErrorCategory.InvalidArgument,
        _ => ErrorCategory.InvalidResult,
    };
}
