using System;
using System.Collections.Generic;
using System.Text;
using System.Text.Json;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Resources;
using BatchRequest.Model.Requests;

namespace BatchRequest.Engine.Requests;

/// <summary>
/// A URI or body template with <c>{Column}</c> placeholders that a CSV row fills in. In a URI each value is
/// URL-encoded. In a JSON body (one that starts with <c>{</c> or <c>[</c>) a value inside a JSON string is
/// JSON-escaped, and a value outside one must itself be a JSON value; other bodies take values as they are.
/// <c>{{</c> writes a literal brace.
/// </summary>
internal sealed class CsvTemplate
{
    private readonly List<Segment> _segments;

    private CsvTemplate(List<Segment> segments, bool isJson)
    {
        _segments = segments;
        IsJson = isJson;
    }

    public enum Kind
    {
        Uri,
        Body,
    }

    /// <summary>Whether the filled template is a JSON document, sent as application/json.</summary>
    public bool IsJson { get; }

    /// <exception cref="RequestFileException">A placeholder names no column, or a JSON template is not JSON.</exception>
    public static CsvTemplate Parse(string template, Kind kind, IReadOnlyList<string> columns, string file, string parameterName)
    {
        var trimmed = template.TrimStart();
        var isJson = kind == Kind.Body && trimmed.Length > 0 &&
            (trimmed[0] == '[' || (trimmed[0] == '{' && PlaceholderAt(trimmed, 0, out _) < 0));
        var segments = new List<Segment>();
        var literal = new StringBuilder();
        var inString = false;
        for (var i = 0; i < template.Length; i++)
        {
            var c = template[i];
            if (c == '{' && i + 1 < template.Length && template[i + 1] == '{')
            {
                literal.Append('{');
                i++;
                continue;
            }

            string? name = null;
            var end = c == '{' ? PlaceholderAt(template, i, out name) : -1;
            if (end < 0)
            {
                if (isJson && (c == '"' || (c == '\\' && inString)))
                {
                    // Track JSON strings: a backslash inside one escapes the next character.
                    if (c == '\\')
                    {
                        literal.Append(c);
                        c = i + 1 < template.Length ? template[++i] : c;
                    }
                    else
                    {
                        inString = !inString;
                    }
                }

                literal.Append(c);
                continue;
            }

            var column = IndexOf(columns, name!);
            if (column < 0)
            {
                throw new RequestFileException(
                    RequestErrorIds.TemplateInvalid,
                    Text.Format(Messages.TemplateColumnUnknown, parameterName, name, file, NameSuggestion.DidYouMean(name!, columns)),
                    new RecordPosition(file, 1, 1));
            }

            segments.Add(new Segment(literal.ToString(), -1, false));
            literal.Clear();
            segments.Add(new Segment(name!, column, inString));
            i = end;
        }

        segments.Add(new Segment(literal.ToString(), -1, false));
        var parsed = new CsvTemplate(segments, isJson);
        if (isJson && !IsJsonValue(parsed.Fill(_ => "0", kind, out _)!))
        {
            throw new RequestFileException(RequestErrorIds.TemplateInvalid, Text.Format(Messages.TemplateNotJson, parameterName, file), new RecordPosition(file, 1, 1));
        }

        return parsed;
    }

    /// <summary>Fills the template from a row; null, with the column at fault, when a value cannot go where it is used.</summary>
    public string? Fill(Func<int, string> cell, Kind kind, out string? badColumn)
    {
        var text = new StringBuilder();
        var inQuery = false;
        foreach (var segment in _segments)
        {
            if (segment.Column < 0)
            {
                text.Append(segment.Text);
                inQuery |= segment.Text.IndexOf('?') >= 0;
                continue;
            }

            var value = cell(segment.Column);
            if (kind == Kind.Uri)
            {
                // Escaping leaves dots alone and the URI resolves dot segments: "..", "." or nothing in the path
                // would aim the request at a parent resource or a collection instead of the row's own.
                if (!inQuery && value is "" or "." or "..")
                {
                    badColumn = segment.Text;
                    return null;
                }

                text.Append(Uri.EscapeDataString(value));
            }
            else if (!IsJson)
            {
                text.Append(value);
            }
            else if (segment.InJsonString)
            {
                AppendJsonEscaped(text, value);
            }
            else if (value.Length == 0)
            {
                text.Append("null");
            }
            else if (IsJsonValue(value))
            {
                text.Append(value);
            }
            else
            {
                // Outside quotes only a complete JSON value may go, so no cell can change the body's structure.
                badColumn = segment.Text;
                return null;
            }
        }

        badColumn = null;
        return text.ToString();
    }

    /// <summary>End index of the placeholder that starts at <paramref name="start"/>, or -1 when the brace is literal.</summary>
    private static int PlaceholderAt(string template, int start, out string? name)
    {
        name = null;
        var end = template.IndexOf('}', start + 1);
        if (end < 0)
        {
            return -1;
        }

        var candidate = template.Substring(start + 1, end - start - 1);
        if (candidate.Length == 0 || candidate[0] == ' ' || candidate[candidate.Length - 1] == ' ')
        {
            return -1;
        }

        foreach (var c in candidate)
        {
            if (!(char.IsLetterOrDigit(c) || c is '_' or '-' or '.' or ' '))
            {
                return -1;
            }
        }

        name = candidate;
        return end;
    }

    private static int IndexOf(IReadOnlyList<string> columns, string name)
    {
        for (var i = 0; i < columns.Count; i++)
        {
            if (string.Equals(columns[i], name, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return -1;
    }

    private static bool IsJsonValue(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static void AppendJsonEscaped(StringBuilder text, string value)
    {
        foreach (var c in value)
        {
            switch (c)
            {
                case '"':
                    text.Append("\\\"");
                    break;
                case '\\':
                    text.Append("\\\\");
                    break;
                case '\n':
                    text.Append("\\n");
                    break;
                case '\r':
                    text.Append("\\r");
                    break;
                case '\t':
                    text.Append("\\t");
                    break;
                case < ' ':
                    text.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
                    break;
                default:
                    text.Append(c);
                    break;
            }
        }
    }

    /// <summary>Literal text (Column -1), or a placeholder: its name, column, and whether it sits in a JSON string.</summary>
    private readonly struct Segment
    {
        public Segment(string text, int column, bool inJsonString)
        {
            Text = text;
            Column = column;
            InJsonString = inJsonString;
        }

        public string Text { get; }

        public int Column { get; }

        public bool InJsonString { get; }
    }
}
