using System;
using System.Management.Automation;
using BatchRequest.Model.Results;

namespace BatchRequest.Conversion;

/// <summary>
/// The <c>Data</c> property of a result (BatchRequest.Types.ps1xml): the body of a JSON answer as objects, the way
/// Invoke-RestMethod gives it. Parsed on its first read and kept, so edits stick and nothing is parsed twice; a
/// hidden member, so Export-Csv and ConvertTo-Json, which read every property, never pay for it.
/// </summary>
public static class ResultData
{
    // PowerShell's own JSON reader, the one ConvertFrom-Json and Invoke-RestMethod use; PowerShellStandard.Library
    // does not declare it, so it is bound once by name.
    private static readonly Lazy<JsonReader> Read = new(() =>
        (Type.GetType("Microsoft.PowerShell.Commands.JsonObject, Microsoft.PowerShell.Commands.Utility", throwOnError: true)!
            .GetMethod("ConvertFromJson", new[] { typeof(string), typeof(ErrorRecord).MakeByRefType() })
            ?? throw new MissingMethodException("Microsoft.PowerShell.Commands.JsonObject", "ConvertFromJson"))
        .CreateDelegate<JsonReader>());

    private delegate object? JsonReader(string input, out ErrorRecord? error);

    /// <summary>The parsed body; null for an answer that is not JSON or does not parse.</summary>
    public static object? Get(PSObject instance)
    {
        var result = (BatchResult)instance.BaseObject;
        if (ReferenceEquals(result.Data, BatchResult.DataNotRead))
        {
            result.Data = Parse(result);
        }

        return result.Data;
    }

    /// <summary>Replaces the parsed body; Content stays the text that arrived.</summary>
    public static void Set(PSObject instance, object? value) => ((BatchResult)instance.BaseObject).Data = value;

    private static object? Parse(BatchResult result)
    {
        if (string.IsNullOrEmpty(result.Content) || !IsJson(result.ContentType))
        {
            return null;
        }

        try
        {
            var data = Read.Value(result.Content, out var error);
            return error is null ? data : null;
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // A body that claims to be JSON and is not: no objects, as before; Content still holds the text.
            return null;
        }
    }

    private static bool IsJson(string? mediaType) =>
        mediaType is not null && (mediaType.EndsWith("/json", StringComparison.OrdinalIgnoreCase) || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
}
