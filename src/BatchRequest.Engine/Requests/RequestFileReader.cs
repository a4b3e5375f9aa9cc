using System.Collections.Generic;
using System.IO;

namespace BatchRequest.Engine.Requests;

/// <summary>Streams the records of a request file, one at a time, in file order.</summary>
public static class RequestFileReader
{
    /// <exception cref="RequestFileException">The file or a record in it is invalid; thrown when reached.</exception>
    public static IEnumerable<RequestRecord> Read(string path, RecordReadOptions options)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.SequentialScan);
        var elements = new JsonArrayStream(stream, path);
        long recordNumber = 0;
        while (elements.TryReadNext(out var element, out var line, out var column))
        {
            recordNumber++;
            yield return RecordBuilder.FromJson(element, new RecordPosition(path, line, column, recordNumber), options);
        }
    }
}
