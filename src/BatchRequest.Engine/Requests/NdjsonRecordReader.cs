using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Resources;
using BatchRequest.Model.Requests;

namespace BatchRequest.Engine.Requests;

/// <summary>Reads NDJSON (JSON Lines): one request object per line; blank lines are skipped.</summary>
internal static class NdjsonRecordReader
{
    private static readonly JsonDocumentOptions Strict = new() { CommentHandling = JsonCommentHandling.Disallow, AllowTrailingCommas = false };

    /// <exception cref="RequestFileException">A line is not one well-formed JSON value, or the file has no records.</exception>
    public static IEnumerable<RecordDraft> Read(Stream stream, string file)
    {
        var lines = new Utf8LineReader(stream);
        long recordNumber = 0;
        while (lines.TryReadLine(out var line))
        {
            var first = FirstNonBlank(line.Span);
            if (first < 0)
            {
                continue;
            }

            recordNumber++;
            var position = new RecordPosition(file, lines.LineNumber, 1 + Utf8Text.CharCount(line.Span.Slice(0, first)), recordNumber);
            using var document = Parse(line, file, lines.LineNumber);
            yield return JsonRecordMapper.ToDraft(document.RootElement, position, defaults: null);
        }

        if (recordNumber == 0)
        {
            throw new RequestFileException(RequestErrorIds.FileEmpty, Text.Format(Messages.RequestFileEmpty, file), new RecordPosition(file, 1, 1));
        }
    }

    private static JsonDocument Parse(ReadOnlyMemory<byte> line, string file, long lineNumber)
    {
        Utf8Text.EnsureValid(line.Span, file, lineNumber);

        try
        {
            return JsonDocument.Parse(line, Strict);
        }
        catch (JsonException exception)
        {
            var bytes = (int)Math.Min(exception.BytePositionInLine ?? 0, line.Length);
            var column = 1 + Utf8Text.CharCount(line.Span.Slice(0, bytes));
            var reason = exception.Message;
            var end = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
            throw new RequestFileException(
                RequestErrorIds.FileMalformed,
                Text.Format(Messages.RequestFileMalformed, file, lineNumber, column, end > 0 ? reason.Substring(0, end) : reason),
                new RecordPosition(file, lineNumber, column),
                exception);
        }
    }

    private static int FirstNonBlank(ReadOnlySpan<byte> line)
    {
        for (var i = 0; i < line.Length; i++)
        {
            if (line[i] is not ((byte)' ' or (byte)'\t' or (byte)'\r'))
            {
                return i;
            }
        }

        return -1;
    }
}
