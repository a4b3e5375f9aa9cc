using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Resources;
using BatchRequest.Model.Requests;

namespace BatchRequest.Engine.Requests;

/// <summary>
/// Reads the <c>.http</c>/<c>.rest</c> syntax of the VS Code REST Client and the JetBrains HTTP Client: requests
/// separated by <c>###</c>; before each, comments (<c>#</c>, <c>//</c>), a <c># @name</c> that becomes the id, and
/// file variables (<c>@host = api.example</c>); then the request line, headers, a blank line and the body.
/// <c>{{name}}</c> uses a variable defined above it, <c>{{$processEnv NAME}}</c> an environment variable.
/// </summary>
internal static class HttpRecordReader
{
    private const int MaximumVariableDepth = 16;

    // Variables that each repeat the next one would grow exponentially with the depth; no real field is this long.
    private const int MaximumExpandedLength = 1024 * 1024;
    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    private enum Part
    {
        BeforeRequest,
        Headers,
        Body,
    }

    /// <exception cref="RequestFileException">The file is empty or not valid UTF-8.</exception>
    public static IEnumerable<RecordDraft> Read(Stream stream, string file)
    {
        var lines = new Utf8LineReader(stream);
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        var part = Part.BeforeRequest;
        Request? request = null;
        string? name = null;
        long recordNumber = 0;
        var blank = true;
        while (lines.TryReadLine(out var bytes))
        {
            var line = Decode(bytes, file, lines.LineNumber);
            var trimmed = line.Trim();
            blank &= trimmed.Length == 0;
            if (trimmed.StartsWith("###", StringComparison.Ordinal))
            {
                if (request is not null)
                {
                    yield return request.ToDraft(variables);
                }

                (request, name, part) = (null, null, Part.BeforeRequest);
                continue;
            }

            switch (part)
            {
                case Part.BeforeRequest when trimmed.Length == 0:
                    break;
                case Part.BeforeRequest when CommentText(trimmed) is { } comment:
                    name = NameIn(comment) ?? name;
                    break;
                case Part.BeforeRequest when trimmed[0] == '@':
                    DefineVariable(trimmed, variables);
                    break;
                case Part.BeforeRequest:
                    recordNumber++;
                    var column = 1 + line.Length - line.TrimStart().Length;
                    request = new Request(new RecordPosition(file, lines.LineNumber, column, recordNumber), name, trimmed);
                    part = Part.Headers;
                    break;
                case Part.Headers when trimmed.Length == 0:
                    part = Part.Body;
                    break;
                case Part.Headers when request!.HeaderCount == 0 && trimmed[0] is '?' or '&':
                    request.Target += trimmed;
                    break;
                case Part.Headers when CommentText(trimmed) is not null:
                    break;
                case Part.Headers:
                    request!.AddHeader(trimmed, lines.LineNumber);
                    break;
                case Part.Body:
                    request!.AddBodyLine(line, lines.EndedWithCrLf);
                    break;
            }
        }

        if (request is not null)
        {
            yield return request.ToDraft(variables);
        }

        if (blank)
        {
            throw new RequestFileException(RequestErrorIds.FileEmpty, Text.Format(Messages.RequestFileEmpty, file), new RecordPosition(file, 1, 1));
        }
    }

    private static string Decode(ReadOnlyMemory<byte> bytes, string file, long lineNumber)
    {
        Utf8Text.EnsureValid(bytes.Span, file, lineNumber);
        return StrictUtf8.GetString(bytes.ToArray());
    }

    /// <summary>The text of a <c>#</c> or <c>//</c> comment line, or null for any other line.</summary>
    private static string? CommentText(string trimmed) =>
        trimmed.StartsWith("#", StringComparison.Ordinal) ? trimmed.Substring(1).Trim()
        : trimmed.StartsWith("//", StringComparison.Ordinal) ? trimmed.Substring(2).Trim()
        : null;

    /// <summary>The request name of a <c>@name x</c> (or <c>@name = x</c>) comment; null for other comments.</summary>
    private static string? NameIn(string comment)
    {
        if (!comment.StartsWith("@name", StringComparison.Ordinal) || (comment.Length > 5 && !(char.IsWhiteSpace(comment[5]) || comment[5] == '=')))
        {
            return null;
        }

        var value = comment.Substring(5).Trim().TrimStart('=').Trim();
        return value.Length > 0 ? value : null;
    }

    /// <summary>Records <c>@name = value</c>; the value may use variables defined before it.</summary>
    private static void DefineVariable(string trimmed, Dictionary<string, string> variables)
    {
        var equals = trimmed.IndexOf('=');
        var name = (equals < 0 ? trimmed.Substring(1) : trimmed.Substring(1, equals - 1)).Trim();
        if (name.Length > 0)
        {
            variables[name] = equals < 0 ? string.Empty : trimmed.Substring(equals + 1).Trim();
        }
    }

    /// <summary>One request while its lines are read; variables are filled in when it is complete.</summary>
    private sealed class Request
    {
        private readonly RecordPosition _position;
        private readonly string? _name;
        private readonly List<KeyValuePair<string, string>> _headers = new();
        private readonly List<(string Text, bool CrLf)> _bodyLines = new();
        private string? _problemId;
        private string? _problemDetail;

        public Request(RecordPosition position, string? name, string requestLine)
        {
            _position = position;
            _name = name;
            (Method, Target) = SplitRequestLine(requestLine);
        }

        public string? Method { get; }

        public string Target { get; set; }

        public int HeaderCount => _headers.Count;

        public void AddHeader(string line, long lineNumber)
        {
            var colon = line.IndexOf(':');
            if (colon <= 0)
            {
                Fail(RequestErrorIds.InvalidHeader, Text.Format(Messages.HttpLineNotHeader, lineNumber));
                return;
            }

            _headers.Add(new KeyValuePair<string, string>(line.Substring(0, colon).Trim(), line.Substring(colon + 1).Trim()));
        }

        public void AddBodyLine(string line, bool endedWithCrLf)
        {
            var trimmed = line.Trim();
            if (_bodyLines.TrueForAll(l => l.Text.Trim().Length == 0) && (trimmed.StartsWith("< ", StringComparison.Ordinal) || trimmed.StartsWith("<@", StringComparison.Ordinal)))
            {
                Fail(RequestErrorIds.UnsupportedSyntax, Messages.HttpBodyFromFile);
            }
            else if (trimmed.StartsWith("> {%", StringComparison.Ordinal) || trimmed.StartsWith(">>", StringComparison.Ordinal))
            {
                Fail(RequestErrorIds.UnsupportedSyntax, Messages.HttpResponseHandler);
            }

            _bodyLines.Add((line, endedWithCrLf));
        }

        /// <summary>The body lines with their own line breaks; blank lines at the end only separate requests.</summary>
        private static bool IsBlankOrComment(string line)
        {
            var text = line.Trim();
            return text.Length == 0 || text.StartsWith("#", StringComparison.Ordinal) || text.StartsWith("//", StringComparison.Ordinal);
        }

        private string? Body()
        {
            // As in the REST Client, blank and comment lines at the end of a request belong to no body.
            var count = _bodyLines.Count;
            while (count > 0 && IsBlankOrComment(_bodyLines[count - 1].Text))
            {
                count--;
            }

            if (count == 0)
            {
                return null;
            }

            var body = new StringBuilder();
            for (var i = 0; i < count; i++)
            {
                body.Append(_bodyLines[i].Text);
                if (i < count - 1)
                {
                    body.Append(_bodyLines[i].CrLf ? "\r\n" : "\n");
                }
            }

            return body.ToString();
        }

        public RecordDraft ToDraft(Dictionary<string, string> variables)
        {
            var draft = new RecordDraft(_position) { Method = Method };
            if (_problemId is not null)
            {
                draft.Fail(_problemId, _problemDetail!);
            }

            var expansion = new Expansion(variables, draft);
            draft.Id = _name is null ? null : expansion.Fill(_name);
            draft.Uri = expansion.Fill(Target);
            foreach (var header in _headers)
            {
                draft.Headers.Add(new KeyValuePair<string, string>(expansion.Fill(header.Key), expansion.Fill(header.Value)));
            }

            draft.Body = Body() is { } body ? expansion.Fill(body) : null;
            return draft;
        }

        private void Fail(string errorId, string detail)
        {
            if (_problemId is null)
            {
                (_problemId, _problemDetail) = (errorId, detail);
            }
        }

        /// <summary>Method and target of <c>[METHOD] URL [HTTP/1.1]</c>; no method means GET.</summary>
        private static (string? Method, string Target) SplitRequestLine(string line)
        {
            var space = line.IndexOfAny(new[] { ' ', '\t' });
            string? method = null;
            var target = line;
            if (space > 0 && IsLetters(line.Substring(0, space)))
            {
                method = line.Substring(0, space);
                target = line.Substring(space + 1).Trim();
            }

            var version = target.LastIndexOf(" HTTP/", StringComparison.Ordinal);
            return (method, version > 0 ? target.Substring(0, version).TrimEnd() : target);
        }

        private static bool IsLetters(string text)
        {
            foreach (var c in text)
            {
                if (!(c is >= 'A' and <= 'Z' or >= 'a' and <= 'z'))
                {
                    return false;
                }
            }

            return true;
        }


    }

    /// <summary>The variables of one record's expansion, with each variable's value once it is known.</summary>
    private sealed class Expansion
    {
        private readonly Dictionary<string, string> _variables;
        private readonly RecordDraft _draft;
        private readonly Dictionary<string, string> _expanded = new(StringComparer.Ordinal);

        public Expansion(Dictionary<string, string> variables, RecordDraft draft)
        {
            _variables = variables;
            _draft = draft;
        }

        /// <summary>Replaces every <c>{{name}}</c>; notes a problem for a variable that has no value.</summary>
        public string Fill(string text, int depth = 0)
        {
            var start = text.IndexOf("{{", StringComparison.Ordinal);
            if (start < 0)
            {
                return text;
            }

            var filled = new StringBuilder();
            var done = 0;
            while (start >= 0)
            {
                var end = text.IndexOf("}}", start + 2, StringComparison.Ordinal);
                if (end < 0)
                {
                    break;
                }

                filled.Append(text, done, start - done);
                filled.Append(ValueOf(text.Substring(start + 2, end - start - 2).Trim(), depth));
                if (filled.Length > MaximumExpandedLength)
                {
                    _draft.Fail(RequestErrorIds.UnsupportedSyntax, Text.Format(Messages.HttpExpansionTooLong, MaximumExpandedLength));
                    return string.Empty;
                }

                done = end + 2;
                start = text.IndexOf("{{", done, StringComparison.Ordinal);
            }

            return filled.Append(text, done, text.Length - done).ToString();
        }

        private string ValueOf(string name, int depth)
        {
            if (name.StartsWith("$processEnv ", StringComparison.Ordinal))
            {
                var variable = name.Substring("$processEnv ".Length).Trim();
                var value = Environment.GetEnvironmentVariable(variable);
                if (value is null)
                {
                    _draft.Fail(RequestErrorIds.UndefinedVariable, Text.Format(Messages.HttpEnvironmentVariableMissing, variable));
                }

                return value ?? string.Empty;
            }

            if (name.StartsWith("$", StringComparison.Ordinal))
            {
                _draft.Fail(RequestErrorIds.UnsupportedSyntax, Text.Format(Messages.HttpSystemVariable, name.Split(' ')[0]));
                return string.Empty;
            }

            // Each variable is expanded once per record: a file whose variables nest four times over then costs
            // its length, not four to the power of its depth, before the size limit stops it.
            if (_expanded.TryGetValue(name, out var known))
            {
                return known;
            }

            if (!_variables.TryGetValue(name, out var text))
            {
                _draft.Fail(RequestErrorIds.UndefinedVariable, Text.Format(Messages.HttpVariableUndefined, name, NameSuggestion.DidYouMean(name, _variables.Keys)));
                return string.Empty;
            }

            if (depth >= MaximumVariableDepth)
            {
                _draft.Fail(RequestErrorIds.UndefinedVariable, Text.Format(Messages.HttpVariableLoop, name));
                return string.Empty;
            }

            var expanded = Fill(text, depth + 1);
            _expanded[name] = expanded;
            return expanded;
        }
    }
}
