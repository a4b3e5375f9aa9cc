using System.IO;

namespace BatchRequest.Engine.Requests;

/// <summary>The layouts of request file that the readers understand.</summary>
public enum RequestFileFormat
{
    /// <summary>A JSON array of request objects, or an object with a <c>requests</c> array and shared defaults.</summary>
    Json,

    /// <summary>One JSON request object per line (NDJSON, JSON Lines).</summary>
    Ndjson,

    /// <summary>A CSV table with a header row: one request per row.</summary>
    Csv,

    /// <summary>The <c>.http</c> syntax of the VS Code REST Client and JetBrains HTTP Client.</summary>
    Http,
}

/// <summary>Tells a file's format from its extension.</summary>
public static class RequestFileFormats
{
    /// <summary>The format that the extension of <paramref name="path"/> names, or null when it names none.</summary>
    public static RequestFileFormat? FromExtension(string path) =>
        Path.GetExtension(path).ToUpperInvariant() switch
        {
            ".JSON" => RequestFileFormat.Json,
            ".NDJSON" or ".JSONL" => RequestFileFormat.Ndjson,
            ".CSV" => RequestFileFormat.Csv,
            ".HTTP" or ".REST" => RequestFileFormat.Http,
            _ => null,
        };
}
