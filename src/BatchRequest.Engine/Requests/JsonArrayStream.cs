using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using BatchRequest.Engine.Resources;
using BatchRequest.Model.Requests;

namespace BatchRequest.Engine.Requests;

/// <summary>
/// Yields the request objects of a JSON request file one at a time from a stream, holding only the current one in
/// memory, and knows the line and column where each starts. The file is either an array of request objects or an
/// object whose <c>requests</c> array sits beside shared <c>baseUri</c> and <c>headers</c>.
/// </summary>
internal sealed class JsonArrayStream
{
    private static readonly string[] TopLevelProperties = { "requests", "baseUri", "headers" };

    private readonly ByteWindow _window;
    private readonly string _file;
    private bool _insideArray;
    private bool _rootIsObject;
    private bool _done;
    private JsonReaderState _state;

    // Position of _window.Buffer[_window.Start] in the file, advanced as bytes are consumed; the column counts characters.
    private long _line = 1;
    private long _column = 1;
    private long _byteColumn = 1;

    public JsonArrayStream(Stream stream, string file)
    {
        _window = new ByteWindow(stream);
        _file = file;
        _state = new JsonReaderState(new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
    }

    /// <summary>
    /// Reads the whole file, one value at a time, to check its shape and collect the defaults of an object-shaped
    /// file, which may come after its <c>requests</c> array. Null for an array-shaped file, which has none.
    /// </summary>
    /// <exception cref="RequestFileException">The file is empty, malformed or of the wrong shape.</exception>
    public JsonFileDefaults? ScanDefaults()
    {
        return Guarded(() =>
        {
            var root = NextToken(out _, out var line, out var column);
            if (root == JsonTokenType.StartArray)
            {
                return null;
            }

            if (root != JsonTokenType.StartObject)
            {
                throw WrongShape(Text.Format(Messages.RequestFileNotArray, _file), line, column);
            }

            var defaults = new JsonFileDefaults();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (NextToken(out var name, out line, out column) == JsonTokenType.PropertyName)
            {
                var known = Canonical(name!);
                if (known is null)
                {
                    throw WrongShape(Text.Format(Messages.TopLevelPropertyUnknown, _file, line, column, name, NameSuggestion.DidYouMean(name!, TopLevelProperties)), line, column);
                }

                if (!seen.Add(known))
                {
                    throw WrongShape(Text.Format(Messages.TopLevelPropertyRepeated, _file, line, column, name), line, column);
                }

                if (known == "requests")
                {
                    if (NextToken(out _, out line, out column) != JsonTokenType.StartArray)
                    {
                        throw WrongShape(Text.Format(Messages.RequestsNotArray, _file, line, column), line, column);
                    }

                    SkipToEndOf(1);
                    continue;
                }

                TryReadValue(out var value, out line, out column);
                ReadDefault(known, value, defaults, line, column);
            }

            EnsureNothingFollows();
            return seen.Contains("requests")
                ? defaults
                : throw WrongShape(Text.Format(Messages.RequestFileNotArray, _file), 1, 1);
        });
    }

    /// <summary>Reads the next request object; false after the last one.</summary>
    /// <exception cref="RequestFileException">The file is not well-formed JSON of the expected shape.</exception>
    public bool TryReadNext(out JsonElement element, out long line, out long column)
    {
        if (_done)
        {
            (element, line, column) = (default, 0, 0);
            return false;
        }

        var (found, value, valueLine, valueColumn) = Guarded(() =>
        {
            if (!_insideArray)
            {
                EnterArray();
            }

            if (TryReadValue(out var next, out var nextLine, out var nextColumn))
            {
                return (true, next, nextLine, nextColumn);
            }

            // The closing bracket of the array; an object-shaped file may hold more defaults after it.
            if (_rootIsObject)
            {
                while (NextToken(out _, out _, out _) == JsonTokenType.PropertyName)
                {
                    SkipValue();
                }
            }

            EnsureNothingFollows();
            _done = true;
            return (false, default(JsonElement), 0L, 0L);
        });

        (element, line, column) = (value, valueLine, valueColumn);
        return found;
    }

    private void EnterArray()
    {
        var root = NextToken(out _, out var line, out var column);
        if (root == JsonTokenType.StartObject)
        {
            _rootIsObject = true;
            while (true)
            {
                if (NextToken(out var name, out line, out column) != JsonTokenType.PropertyName)
                {
                    throw WrongShape(Text.Format(Messages.RequestFileNotArray, _file), line, column);
                }

                if (string.Equals(name, "requests", StringComparison.OrdinalIgnoreCase))
                {
                    root = NextToken(out _, out line, out column);
                    break;
                }

                SkipValue();
            }
        }

        if (root != JsonTokenType.StartArray)
        {
            throw WrongShape(Text.Format(Messages.RequestFileNotArray, _file), line, column);
        }

        _insideArray = true;
    }

    private void ReadDefault(string name, JsonElement value, JsonFileDefaults defaults, long line, long column)
    {
        if (name == "baseUri")
        {
            if (value.ValueKind != JsonValueKind.String ||
                !Uri.TryCreate(value.GetString(), UriKind.Absolute, out var baseUri) ||
                (baseUri.Scheme != Uri.UriSchemeHttp && baseUri.Scheme != Uri.UriSchemeHttps) ||
                baseUri.UserInfo.Length > 0)
            {
                throw new RequestFileException(RequestErrorIds.InvalidUri, Text.Format(Messages.BaseUriInvalid, _file, line, column), new RecordPosition(_file, line, column));
            }

            defaults.BaseUri = baseUri;
            return;
        }

        // The shared headers obey the rules of a record's headers; a problem with them is the whole file's.
        var position = new RecordPosition(_file, line, column);
        var probe = new RecordDraft(position) { Uri = "http://localhost/" };
        var headers = JsonRecordMapper.HeadersOf(value, name, probe);
        probe.Headers.AddRange(headers ?? new List<KeyValuePair<string, string>>());
        if (probe.ProblemId is not null || RecordBuilder.Build(probe, new RecordReadOptions()).Problem is not null)
        {
            throw new RequestFileException(RequestErrorIds.InvalidHeader, Text.Format(Messages.SharedHeadersInvalid, _file, line, column), position);
        }

        defaults.Headers = headers;
    }

    /// <summary>Reads the next complete value; false, having consumed it, when the next token closes an array or object.</summary>
    private bool TryReadValue(out JsonElement element, out long line, out long column)
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
    private JsonTokenType NextToken(out string? text, out long line, out long column)
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
    private void SkipValue()
    {
        var first = NextToken(out _, out _, out _);
        if (first is JsonTokenType.StartArray or JsonTokenType.StartObject)
        {
            SkipToEndOf(1);
        }
    }

    private void SkipToEndOf(int depth)
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

    private void EnsureNothingFollows()
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
    private T Guarded<T>(Func<T> step)
    {
        try
        {
            return step();
        }
        catch (JsonException) when (!_insideArray && _window.EndOfStream && _line == 1 && IsBlank(_window.Unconsumed))
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


    private RequestFileException WrongShape(string message, long line, long column) =>
        new(RequestErrorIds.FileWrongShape, message, new RecordPosition(_file, line, column));

    private static string? Canonical(string name)
    {
        foreach (var known in TopLevelProperties)
        {
            if (string.Equals(known, name, StringComparison.OrdinalIgnoreCase))
            {
                return known;
            }
        }

        return null;
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
