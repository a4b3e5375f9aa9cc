using System.Collections.Generic;

namespace BatchRequest.Model.Requests;

/// <summary>
/// The records one Import-RequestFile call checked before emitting the first: how many it will emit. Every record
/// it emits refers to the same instance, so that Invoke-BatchRequest knows its total, and with it a percentage and
/// the time left, before the input has ended.
/// </summary>
internal sealed class ValidatedBatch
{
    public ValidatedBatch(long count, IReadOnlyList<string> files)
    {
        Count = count;
        Files = files;
    }

    /// <summary>Records that will be emitted: valid, not repeated, in the partition.</summary>
    public long Count { get; }

    /// <summary>The full paths of the files read, so that a batch refuses to write into one of them before it starts.</summary>
    public IReadOnlyList<string> Files { get; }
}
