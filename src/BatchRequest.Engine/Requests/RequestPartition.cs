using System;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Resources;

namespace BatchRequest.Engine.Requests;

/// <summary>
/// Part <see cref="Index"/> of <see cref="Count"/> of a batch: the records whose id hashes to it. The hash is the
/// first 8 bytes of SHA-256 of the UTF-8 id, big-endian, modulo the count: the same on every machine, process and
/// run, so n machines given 1/n .. n/n of one file send every record exactly once.
/// </summary>
/// <remarks>
/// A class, not a struct: a cmdlet field of an engine value type makes PowerShell load the engine while it scans
/// the module for cmdlets, before the module's load context is in place.
/// </remarks>
public sealed class RequestPartition
{
    public const int MaximumCount = 65535;

    public RequestPartition(int index, int count)
    {
        if (count < 1 || count > MaximumCount || index < 1 || index > count)
        {
            throw new ArgumentOutOfRangeException(nameof(index));
        }

        Index = index;
        Count = count;
    }

    /// <summary>1-based part number.</summary>
    public int Index { get; }

    public int Count { get; }

    /// <summary>Reads <c>k/n</c>, such as <c>3/8</c>.</summary>
    /// <exception cref="FormatException">The text is not <c>k/n</c> with 1 &lt;= k &lt;= n &lt;= 65535.</exception>
    public static RequestPartition Parse(string text)
    {
        var slash = text.IndexOf('/');
        if (slash > 0 &&
            int.TryParse(text.Substring(0, slash).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var index) &&
            int.TryParse(text.Substring(slash + 1).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var count) &&
            count is >= 1 and <= MaximumCount && index >= 1 && index <= count)
        {
            return new RequestPartition(index, count);
        }

        throw new FormatException(Text.Format(Messages.PartitionInvalid, text, MaximumCount));
    }

    /// <summary>Whether the record with this id belongs to this part.</summary>
    public bool Contains(string id) => Contains(IdDigest.Of(id));

    internal bool Contains(IdDigest digest) => (int)(digest.High % (ulong)Count) == Index - 1;

    public override string ToString() => Index.ToString(CultureInfo.InvariantCulture) + "/" + Count.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// The first 128 bits of SHA-256 of an id: what duplicate detection keeps instead of the id (see
/// <see cref="IdDigestSet"/>, whatever the id's length), and what partitions hash.
/// </summary>
internal readonly struct IdDigest : IEquatable<IdDigest>
{
    internal IdDigest(ulong high, ulong low)
    {
        High = high;
        Low = low;
    }

    public ulong High { get; }

    public ulong Low { get; }


    public static IdDigest Of(string id)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(id));
        return new IdDigest(ReadBigEndian(hash, 0), ReadBigEndian(hash, 8));
    }

    public bool Equals(IdDigest other) => High == other.High && Low == other.Low;

    public override bool Equals(object? obj) => obj is IdDigest other && Equals(other);

    public override int GetHashCode() => unchecked((int)Low);

    private static ulong ReadBigEndian(byte[] bytes, int offset)
    {
        ulong value = 0;
        for (var i = 0; i < 8; i++)
        {
            value = (value << 8) | bytes[offset + i];
        }

        return value;
    }
}
