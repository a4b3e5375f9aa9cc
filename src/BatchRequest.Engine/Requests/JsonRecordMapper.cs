using System;
using System.Collections.Generic;
using System.Text.Json;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Resources;
using BatchRequest.Model.Requests;

namespace BatchRequest.Engine.Requests;

/// <summary>Reads one JSON request object (from a JSON array or an NDJSON line) into a <see cref="RecordDraft"/>.</summary>
internal static class JsonRecordMapper
{
    /// <param name="defaults">Shared headers and base URI of the file; null when it has none.</param>
    public static RecordDraft ToDraft(JsonElement element, RecordPosition position, JsonFileDefaults? defaults)
    {
        var draft = new RecordDraft(position) { BaseUri = defaults?.BaseUri };
        if (element.ValueKind != JsonValueKind.Object)
        {
            draft.Fail(RequestErrorIds.NotAnObject, Text.Format(Messages.RecordNotAnObject, element.ValueKind));
            return draft;
        }

        var seen = 0;
        List<KeyValuePair<string, string>>? recordHeaders = null;
        foreach (var property in element.EnumerateObject())
        {
            if (RequestSchema.FieldOf(property.Name) is not { } field)
            {
                draft.Fail(RequestErrorIds.UnknownProperty, Text.Format(Messages.UnknownProperty, property.Name, NameSuggestion.DidYouMean(property.Name, RequestSchema.JsonNames)));
                continue;
            }

            // 'uri' and 'url' are one property under two names, and names match whatever their case.
            var bit = 1 << (int)field;
            if ((seen & bit) != 0)
            {
                draft.Fail(RequestErrorIds.DuplicateProperty, Text.Format(Messages.PropertyRepeated, property.Name));
                continue;
            }

            seen |= bit;

            var value = property.Value;
            switch (field)
            {
                case RequestField.Id:
                    draft.Id = value.ValueKind == JsonValueKind.Number ? value.GetRawText() : StringOf(property, draft);
                    break;
                case RequestField.Method:
                    draft.Method = StringOf(property, draft);
                    break;
                case RequestField.Uri:
                    draft.Uri = StringOf(property, draft);
                    break;
                case RequestField.Headers:
                    recordHeaders = HeadersOf(value, property.Name, draft);
                    break;
                case RequestField.Body:
                    if (value.ValueKind == JsonValueKind.String)
                    {
                        draft.Body = value.GetString();
                    }
                    else if (value.ValueKind != JsonValueKind.Null)
                    {
                        // Any other JSON value is the body itself, sent as JSON.
                        draft.Body = value.GetRawText();
                        draft.ImplyJsonContentType();
                    }

                    break;
                case RequestField.ContentType:
                    draft.ContentType = StringOf(property, draft);
                    break;
                case RequestField.TimeoutSec:
                    if (value.ValueKind == JsonValueKind.Number)
                    {
                        draft.TimeoutSec = value.GetDouble();
                    }
                    else
                    {
                        draft.Fail(RequestErrorIds.InvalidProperty, Text.Format(Messages.PropertyWrongType, property.Name, "number"));
                    }

                    break;
                case RequestField.IdempotencyKey:
                    draft.IdempotencyKey = StringOf(property, draft);
                    break;
            }
        }

        AddHeaders(draft, defaults?.Headers, recordHeaders);
        return draft;
    }

    /// <summary>Reads a <c>headers</c> object; null (with a problem noted) when it is not one.</summary>
    public static List<KeyValuePair<string, string>>? HeadersOf(JsonElement value, string propertyName, RecordDraft draft)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            draft.Fail(RequestErrorIds.InvalidProperty, Text.Format(Messages.PropertyWrongType, propertyName, "object"));
            return null;
        }

        var headers = new List<KeyValuePair<string, string>>();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in value.EnumerateObject())
        {
            if (header.Value.ValueKind != JsonValueKind.String)
            {
                draft.Fail(RequestErrorIds.InvalidHeader, Text.Format(Messages.HeaderNotString, header.Name));
            }
            else if (!names.Add(header.Name))
            {
                draft.Fail(RequestErrorIds.DuplicateProperty, Text.Format(Messages.HeaderRepeated, header.Name));
            }
            else
            {
                headers.Add(new KeyValuePair<string, string>(header.Name, header.Value.GetString()!));
            }
        }

        return headers;
    }

    /// <summary>The file's shared headers first, except those the record sets itself; then the record's.</summary>
    private static void AddHeaders(RecordDraft draft, List<KeyValuePair<string, string>>? shared, List<KeyValuePair<string, string>>? own)
    {
        if (shared is not null)
        {
            foreach (var header in shared)
            {
                if (own is null || !own.Exists(h => string.Equals(h.Key, header.Key, StringComparison.OrdinalIgnoreCase)))
                {
                    draft.Headers.Add(header);
                }
            }
        }

        if (own is not null)
        {
            draft.Headers.AddRange(own);
        }
    }

    private static string? StringOf(JsonProperty property, RecordDraft draft)
    {
        if (property.Value.ValueKind == JsonValueKind.String)
        {
            return property.Value.GetString();
        }

        draft.Fail(RequestErrorIds.InvalidProperty, Text.Format(Messages.PropertyWrongType, property.Name, "string"));
        return null;
    }
}

/// <summary>What a JSON file's top-level object gives every record: a base URI and headers.</summary>
internal sealed class JsonFileDefaults
{
    public Uri? BaseUri { get; set; }

    public List<KeyValuePair<string, string>>? Headers { get; set; }
}
