using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;
using BatchRequest.Engine.Requests;
using BatchRequest.Engine.Resources;
using BatchRequest.Model.Requests;

namespace BatchRequest.Conversion;

/// <summary>
/// Turns a PowerShell object or hashtable (an Import-Csv row, a [pscustomobject], the parameters of
/// New-BatchRequest) into a request, under the same rules and error ids as a record of a request file.
/// Properties match by name whatever their case: Id, Method, Uri (or Url), Headers, Header.Name, Body,
/// ContentType, TimeoutSec, IdempotencyKey; others are ignored, as pipeline binding by property name does.
/// </summary>
internal static class ObjectRequestReader
{
    private const string HeaderPrefix = "Header.";

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
            (PSObject.AsPSObject(unwrapped).Properties["Uri"] is not null || PSObject.AsPSObject(unwrapped).Properties["Url"] is not null);
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

        var values = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var property in properties)
        {
            if (property.Key.StartsWith(HeaderPrefix, StringComparison.OrdinalIgnoreCase) && property.Key.Length > HeaderPrefix.Length)
            {
                if (TextOf(property.Value) is { } header)
                {
                    headers.Add(new KeyValuePair<string, string>(property.Key.Substring(HeaderPrefix.Length), header));
                }
            }
            else
            {
                values[property.Key] = property.Value;
            }
        }

        return Build(
            Draft(
                TextOf(Get(values, "Id")),
                TextOf(Get(values, "Method")),
                TextOf(Get(values, "Uri") ?? Get(values, "Url")),
                Get(values, "Headers"),
                Get(values, "Body"),
                TextOf(Get(values, "ContentType")),
                Get(values, "TimeoutSec"),
                TextOf(Get(values, "IdempotencyKey")),
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
                draft.Fail(RequestErrorIds.InvalidHeader, Text.Format(Messages.HeaderNotString, pair.Key));
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
                draft.Fail(RequestErrorIds.InvalidProperty, Text.Format(Messages.PropertyWrongType, "TimeoutSec", "number"));
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

    private static object? Get(Dictionary<string, object?> values, string name) =>
        values.TryGetValue(name, out var value) ? value : null;

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
