using BatchRequest.Engine.Requests;
using BatchRequest.Model.Requests;

namespace BatchRequest.Engine.Sending;

/// <summary>
/// How one batch names its records to the server and to its journal: the idempotency key header, the batch's
/// identity in derived keys, and whether POST and PATCH may be resent.
/// </summary>
public sealed class RecordIdentity
{
    public RecordIdentity(string? idempotencyKeyHeader, bool retryNonIdempotent, string batchIdentity)
    {
        IdempotencyKeyHeader = idempotencyKeyHeader;
        RetryNonIdempotent = retryNonIdempotent;
        BatchIdentity = batchIdentity;
    }

    public string? IdempotencyKeyHeader { get; }

    public bool RetryNonIdempotent { get; }

    /// <summary>Names the batch in derived idempotency keys, so two batches with the same ids get different keys.</summary>
    public string BatchIdentity { get; }

    /// <summary>The record with its key and resend permission, computed here once for all stages.</summary>
    public OutgoingRecord Prepare(RequestRecord record) => new(
        record,
        IdempotencyKeys.Of(record, IdempotencyKeyHeader, BatchIdentity),
        ResendRule.MayResend(record.Method, RetryNonIdempotent, idempotencyKeyHeader: null));
}
