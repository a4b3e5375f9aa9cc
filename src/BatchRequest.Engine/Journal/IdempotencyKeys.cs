using BatchRequest.Engine.Requests;

namespace BatchRequest.Engine.Journal;

/// <summary>
/// The idempotency key a record carries under -IdempotencyKeyHeader: its own, or one derived from batch identity
/// and id. The journal and the file of failed records write it down, so a rerun from either sends the same key.
/// </summary>
/// <remarks>
/// <see cref="Sending.RequestSender"/> derives the same key on its own; a unit test pins the two together
/// until the sender calls <see cref="Derive"/>.
/// </remarks>
internal static class IdempotencyKeys
{
    /// <summary>The key sent for <paramref name="record"/>; null when no key header is in use.</summary>
    public static string? Of(RequestRecord record, string? keyHeader, string batchIdentity) =>
        keyHeader is null ? null : record.IdempotencyKey ?? Derive(batchIdentity, record.Id);

    /// <summary>Half a SHA-256 of batch identity and id: the same on every attempt and every rerun.</summary>
    public static string Derive(string batchIdentity, string id) => Hex.Sha256(batchIdentity + "\n" + id, 16);
}
