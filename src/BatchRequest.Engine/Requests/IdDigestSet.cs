using System.Collections.Generic;

namespace BatchRequest.Engine.Requests;

/// <summary>
/// A set of <see cref="IdDigest"/>s that costs 11 to 16 bytes per id: 1,024 open-addressing tables chosen by the
/// digest's first 10 bits, each holding the digest's low 64 bits (so 74 bits of SHA-256 tell two ids apart; a false
/// repeat among a million ids has odds near 10^-10) and each grown on its own by half, so that no growth copies more
/// than a 1,024th of the set and, up to millions of ids, no table is large enough for the large-object heap, whose
/// garbage waits for a full collection. Tables that doubled would cost up to 21 bytes per id, and a million ids fall
/// just past a doubling (16 bytes each). A batch of a million records needs about 11 MB to find repeated ids.
/// </summary>
internal sealed class IdDigestSet
{
    private const int InitialCapacity = 16;
    private const int SegmentBits = 10;
    private readonly ulong[][] _tables = new ulong[1 << SegmentBits][];
    private readonly int[] _counts = new int[1 << SegmentBits];

    // Zero marks an empty slot, so digests whose low half is zero (odds 2^-64 each) are kept aside, whole.
    private readonly HashSet<IdDigest> _lowZero = new();

    /// <summary>Adds a digest; false when it was already in the set.</summary>
    public bool Add(IdDigest digest)
    {
        if (digest.Low == 0)
        {
            return _lowZero.Add(digest);
        }

        var segment = (int)(digest.High >> (64 - SegmentBits));
        var table = _tables[segment] ??= new ulong[InitialCapacity];
        if (!Insert(table, digest.Low))
        {
            return false;
        }

        // Grow at three quarters full, which keeps the linear probes short.
        if (++_counts[segment] * 4 > table.Length * 3)
        {
            var larger = new ulong[table.Length + (table.Length / 2)];
            foreach (var item in table)
            {
                if (item != 0)
                {
                    Insert(larger, item);
                }
            }

            _tables[segment] = larger;
        }

        return true;
    }

    private static bool Insert(ulong[] table, ulong low)
    {
        // The length is no power of two: the high half of the digest, scaled to it, picks the first slot.
        var length = table.Length;
        for (var slot = (int)(((low >> 32) * (ulong)length) >> 32); ; slot = slot + 1 == length ? 0 : slot + 1)
        {
            var item = table[slot];
            if (item == 0)
            {
                table[slot] = low;
                return true;
            }

            if (item == low)
            {
                return false;
            }
        }
    }
}
