using System;
using System.Collections.Generic;
using System.Linq;

namespace BatchRequest.Engine.Requests;

/// <summary>A field of a request record, whatever the format it is read from.</summary>
public enum RequestField
{
    Id,
    Method,
    Uri,
    Headers,
    Body,
    ContentType,
    TimeoutSec,
    IdempotencyKey,
}

/// <summary>
/// The one definition of a request record's field names, for every reader and for the failed-records writer:
/// JSON and NDJSON spell them in camelCase, CSV columns and PowerShell properties in PascalCase, and every reader
/// matches them whatever their case. <c>url</c> is another name for <c>uri</c>; <c>Header.Name</c> is a flat
/// column or property that carries one header.
/// </summary>
public static class RequestSchema
{
    /// <summary>Prefix of a CSV column or object property that holds one header's value.</summary>
    public const string HeaderPrefix = "Header.";

    /// <summary>Another name for <see cref="RequestField.Uri"/>, as users of Invoke-RestMethod write it.</summary>
    public const string UriAlias = "url";

    private static readonly Dictionary<string, RequestField> ByName = Enum.GetValues<RequestField>()
        .Select(field => (Name: NameOf(field), Field: field))
        .Append((Name: UriAlias, Field: RequestField.Uri))
        .ToDictionary(pair => pair.Name, pair => pair.Field, StringComparer.OrdinalIgnoreCase);

    /// <summary>The field's name as the JSON formats write it: <c>id</c>, <c>contentType</c>, ...</summary>
    public static string NameOf(RequestField field)
    {
        var name = field.ToString();
        return char.ToLowerInvariant(name[0]) + name.Substring(1);
    }

    /// <summary>The field's name as a CSV column or PowerShell property: <c>Id</c>, <c>ContentType</c>, ...</summary>
    public static string ColumnOf(RequestField field) => field.ToString();

    /// <summary>The field a name stands for, whatever its case; null for a name that is none.</summary>
    public static RequestField? FieldOf(string name) => ByName.TryGetValue(name, out var field) ? field : null;

    /// <summary>Every name a JSON request object may use, the alias included, for "did you mean" hints.</summary>
    public static IEnumerable<string> JsonNames => Enum.GetValues<RequestField>().Select(NameOf).Append(UriAlias);

    /// <summary>Every column a CSV file may have beside header columns; CSV has no nested headers.</summary>
    public static IEnumerable<string> CsvColumns => Enum.GetValues<RequestField>()
        .Where(candidate => candidate != RequestField.Headers)
        .Select(ColumnOf)
        .Append("Url"); // the alias, as a CSV header writes it

    /// <summary>The header a flat name carries (<c>Header.X-Tenant</c> gives <c>X-Tenant</c>); null for any other name.</summary>
    public static string? HeaderNameOf(string name) =>
        name.Length > HeaderPrefix.Length && name.StartsWith(HeaderPrefix, StringComparison.OrdinalIgnoreCase)
            ? name.Substring(HeaderPrefix.Length)
            : null;
}
