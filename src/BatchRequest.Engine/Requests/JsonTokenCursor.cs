using System;
using System.IO;
using System.Text.Json;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Resources;
using BatchRequest.Model.Requests;

namespace BatchRequest.Engine.Requests;

/// <summary>
/// Reads JSON from a stream token by token or value by value, holding only a window of the file, and knows the
/// line and column (in characters) of everything it reads; the reader's errors come out naming file, line and column.
/// </summary>
internal sealed class JsonTokenCursor
{
    private readonly ByteWindow _window;
    private readonly string _file;
    private JsonReaderState _state;

    // Position of _window.Buffer[_window.Start] in the file, advanced as bytes are consumed; the column counts characters.
    private long _line = 1;
    private long _column = 1;
    private long _byteColumn = 1;

    public JsonTokenCursor(Stream stream, string file)
    {
        _window = new ByteWindow(stream);
        _file = file;
        _state = new JsonReaderState(new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
    }

    /// <summary>Reads the next complete value; false, having consumed it, when the next token closes an array or object.</summary>
    public bool TryReadValue(out JsonElement element, out long line, out long column)
    {
        while (true)
        {
            var reader = new Utf8JsonReader(_window.Unconsumed, _window.EndOfStream, _state);
            if (!reader.Read())
            {
                _window.Refill();
                continue;
            }

            if (reader.TokenType is JsonTokenType.EndArray or JsonTokenType.EndObject)
            {
                Advance((int)reader.BytesConsumed);
                _state = reader.CurrentState;
                (element, line, column) = (default, 0, 0);
                return false;
            }

            // Parse the value only when all of it is in the buffer; otherwise read more and start over.
            var probe = reader;
            if (!probe.TrySkip())
            {
                _window.Refill();
                continue;
            }

            // Advance to the value first, so its line and column are known, then past it.
            var valueStart = (int)reader.TokenStartIndex;
            Advance(valueStart);
            (line, column) = (_line, _column);
            var length = (int)probe.BytesConsumed - valueStart;
            var invalid = Utf8Text.IndexOfInvalid(_window.Buffer.AsSpan(_window.Start, length));
            if (invalid >= 0)
            {
                Advance(invalid);
                throw new RequestFileException(
                    RequestErrorIds.FileMalformed,
                    Text.Format(Messages.RequestFileNotUtf8, _file, _line, _column),
                    new RecordPosition(_file, _line, _column));
            }

            using (var document = JsonDocument.ParseValue(ref reader))
            {
                element = document.RootElement.Clone();
            }

            Advance((int)reader.BytesConsumed - valueStart);
            _state = reader.CurrentState;
            return true;
        }
    }

    /// <summary>Reads one token; None at the end of the input.</summary>
    public JsonTokenType NextToken(out string? text, out long line, out long column)
    {
        while (true)
        {
            var reader = new Utf8JsonReader(_window.Unconsumed, _window.EndOfStream, _state);
            if (reader.Read())
            {
                var tokenStart = (int)reader.TokenStartIndex;
                Advance(tokenStart);
                (line, column) = (_line, _column);
                text = reader.TokenType == JsonTokenType.PropertyName ? reader.GetString() : null;
                Advance((int)reader.BytesConsumed - tokenStart);
                _state = reader.CurrentState;
                return reader.TokenType;
            }

            if (_window.EndOfStream)
            {
                (text, line, column) = (null, _line, _column);
                return JsonTokenType.None;
            }

            _window.Refill();
        }
    }

    /// <summary>Skips the next value token by token, so that a value of any size takes no memory.</summary>
    public void SkipValue()
    {
        var first = NextToken(out _, out _, out _);
        if (first is JsonTokenType.StartArray or JsonTokenType.StartObject)
        {
            SkipToEndOf(1);
        }
    }

    public void SkipToEndOf(int depth)
    {
        while (depth > 0)
        {
            switch (NextToken(out _, out _, out _))
            {
                case JsonTokenType.StartArray or JsonTokenType.StartObject:
                    depth++;
                    break;
                case JsonTokenType.EndArray or JsonTokenType.EndObject:
                    depth--;
                    break;
                case JsonTokenType.None:
                    return;
            }
        }
    }

    public void EnsureNothingFollows()
    {
        while (true)
        {
            var reader = new Utf8JsonReader(_window.Unconsumed, _window.EndOfStream, _state);

            // With the final block, a token after the root value makes Read throw "'x' is invalid after a single JSON value".
            if (reader.Read())
            {
                throw new RequestFileException(
                    RequestErrorIds.FileMalformed,
                    Text.Format(Messages.RequestFileMalformed, _file, _line, _column, Messages.TrailingContent),
                    new RecordPosition(_file, _line, _column));
            }

            if (_window.EndOfStream)
            {
                return;
            }

            _window.Refill();
        }
    }

    /// <summary>Runs a step of the reader, turning the reader's exceptions into errors that name file, line and column.</summary>
    /// <param name="beforeFirstRecord">Nothing has been read yet, so a file of blanks is an empty file.</param>
    public T Guarded<T>(bool beforeFirstRecord, Func<T> step)
    {
        try
        {
            return step();
        }
        catch (JsonException) when (beforeFirstRecord && _window.EndOfStream && _line == 1 && IsBlank(_window.Unconsumed))
        {
            throw new RequestFileException(RequestErrorIds.FileEmpty, Text.Format(Messages.RequestFileEmpty, _file), new RecordPosition(_file, 1, 1));
        }
        catch (JsonException exception)
        {
            var (line, column) = PositionOf(exception);
            throw new RequestFileException(
                RequestErrorIds.FileMalformed,
                Text.Format(Messages.RequestFileMalformed, _file, line, column, FirstSentence(exception.Message)),
                new RecordPosition(_file, line, column),
                exception);
        }
        catch (InvalidOperationException exception) when (exception.InnerException is System.Text.DecoderFallbackException or ArgumentException)
        {
            // Reading a property name that is not valid UTF-8 fails as an invalid operation, not as a JSON error.
            throw new RequestFileException(
                RequestErrorIds.FileMalformed,
                Text.Format(Messages.RequestFileMalformed, _file, _line, _column, FirstSentence(exception.Message)),
                new RecordPosition(_file, _line, _column),
                exception);
        }
    }

    /// <summary>
    /// Line and column in the file of a reader error. The reader state carries its position across windows, so the
    /// error's line and byte offset count from the start of the file and of its line; the column counts characters.
    /// </summary>
    private (long Line, long Column) PositionOf(JsonException exception)
    {
        var window = _window.Unconsumed;
        var line = (exception.LineNumber ?? 0) + 1;
        var bytePosition = exception.BytePositionInLine ?? 0;
        if (line <= _line)
        {
            var intoWindow = (int)Math.Max(0, Math.Min(bytePosition - (_byteColumn - 1), window.Length));
            return (_line, _column + Utf8Text.CharCount(window.Slice(0, intoWindow)));
        }

        var lineStart = 0;
        for (var i = _line; i < line; i++)
        {
            var next = window.Slice(lineStart).IndexOf((byte)'\n');
            if (next < 0)
            {
                break;
            }

            lineStart += next + 1;
        }

        var bytes = (int)Math.Min(bytePosition, window.Length - lineStart);
        return (line, 1 + Utf8Text.CharCount(window.Slice(lineStart, bytes)));
    }

    /// <summary>Moves the window start by <paramref name="count"/> bytes, counting the lines and characters it passes.</summary>
    private void Advance(int count)
    {
        var passed = _window.Buffer.AsSpan(_window.Start, count);
        var lastNewLine = passed.LastIndexOf((byte)'\n');
        if (lastNewLine >= 0)
        {
            var lines = 0;
            foreach (var b in passed)
            {
                lines += b == (byte)'\n' ? 1 : 0;
            }

            _line += lines;
            _column = 1 + Utf8Text.CharCount(passed.Slice(lastNewLine + 1));
            _byteColumn = count - lastNewLine;
        }
        else
        {
            _column += Utf8Text.CharCount(passed);
            _byteColumn += count;
        }

        _window.Start += count;
    }

    private static bool IsBlank(ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            {
                return false;
            }
        }

        return true;
    }

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return end > 0 ? message.Substring(0, end) : message;
    }
}
