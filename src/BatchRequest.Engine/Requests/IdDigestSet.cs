using System;

namespace BatchRequest.Engine.Requests;

/// <summary>
/// A set of <see cref="IdDigest"/>s that costs about 21 bytes per id: 1,024 open-addressing tables chosen by the
/// digest's first 10 bits, each grown on its own, so that no growth copies more than a 1,024th of the set and, up to
/// millions of ids, no table is large enough for the large-object heap, whose garbage waits for a full collection.
/// A batch of a million records needs about 21 MB to find repeated ids; a HashSet needs 28 MB, and twice that while
/// it grows.
/// </summary>
internal sealed class IdDigestSet
{
    private const int InitialCapacity = 16;
    private const int SegmentBits = 10;
    private readonly IdDigest[][] _tables = new IdDigest[1 << SegmentBits][];
    private readonly int[] _counts = new int[1 << SegmentBits];
    private bool _hasEmptyDigest;

    /// <summary>Adds a digest; false when it was already in the set.</summary>
    public bool Add(IdDigest digest)
    {
        // The all-zero digest marks an empty slot, so it is kept aside (SHA-256 gives it with odds of 2^-128).
        if (digest.High == 0 && digest.Low == 0)
        {
            var added = !_hasEmptyDigest;
            _hasEmptyDigest = true;
            return added;
        }

        var segment = (int)(digest.High >> (64 - SegmentBits));
        var table = _tables[segment] ??= new IdDigest[InitialCapacity];
        if (!Insert(table, digest))
        {
            return false;
        }

        // Grow at three quarters full, which keeps the linear probes short.
        if (++_counts[segment] * 4 > table.Length * 3)
        {
            var larger = new IdDigest[table.Length * 2];
            foreach (var item in table)
            {
                if (item.High != 0 || item.Low != 0)
                {
                    Insert(larger, item);
                }
            }

            _tables[segment] = larger;
        }

        return true;
    }

    private static bool Insert(IdDigest[] table, IdDigest digest)
    {
        var mask = table.Length - 1;
        for (var slot = (int)digest.Low & mask; ; slot = (slot + 1) & mask)
        {
            var item = table[slot];
            if (item.High == 0 && item.Low == 0)
            {
                table[slot] = digest;
                return true;
            }

            if (item.Equals(digest))
            {
                return false;
            }
        }
    }
}
