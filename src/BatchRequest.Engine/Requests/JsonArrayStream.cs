using System;
using System.IO;
using System.Text.Json;
using BatchRequest.Engine.Resources;

namespace BatchRequest.Engine.Requests;

/// <summary>
/// Yields the elements of a top-level JSON array one at a time from a stream, holding only the current
/// element in memory, and knows the line and column where each element starts.
/// </summary>
internal sealed class JsonArrayStream
{
    private readonly Stream _stream;
    private readonly string _file;
    private byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;
    private bool _endOfStream;
    private bool _insideArray;
    private bool _done;
    private JsonReaderState _state;

    // Position of _buffer[_start] in the file, advanced as bytes are consumed.
    private long _line = 1;
    private long _column = 1;

    public JsonArrayStream(Stream stream, string file)
    {
        _stream = stream;
        _file = file;
        _state = new JsonReaderState(new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
    }

    /// <summary>Reads the next element; false after the closing bracket.</summary>
    /// <exception cref="RequestFileException">The file is not a well-formed JSON array.</exception>
    public bool TryReadNext(out JsonElement element, out long line, out long column)
    {
        while (!_done)
        {
            var reader = new Utf8JsonReader(_buffer.AsSpan(_start, _end - _start), _endOfStream, _state);
            try
            {
                if (!reader.Read())
                {
                    if (_endOfStream)
                    {
                        throw Error(RequestErrorIds.FileEmpty, Text.Format(Messages.RequestFileEmpty, _file), 1, 1);
                    }

                    Refill();
                    continue;
                }

                if (!_insideArray)
                {
                    if (reader.TokenType != JsonTokenType.StartArray)
                    {
                        throw Error(RequestErrorIds.FileWrongShape, Text.Format(Messages.RequestFileNotArray, _file), _line, _column + reader.TokenStartIndex);
                    }

                    _insideArray = true;
                    Consume(ref reader);
                    continue;
                }

                if (reader.TokenType == JsonTokenType.EndArray)
                {
                    Consume(ref reader);
                    EnsureNothingFollows();
                    _done = true;
                    break;
                }

                // Parse the element only when all of it is in the buffer; otherwise read more and start over.
                var probe = reader;
                if (!probe.TrySkip())
                {
                    Refill();
                    continue;
                }

                // Advance to the element first, so its line and column are known, then past it.
                var elementStart = (int)reader.TokenStartIndex;
                Advance(elementStart);
                line = _line;
                column = _column;
                using (var document = JsonDocument.ParseValue(ref reader))
                {
                    element = document.RootElement.Clone();
                }

                Advance((int)reader.BytesConsumed - elementStart);
                _state = reader.CurrentState;
                return true;
            }
            catch (JsonException) when (!_insideArray && _endOfStream && IsBlank(_buffer.AsSpan(_start, _end - _start)))
            {
                throw Error(RequestErrorIds.FileEmpty, Text.Format(Messages.RequestFileEmpty, _file), 1, 1);
            }
            catch (JsonException exception)
            {
                // The reader counts lines from the start of the current buffer window.
                var errorLine = _line + (exception.LineNumber ?? 0);
                var errorColumn = (exception.LineNumber ?? 0) == 0
                    ? _column + (exception.BytePositionInLine ?? 0)
                    : (exception.BytePositionInLine ?? 0) + 1;
                throw new RequestFileException(
                    RequestErrorIds.FileMalformed,
                    Text.Format(Messages.RequestFileMalformed, _file, errorLine, errorColumn, FirstSentence(exception.Message)),
                    new RecordPosition(_file, errorLine, errorColumn),
                    exception);
            }
        }

        element = default;
        line = 0;
        column = 0;
        return false;
    }

    private void EnsureNothingFollows()
    {
        while (true)
        {
            var reader = new Utf8JsonReader(_buffer.AsSpan(_start, _end - _start), _endOfStream, _state);

            // With the final block, a token after the root value makes Read throw "'x' is invalid after a single JSON value".
            if (reader.Read())
            {
                throw Error(RequestErrorIds.FileMalformed, Text.Format(Messages.RequestFileMalformed, _file, _line, _column, Messages.TrailingContent), _line, _column);
            }

            if (_endOfStream)
            {
                return;
            }

            Refill();
        }
    }

    private void Consume(ref Utf8JsonReader reader)
    {
        Advance((int)reader.BytesConsumed);
        _state = reader.CurrentState;
    }

    /// <summary>Moves the window start by <paramref name="count"/> bytes, counting the lines it passes.</summary>
    private void Advance(int count)
    {
        var passed = _buffer.AsSpan(_start, count);
        var lastNewLine = passed.LastIndexOf((byte)'\n');
        if (lastNewLine >= 0)
        {
            _line += CountNewLines(passed);
            _column = 1 + count - lastNewLine - 1;
        }
        else
        {
            _column += count;
        }

        _start += count;
    }

    private static int CountNewLines(ReadOnlySpan<byte> bytes)
    {
        var count = 0;
        int index;
        while ((index = bytes.IndexOf((byte)'\n')) >= 0)
        {
            count++;
            bytes = bytes.Slice(index + 1);
        }

        return count;
    }

    private void Refill()
    {
        if (_endOfStream)
        {
            throw new InvalidOperationException("The reader asked for more data after the end of the stream.");
        }

        // Keep the unconsumed tail; grow only when one element is larger than the whole buffer.
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        else if (_end == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        var read = _stream.Read(_buffer, _end, _buffer.Length - _end);
        _end += read;
        _endOfStream = read == 0;
    }

    private RequestFileException Error(string errorId, string message, long line, long column) =>
        new(errorId, message, new RecordPosition(_file, line, column));

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
