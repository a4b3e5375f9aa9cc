namespace BatchRequest.Model.Results;

/// <summary>How a record ended. Every record ends in exactly one of these; none is 0, so none reads as $false.</summary>
public enum BatchStatus
{
    /// <summary>A success status code was received.</summary>
    Succeeded = 1,

    /// <summary>A definite answer that is not success, or a transport failure after all retries.</summary>
    Failed,

    /// <summary>A non-idempotent request may have reached the server and was not retried.</summary>
    OutcomeUnknown,

    /// <summary>The server asked us to wait longer than allowed.</summary>
    Throttled,

    /// <summary>The request never left the machine.</summary>
    NotSent,

    /// <summary>The batch was stopped while the request was in flight.</summary>
    Canceled,

    /// <summary>A resumed run did not send the record: its journal shows it already succeeded.</summary>
    Skipped,
}
