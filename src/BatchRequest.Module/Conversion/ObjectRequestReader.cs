using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Requests;
using BatchRequest.Model.Requests;
using BatchRequest.Resources;
using EngineMessages = BatchRequest.Engine.Resources.Messages;

namespace BatchRequest.Conversion;

/// <summary>
/// Turns a PowerShell object or hashtable (an Import-Csv row, a [pscustomobject], the parameters of
/// New-BatchRequest) into a request, under the same rules and error ids as a record of a request file.
/// Properties match by name whatever their case: Id, Method, Uri (or Url), Headers, Header.Name, Body,
/// ContentType, TimeoutSec, IdempotencyKey; others are ignored, as pipeline binding by property name does.
/// </summary>
internal static class ObjectRequestReader
{

    /// <summary>Whether <paramref name="value"/> is the kind of object that can describe a request.</summary>
    public static bool IsRequestLike(object? value)
    {
        var unwrapped = value is PSObject wrapped ? wrapped.BaseObject : value;
        if (unwrapped is IDictionary || unwrapped is PSCustomObject)
        {
            return true;
        }

        // A typed object qualifies when it has a Uri or Url property; strings, numbers and the like never do.
        return unwrapped is not null && !(unwrapped is string || unwrapped.GetType().IsPrimitive) &&
            (PSObject.AsPSObject(unwrapped).Properties[RequestSchema.ColumnOf(RequestField.Uri)] is not null
             || PSObject.AsPSObject(unwrapped).Properties[RequestSchema.UriAlias] is not null);
    }

    public static RequestEntry Read(object value, Uri? baseUri = null)
    {
        var properties = PropertiesOf(value);
        if (properties is null)
        {
            var draft = new RecordDraft(RecordPosition.NotInFile);
            draft.Fail(RequestErrorIds.NotAnObject, Text.Format(Messages.ConversionNotAnObject, Unwrap(value)?.GetType().Name ?? "null"));
            return Build(draft, baseUri);
        }

        var values = new Dictionary<RequestField, object?>();
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var property in properties)
        {
            if (RequestSchema.HeaderNameOf(property.Key) is { } name)
            {
                if (TextOf(property.Value) is { } header)
                {
                    headers.Add(new KeyValuePair<string, string>(name, header));
                }
            }
            else if (RequestSchema.FieldOf(property.Key) is { } field
                && !(field == RequestField.Uri && values.ContainsKey(field) && property.Key.Equals(RequestSchema.UriAlias, StringComparison.OrdinalIgnoreCase)))
            {
                // Uri wins over its alias Url, whichever comes first; other properties are not part of the request.
                values[field] = property.Value;
            }
        }

        return Build(
            Draft(
                TextOf(Get(values, RequestField.Id)),
                TextOf(Get(values, RequestField.Method)),
                TextOf(Get(values, RequestField.Uri)),
                Get(values, RequestField.Headers),
                Get(values, RequestField.Body),
                TextOf(Get(values, RequestField.ContentType)),
                Get(values, RequestField.TimeoutSec),
                TextOf(Get(values, RequestField.IdempotencyKey)),
                headers),
            baseUri);
    }

    /// <summary>A draft from values as PowerShell hands them over; a value of the wrong kind is noted as the problem.</summary>
    public static RecordDraft Draft(
        string? id,
        string? method,
        string? uri,
        object? headers,
        object? body,
        string? contentType,
        object? timeoutSec,
        string? idempotencyKey,
        IEnumerable<KeyValuePair<string, string>>? moreHeaders = null)
    {
        var draft = new RecordDraft(RecordPosition.NotInFile)
        {
            Id = id,
            Method = method,
            Uri = uri,
            ContentType = contentType,
            IdempotencyKey = idempotencyKey,
        };

        AddHeaders(draft, Unwrap(headers));
        if (moreHeaders is not null)
        {
            draft.Headers.AddRange(moreHeaders);
        }

        SetBody(draft, Unwrap(body));
        SetTimeout(draft, Unwrap(timeoutSec));
        return draft;
    }

    public static RequestEntry Build(RecordDraft draft, Uri? baseUri) =>
        RecordBuilder.Build(draft, new RecordReadOptions { BaseUri = baseUri });

    private static void AddHeaders(RecordDraft draft, object? headers)
    {
        if (headers is null || (headers is string text && text.Length == 0))
        {
            return;
        }

        // A hashtable, or an object such as ConvertFrom-Json gives: names and values, nothing else.
        var pairs = headers is IDictionary or PSObject { BaseObject: PSCustomObject } ? PropertiesOf(headers) : null;
        if (pairs is null)
        {
            draft.Fail(RequestErrorIds.InvalidProperty, Messages.HeadersNotDictionary);
            return;
        }

        foreach (var pair in pairs)
        {
            var value = Unwrap(pair.Value);
            if (value is null || value is IDictionary || value is PSCustomObject || (value is IEnumerable && value is not string))
            {
                draft.Fail(RequestErrorIds.InvalidHeader, Text.Format(EngineMessages.HeaderNotString, pair.Key));
                continue;
            }

            draft.Headers.Add(new KeyValuePair<string, string>(pair.Key, TextOf(value) ?? string.Empty));
        }
    }

    private static void SetBody(RecordDraft draft, object? body)
    {
        switch (body)
        {
            case null:
                return;
            case string text:
                draft.Body = text.Length == 0 ? null : text;
                return;
            default:
                try
                {
                    draft.Body = JsonBody.Serialize(body);
                    draft.ImplyJsonContentType();
                }
                catch (JsonBody.TooDeepException)
                {
                    draft.Fail(RequestErrorIds.InvalidProperty, Text.Format(Messages.BodyTooDeep, JsonBody.MaximumDepth));
                }

                return;
        }
    }

    private static void SetTimeout(RecordDraft draft, object? timeoutSec)
    {
        switch (timeoutSec)
        {
            case null:
            case string { Length: 0 }:
                return;
            case TimeSpan span:
                draft.TimeoutSec = span.TotalSeconds;
                return;
            case string text when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed):
                draft.TimeoutSec = parsed;
                return;
            case IConvertible number when number is not string and not bool and not char:
                draft.TimeoutSec = number.ToDouble(CultureInfo.InvariantCulture);
                return;
            default:
                draft.Fail(RequestErrorIds.InvalidProperty, Text.Format(EngineMessages.PropertyWrongType, RequestSchema.ColumnOf(RequestField.TimeoutSec), "number"));
                return;
        }
    }

    /// <summary>Name and value of every property of an object or entry of a dictionary; null for anything else.</summary>
    private static List<KeyValuePair<string, object?>>? PropertiesOf(object? value)
    {
        var unwrapped = Unwrap(value);
        var pairs = new List<KeyValuePair<string, object?>>();
        if (unwrapped is IDictionary dictionary)
        {
            foreach (DictionaryEntry entry in dictionary)
            {
                pairs.Add(new KeyValuePair<string, object?>(entry.Key?.ToString() ?? string.Empty, entry.Value));
            }

            return pairs;
        }

        if (unwrapped is null || unwrapped is string || unwrapped.GetType().IsPrimitive || unwrapped is IEnumerable)
        {
            return null;
        }

        foreach (var property in PSObject.AsPSObject(value!).Properties)
        {
            object? propertyValue;
            try
            {
                propertyValue = property.Value;
            }
            catch (GetValueException)
            {
                // A getter that throws is a property this object cannot give; it is not part of the request.
                continue;
            }

            pairs.Add(new KeyValuePair<string, object?>(property.Name, propertyValue));
        }

        return pairs;
    }

    private static object? Get(Dictionary<RequestField, object?> values, RequestField field) =>
        values.TryGetValue(field, out var value) ? value : null;

    private static object? Unwrap(object? value) =>
        value is PSObject wrapped ? (wrapped.BaseObject is PSCustomObject ? wrapped : wrapped.BaseObject) : value;

    /// <summary>The text of a scalar value; null for null and for an empty string (an empty CSV cell).</summary>
    private static string? TextOf(object? value) => Unwrap(value) switch
    {
        null => null,
        string text => text.Length == 0 ? null : text,
        Uri uri => uri.OriginalString,
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        var other => other.ToString(),
    };
}
