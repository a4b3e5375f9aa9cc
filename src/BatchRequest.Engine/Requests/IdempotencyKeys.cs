using BatchRequest.Engine.Common;
using BatchRequest.Model.Requests;

namespace BatchRequest.Engine.Requests;

/// <summary>
/// The idempotency key a record carries under -IdempotencyKeyHeader: its own, or one derived from batch identity
/// and id. The sender sends it; the journal and the file of failed records write it down, so a rerun from either
/// sends the same key.
/// </summary>
internal static class IdempotencyKeys
{
    /// <summary>The key sent for <paramref name="record"/>; null when no key header is in use.</summary>
    public static string? Of(RequestRecord record, string? keyHeader, string batchIdentity) =>
        keyHeader is null ? null : record.IdempotencyKey ?? Derive(batchIdentity, record.Id);

    /// <summary>Half a SHA-256 of batch identity and id: the same on every attempt and every rerun.</summary>
    public static string Derive(string batchIdentity, string id) => Hex.Sha256(batchIdentity + "\n" + id, 16);
}
