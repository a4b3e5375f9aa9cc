using System;
using BatchRequest.Engine.Resources;

namespace BatchRequest.Engine.Requests;

/// <summary>Checks UTF-8 and measures it in characters, for exact positions in error messages.</summary>
internal static class Utf8Text
{
    /// <summary>Throws RequestFileMalformed at the first byte of a line that is not UTF-8.</summary>
    public static void EnsureValid(ReadOnlySpan<byte> line, string file, long lineNumber)
    {
        var invalid = IndexOfInvalid(line);
        if (invalid >= 0)
        {
            var column = 1 + CharCount(line.Slice(0, invalid));
            throw new RequestFileException(
                RequestErrorIds.FileMalformed,
                Text.Format(Messages.RequestFileNotUtf8, file, lineNumber, column),
                new RecordPosition(file, lineNumber, column));
        }
    }

    /// <summary>Index of the first byte that does not start a well-formed UTF-8 sequence, or -1.</summary>
    public static int IndexOfInvalid(ReadOnlySpan<byte> bytes)
    {
        var i = 0;
        while (i < bytes.Length)
        {
            var lead = bytes[i];
            if (lead < 0x80)
            {
                i++;
                continue;
            }

            int trailing;
            if (lead is >= 0xC2 and <= 0xDF)
            {
                trailing = 1;
            }
            else if (lead is >= 0xE0 and <= 0xEF)
            {
                trailing = 2;
            }
            else if (lead is >= 0xF0 and <= 0xF4)
            {
                trailing = 3;
            }
            else
            {
                return i;
            }

            if (i + trailing >= bytes.Length)
            {
                return i;
            }

            for (var k = 1; k <= trailing; k++)
            {
                if ((bytes[i + k] & 0xC0) != 0x80)
                {
                    return i;
                }
            }

            // Overlong forms, UTF-16 surrogates and code points above U+10FFFF are not UTF-8 (RFC 3629).
            var second = bytes[i + 1];
            if ((lead == 0xE0 && second < 0xA0) || (lead == 0xED && second >= 0xA0) ||
                (lead == 0xF0 && second < 0x90) || (lead == 0xF4 && second >= 0x90))
            {
                return i;
            }

            i += trailing + 1;
        }

        return -1;
    }

    /// <summary>Number of characters (code points) in well-formed UTF-8: the bytes that are not continuation bytes.</summary>
    public static int CharCount(ReadOnlySpan<byte> bytes)
    {
        var count = 0;
        foreach (var b in bytes)
        {
            if ((b & 0xC0) != 0x80)
            {
                count++;
            }
        }

        return count;
    }
}
