namespace BatchRequest.Model.Requests;

/// <summary>
/// The records one Import-RequestFile call checked before emitting the first: how many it will emit. Every record
/// it emits refers to the same instance, so that Invoke-BatchRequest knows its total, and with it a percentage and
/// the time left, before the input has ended.
/// </summary>
internal sealed class ValidatedBatch
{
    public ValidatedBatch(long count) => Count = count;

    /// <summary>Records that will be emitted: valid, not repeated, in the partition.</summary>
    public long Count { get; }
}
