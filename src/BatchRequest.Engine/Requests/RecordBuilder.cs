using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text.Json;
using BatchRequest.Engine.Resources;

namespace BatchRequest.Engine.Requests;

/// <summary>Turns one JSON request object into a validated <see cref="RequestRecord"/>.</summary>
internal static class RecordBuilder
{
    private static readonly string[] KnownProperties =
        { "id", "method", "uri", "url", "headers", "body", "contentType", "timeoutSec", "idempotencyKey" };

    /// <exception cref="RequestFileException">The record cannot be sent as written.</exception>
    public static RequestRecord FromJson(JsonElement element, RecordPosition position, RecordReadOptions options)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Problem(RequestErrorIds.NotAnObject, Text.Format(Messages.RecordNotAnObject, element.ValueKind), position);
        }

        string? id = null, method = null, uriText = null, body = null, contentType = null, idempotencyKey = null;
        TimeSpan? timeout = null;
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in element.EnumerateObject())
        {
            switch (Canonical(property.Name))
            {
                case "id":
                    id = property.Value.ValueKind == JsonValueKind.Number ? property.Value.GetRawText() : StringOf(property, position);
                    break;
                case "method":
                    method = StringOf(property, position);
                    break;
                case "uri":
                case "url":
                    uriText = StringOf(property, position);
                    break;
                case "headers":
                    ReadHeaders(property, headers, position);
                    break;
                case "body":
                    (body, contentType) = property.Value.ValueKind == JsonValueKind.String
                        ? (property.Value.GetString(), contentType)
                        : (property.Value.GetRawText(), contentType ?? "application/json");
                    break;
                case "contentType":
                    contentType = StringOf(property, position);
                    break;
                case "timeoutSec":
                    timeout = TimeSpan.FromSeconds(property.Value.ValueKind == JsonValueKind.Number
                        ? property.Value.GetDouble()
                        : throw Problem(RequestErrorIds.InvalidProperty, Text.Format(Messages.PropertyWrongType, property.Name, "number"), position));
                    break;
                case "idempotencyKey":
                    idempotencyKey = StringOf(property, position);
                    break;
                default:
                    throw Problem(RequestErrorIds.UnknownProperty, Text.Format(Messages.UnknownProperty, property.Name), position);
            }
        }

        return new RequestRecord(
            id ?? $"{System.IO.Path.GetFileName(position.File)}#{position.RecordNumber.ToString(CultureInfo.InvariantCulture)}",
            ValidMethod(method ?? "GET", position),
            ValidUri(uriText, options.BaseUri, position))
        {
            Headers = headers,
            Body = body,
            ContentType = contentType,
            Timeout = timeout,
            IdempotencyKey = idempotencyKey,
            Source = position.ToString(),
        };
    }

    private static string? Canonical(string name)
    {
        foreach (var known in KnownProperties)
        {
            if (string.Equals(known, name, StringComparison.OrdinalIgnoreCase))
            {
                return known;
            }
        }

        return null;
    }

    private static string StringOf(JsonProperty property, RecordPosition position) =>
        property.Value.ValueKind == JsonValueKind.String
            ? property.Value.GetString()!
            : throw Problem(RequestErrorIds.InvalidProperty, Text.Format(Messages.PropertyWrongType, property.Name, "string"), position);

    private static void ReadHeaders(JsonProperty property, Dictionary<string, string> headers, RecordPosition position)
    {
        if (property.Value.ValueKind != JsonValueKind.Object)
        {
            throw Problem(RequestErrorIds.InvalidProperty, Text.Format(Messages.PropertyWrongType, property.Name, "object"), position);
        }

        foreach (var header in property.Value.EnumerateObject())
        {
            var value = header.Value.ValueKind == JsonValueKind.String
                ? header.Value.GetString()!
                : throw Problem(RequestErrorIds.InvalidHeader, Text.Format(Messages.HeaderNotString, header.Name), position);

            // CR or LF would let a value smuggle in a header of its own.
            if (header.Name.Length == 0 || value.IndexOfAny(new[] { '\r', '\n' }) >= 0 || header.Name.IndexOfAny(new[] { '\r', '\n', ':', ' ' }) >= 0)
            {
                throw Problem(RequestErrorIds.InvalidHeader, Text.Format(Messages.HeaderInvalid, header.Name), position);
            }

            headers[header.Name] = value;
        }
    }

    private static string ValidMethod(string method, RecordPosition position)
    {
        // RFC 9110 token characters; anything else cannot go on a request line.
        foreach (var c in method)
        {
            if (!(char.IsLetterOrDigit(c) && c < 128) && "!#$%&'*+-.^_`|~".IndexOf(c) < 0)
            {
                throw Problem(RequestErrorIds.InvalidMethod, Text.Format(Messages.MethodInvalid, method), position);
            }
        }

        return method.Length == 0
            ? throw Problem(RequestErrorIds.InvalidMethod, Text.Format(Messages.MethodInvalid, method), position)
            : method;
    }

    private static Uri ValidUri(string? text, Uri? baseUri, RecordPosition position)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw Problem(RequestErrorIds.MissingUri, Messages.RecordMissingUri, position);
        }

        if (!Uri.TryCreate(text, UriKind.RelativeOrAbsolute, out var uri))
        {
            throw Problem(RequestErrorIds.InvalidUri, Messages.UriMalformed, position);
        }

        if (!uri.IsAbsoluteUri)
        {
            uri = baseUri is null
                ? throw Problem(RequestErrorIds.InvalidUri, Messages.UriRelativeWithoutBase, position)
                : new Uri(baseUri, uri);
        }

        if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
        {
            throw Problem(RequestErrorIds.InvalidUri, Text.Format(Messages.UriSchemeNotHttp, uri.Scheme), position);
        }

        if (uri.UserInfo.Length > 0)
        {
            throw Problem(RequestErrorIds.InvalidUri, Messages.UriHasUserInfo, position);
        }

        return uri;
    }

    private static RequestFileException Problem(string errorId, string detail, RecordPosition position) =>
        new(errorId, Text.Format(Messages.RecordProblem, position.File, position.RecordNumber, position.Line, position.Column, detail), position);
}
