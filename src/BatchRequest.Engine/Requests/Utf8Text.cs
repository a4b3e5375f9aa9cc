using System;
using System.Buffers;
using System.Text;
using System.Text.Unicode;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Resources;
using BatchRequest.Model.Requests;

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

    /// <summary>Index of the first byte that does not start a well-formed UTF-8 sequence (RFC 3629), or -1.</summary>
    public static int IndexOfInvalid(ReadOnlySpan<byte> bytes)
    {
        if (Utf8.IsValid(bytes))
        {
            return -1;
        }

        var i = 0;
        while (Rune.DecodeFromUtf8(bytes.Slice(i), out _, out var consumed) == OperationStatus.Done)
        {
            i += consumed;
        }

        return i;
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
