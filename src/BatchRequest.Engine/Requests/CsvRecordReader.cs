using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Resources;
using BatchRequest.Model.Requests;
using CsvHelper;

namespace BatchRequest.Engine.Requests;

/// <summary>
/// Reads a CSV request file with CsvHelper: a header row, then one request per row. Columns <c>Id</c>, <c>Method</c>,
/// <c>Uri</c> (or <c>Url</c>), <c>Body</c>, <c>ContentType</c>, <c>TimeoutSec</c>, <c>IdempotencyKey</c> and
/// <c>Header.Name</c>; with a URI or body template, any other columns too, as values for its placeholders.
/// </summary>
internal static class CsvRecordReader
{
    /// <exception cref="RequestFileException">The CSV is malformed, or its header does not fit the options.</exception>
    public static IEnumerable<RecordDraft> Read(Stream stream, string file, RecordReadOptions options)
    {
        var csvOptions = new CsvReaderOptions
        {
            Separator = ',',
            HasHeader = true,
            TrackLineNumbers = true,
            MalformedData = CsvMalformedDataHandling.Throw,
            FieldCountMismatch = CsvFieldCountHandling.Throw,
        };
        using var csv = CsvReader.Create(stream, csvOptions, leaveOpen: true);
        var layout = Layout.Of(ReadHeader(csv, file), file, options);
        long recordNumber = 0;
        while (Next(csv, file))
        {
            recordNumber++;
            yield return layout.ToDraft(csv, new RecordPosition(file, csv.LineNumber, 1, recordNumber));
        }
    }

    private static IReadOnlyList<string> ReadHeader(CsvReader csv, string file)
    {
        try
        {
            csv.ReadHeader();
            var headers = csv.Headers.Select(h => h.Trim()).ToList();
            if (headers.Count == 0 || (headers.Count == 1 && headers[0].Length == 0))
            {
                throw new RequestFileException(RequestErrorIds.FileEmpty, Text.Format(Messages.RequestFileEmpty, file), new RecordPosition(file, 1, 1));
            }

            if (headers.Any(h => h.IndexOf('\uFFFD') >= 0))
            {
                throw new RequestFileException(RequestErrorIds.FileMalformed, Text.Format(Messages.RequestFileNotUtf8, file, 1, 1), new RecordPosition(file, 1, 1));
            }

            return headers;
        }
        catch (CsvFormatException exception)
        {
            throw Malformed(exception, file);
        }
    }

    private static bool Next(CsvReader csv, string file)
    {
        try
        {
            if (!csv.Read())
            {
                return false;
            }
        }
        catch (CsvFormatException exception)
        {
            throw Malformed(exception, file);
        }

        // The reader decodes invalid UTF-8 to U+FFFD without a word; a request must not be sent with mangled text.
        var invalid = Utf8Text.IndexOfInvalid(csv.RawRecord);
        if (invalid >= 0)
        {
            throw new RequestFileException(RequestErrorIds.FileMalformed, Text.Format(Messages.RequestFileNotUtf8, file, csv.LineNumber, 1), new RecordPosition(file, csv.LineNumber, 1));
        }

        return true;
    }

    private static RequestFileException Malformed(CsvFormatException exception, string file)
    {
        var line = Math.Max(1, exception.LineNumber);
        return new RequestFileException(
            RequestErrorIds.FileMalformed,
            Text.Format(Messages.RequestFileNotCsv, file, line, exception.Message),
            new RecordPosition(file, line, 1),
            exception);
    }

    /// <summary>What each column of one file means, worked out once from its header.</summary>
    private sealed class Layout
    {
        private int _id = -1;
        private int _method = -1;
        private int _uri = -1;
        private int _body = -1;
        private int _contentType = -1;
        private int _timeoutSec = -1;
        private int _idempotencyKey = -1;
        private readonly List<KeyValuePair<string, int>> _headers = new();
        private CsvTemplate? _uriTemplate;
        private CsvTemplate? _bodyTemplate;

        public static Layout Of(IReadOnlyList<string> columns, string file, RecordReadOptions options)
        {
            var layout = new Layout();
            var templated = options.UriTemplate is not null || options.BodyTemplate is not null;
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            for (var i = 0; i < columns.Count; i++)
            {
                var name = columns[i];
                var key = RequestSchema.FieldOf(name)?.ToString() ?? name;
                if (!seen.Add(key))
                {
                    throw HeaderProblem(RequestErrorIds.DuplicateProperty, Text.Format(Messages.CsvColumnRepeated, file, name, i + 1));
                }

                if (!layout.Assign(name, i) && !templated)
                {
                    var hint = NameSuggestion.DidYouMean(name, RequestSchema.CsvColumns);
                    throw HeaderProblem(RequestErrorIds.UnknownProperty, Text.Format(Messages.CsvColumnUnknown, file, name, i + 1, hint));
                }
            }

            if (options.UriTemplate is not null)
            {
                layout._uriTemplate = CsvTemplate.Parse(options.UriTemplate, CsvTemplate.Kind.Uri, columns, file, "-UriTemplate");
            }
            else if (layout._uri < 0)
            {
                throw HeaderProblem(RequestErrorIds.MissingUri, Text.Format(Messages.CsvNoUriColumn, file));
            }

            if (options.BodyTemplate is not null)
            {
                layout._bodyTemplate = CsvTemplate.Parse(options.BodyTemplate, CsvTemplate.Kind.Body, columns, file, "-BodyTemplate");
            }

            return layout;

            RequestFileException HeaderProblem(string errorId, string message) => new(errorId, message, new RecordPosition(file, 1, 1));
        }

        public RecordDraft ToDraft(CsvReader csv, RecordPosition position)
        {
            var draft = new RecordDraft(position)
            {
                Id = Cell(csv, _id),
                Method = Cell(csv, _method),
                ContentType = Cell(csv, _contentType),
                IdempotencyKey = Cell(csv, _idempotencyKey),
            };

            draft.Uri = _uriTemplate is null ? Cell(csv, _uri) : Fill(_uriTemplate, CsvTemplate.Kind.Uri, csv, draft);
            if (_bodyTemplate is null)
            {
                draft.Body = Cell(csv, _body);
            }
            else
            {
                draft.Body = Fill(_bodyTemplate, CsvTemplate.Kind.Body, csv, draft);
                if (_bodyTemplate.IsJson)
                {
                    draft.ImplyJsonContentType();
                }
            }

            if (Cell(csv, _timeoutSec) is { } timeout)
            {
                if (double.TryParse(timeout, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
                {
                    draft.TimeoutSec = seconds;
                }
                else
                {
                    draft.Fail(RequestErrorIds.InvalidProperty, Text.Format(Messages.PropertyWrongType, RequestSchema.ColumnOf(RequestField.TimeoutSec), "number"));
                }
            }

            foreach (var header in _headers)
            {
                if (Cell(csv, header.Value) is { } value)
                {
                    draft.Headers.Add(new KeyValuePair<string, string>(header.Key, value));
                }
            }

            return draft;
        }

        /// <summary>Records what a column means; false for a column that is none of the known ones.</summary>
        private bool Assign(string name, int index)
        {
            if (RequestSchema.HeaderNameOf(name) is { } header)
            {
                _headers.Add(new KeyValuePair<string, int>(header, index));
                return true;
            }

            switch (RequestSchema.FieldOf(name))
            {
                case RequestField.Id: _id = index; return true;
                case RequestField.Method: _method = index; return true;
                case RequestField.Uri: _uri = index; return true;
                case RequestField.Body: _body = index; return true;
                case RequestField.ContentType: _contentType = index; return true;
                case RequestField.TimeoutSec: _timeoutSec = index; return true;
                case RequestField.IdempotencyKey: _idempotencyKey = index; return true;
                default: return false;
            }
        }

        private static string? Fill(CsvTemplate template, CsvTemplate.Kind kind, CsvReader csv, RecordDraft draft)
        {
            var filled = template.Fill(i => csv.GetString(i) ?? string.Empty, kind, out var badColumn);
            if (filled is null)
            {
                draft.Fail(
                    RequestErrorIds.InvalidProperty,
                    Text.Format(kind == CsvTemplate.Kind.Uri ? Messages.TemplateValueNotPathSegment : Messages.TemplateValueNotJson, badColumn));
            }

            return filled;
        }

        /// <summary>A cell's text; null for an empty cell or a column the file does not have.</summary>
        private static string? Cell(CsvReader csv, int index)
        {
            if (index < 0)
            {
                return null;
            }

            var value = csv.GetString(index);
            return string.IsNullOrEmpty(value) ? null : value;
        }
    }
}
