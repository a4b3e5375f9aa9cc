using BatchRequest.Engine.Requests;

namespace BatchRequest.Engine.Report;

/// <summary>
/// The last state of every record a report has seen, keyed by its id's digest: 12 bytes a slot, about 20 bytes a
/// record, since the final outcome of a record across the runs of a journal cannot be known without remembering
/// each one. 1,024 open-addressing tables chosen by the digest's first 10 bits, each grown on its own, hold the
/// digest's low 64 bits with the lowest forced to 1, so 73 bits of SHA-256 tell two ids apart.
/// </summary>
internal sealed class RecordOutcomes
{
    private const int InitialCapacity = 16;
    private const int SegmentBits = 10;
    private readonly ulong[][] _keys = new ulong[1 << SegmentBits][];
    private readonly uint[][] _values = new uint[1 << SegmentBits][];
    private readonly int[] _counts = new int[1 << SegmentBits];

    /// <summary>Sets the record's state to <paramref name="value"/> (not zero) and returns its previous one, zero for none.</summary>
    public uint Swap(string id, uint value)
    {
        var digest = IdDigest.Of(id);
        var segment = (int)(digest.High >> (64 - SegmentBits));
        var key = digest.Low | 1;
        var keys = _keys[segment] ??= new ulong[InitialCapacity];
        var values = _values[segment] ??= new uint[InitialCapacity];
        var slot = SlotOf(keys, key);
        var previous = values[slot];
        values[slot] = value;
        if (keys[slot] == key)
        {
            return previous;
        }

        keys[slot] = key;

        // Grow at three quarters full, which keeps the linear probes short.
        if (++_counts[segment] * 4 > keys.Length * 3)
        {
            var largerKeys = new ulong[keys.Length * 2];
            var largerValues = new uint[keys.Length * 2];
            for (var i = 0; i < keys.Length; i++)
            {
                if (keys[i] != 0)
                {
                    var target = SlotOf(largerKeys, keys[i]);
                    largerKeys[target] = keys[i];
                    largerValues[target] = values[i];
                }
            }

            _keys[segment] = largerKeys;
            _values[segment] = largerValues;
        }

        return 0;
    }

    /// <summary>Whether the record has a state.</summary>
    public bool Contains(string id)
    {
        var digest = IdDigest.Of(id);
        var keys = _keys[(int)(digest.High >> (64 - SegmentBits))];
        var key = digest.Low | 1;
        return keys is not null && keys[SlotOf(keys, key)] == key;
    }

    // The key's slot, or the empty one where it belongs.
    private static int SlotOf(ulong[] keys, ulong key)
    {
        var mask = keys.Length - 1;
        var slot = (int)(key >> 1) & mask;
        while (keys[slot] != 0 && keys[slot] != key)
        {
            slot = (slot + 1) & mask;
        }

        return slot;
    }
}
