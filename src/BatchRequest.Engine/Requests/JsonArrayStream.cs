using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using BatchRequest.Engine.Common;
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

    private readonly JsonTokenCursor _cursor;
    private readonly string _file;
    private bool _insideArray;
    private bool _rootIsObject;
    private bool _done;

    // Made once: a lambda over this stream's fields would be a new delegate for every record read.
    private readonly Func<(bool Found, JsonElement Value, long Line, long Column)> _readStep;

    public JsonArrayStream(Stream stream, string file)
    {
        _cursor = new JsonTokenCursor(stream, file);
        _file = file;
        _readStep = ReadStep;
    }

    /// <summary>
    /// Reads the whole file, one value at a time, to check its shape and collect the defaults of an object-shaped
    /// file, which may come after its <c>requests</c> array. Null for an array-shaped file, which has none.
    /// </summary>
    /// <exception cref="RequestFileException">The file is empty, malformed or of the wrong shape.</exception>
    public JsonFileDefaults? ScanDefaults()
    {
        return _cursor.Guarded(beforeFirstRecord: true, () =>
        {
            var root = _cursor.NextToken(out _, out var line, out var column);
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
            while (_cursor.NextToken(out var name, out line, out column) == JsonTokenType.PropertyName)
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
                    if (_cursor.NextToken(out _, out line, out column) != JsonTokenType.StartArray)
                    {
                        throw WrongShape(Text.Format(Messages.RequestsNotArray, _file, line, column), line, column);
                    }

                    _cursor.SkipToEndOf(1);
                    continue;
                }

                _cursor.TryReadValue(out var value, out line, out column);
                ReadDefault(known, value, defaults, line, column);
            }

            _cursor.EnsureNothingFollows();
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

        var (found, value, valueLine, valueColumn) = _cursor.Guarded(!_insideArray, _readStep);

        (element, line, column) = (value, valueLine, valueColumn);
        return found;
    }

    private (bool Found, JsonElement Value, long Line, long Column) ReadStep()
    {
        if (!_insideArray)
        {
            EnterArray();
        }

        if (_cursor.TryReadValue(out var next, out var nextLine, out var nextColumn))
        {
            return (true, next, nextLine, nextColumn);
        }

        // The closing bracket of the array; an object-shaped file may hold more defaults after it.
        if (_rootIsObject)
        {
            while (_cursor.NextToken(out _, out _, out _) == JsonTokenType.PropertyName)
            {
                _cursor.SkipValue();
            }
        }

        _cursor.EnsureNothingFollows();
        _done = true;
        return (false, default(JsonElement), 0L, 0L);
    }

    private void EnterArray()
    {
        var root = _cursor.NextToken(out _, out var line, out var column);
        if (root == JsonTokenType.StartObject)
        {
            _rootIsObject = true;
            while (true)
            {
                if (_cursor.NextToken(out var name, out line, out column) != JsonTokenType.PropertyName)
                {
                    throw WrongShape(Text.Format(Messages.RequestFileNotArray, _file), line, column);
                }

                if (string.Equals(name, "requests", StringComparison.OrdinalIgnoreCase))
                {
                    root = _cursor.NextToken(out _, out line, out column);
                    break;
                }

                _cursor.SkipValue();
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
}
