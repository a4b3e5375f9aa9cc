using System.Collections.Generic;
using System.IO;
using System.Text;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Resources;
using BatchRequest.Model.Requests;

namespace BatchRequest.Engine.Requests;

/// <summary>Streams the records of one request file, one at a time, in file order, whatever its format.</summary>
public static class RequestFileReader
{
    /// <summary>The requests of a file; the first record problem is thrown when it is reached.</summary>
    /// <exception cref="RequestFileException">The file or a record in it is invalid.</exception>
    public static IEnumerable<RequestRecord> Read(string path, RecordReadOptions options)
    {
        foreach (var entry in ReadEntries(path, options))
        {
            yield return entry.Record ?? throw entry.Problem!;
        }
    }

    /// <summary>
    /// Every record of a file as a request or as the problem that stops it from being sent, so that reading goes on
    /// past a bad record. Only a problem with the file itself (unreadable, malformed, wrong shape) is thrown.
    /// </summary>
    /// <exception cref="RequestFileException">The file cannot be read as a request file.</exception>
    public static IEnumerable<RequestEntry> ReadEntries(string path, RecordReadOptions options)
    {
        var format = FormatOf(path, options.Format);
        using var stream = Utf8Input.Open(path);
        using var drafts = Drafts(stream, path, format, options).GetEnumerator();
        while (NextDraft(drafts, path) is { } draft)
        {
            yield return RecordBuilder.Build(draft, options);
        }
    }

    // UTF-16 is transcoded while it is read, so a bad byte surfaces from whichever reader pulls it.
    private static RecordDraft? NextDraft(IEnumerator<RecordDraft> drafts, string path)
    {
        try
        {
            return drafts.MoveNext() ? drafts.Current : null;
        }
        catch (DecoderFallbackException exception)
        {
            throw Utf8Input.NotUtf16(path, exception);
        }
    }

    /// <summary>The format that <paramref name="format"/> names, or else the file's extension.</summary>
    /// <exception cref="RequestFileException">Neither names a format.</exception>
    public static RequestFileFormat FormatOf(string path, RequestFileFormat? format) =>
        format ?? RequestFileFormats.FromExtension(path) ?? throw new RequestFileException(
            RequestErrorIds.FileFormatUnknown,
            Text.Format(Messages.RequestFileFormatUnknown, path, Path.GetExtension(path)),
            new RecordPosition(path, 0, 0));

    private static IEnumerable<RecordDraft> Drafts(Stream stream, string path, RequestFileFormat format, RecordReadOptions options)
    {
        switch (format)
        {
            case RequestFileFormat.Ndjson:
                return NdjsonRecordReader.Read(stream, path);
            case RequestFileFormat.Csv:
                return CsvRecordReader.Read(stream, path, options);
            case RequestFileFormat.Http:
                return HttpRecordReader.Read(stream, path);
            default:
                return JsonDrafts(stream, path);
        }
    }

    private static IEnumerable<RecordDraft> JsonDrafts(Stream stream, string path)
    {
        // The defaults of an object-shaped file may follow its requests, so a first pass finds them.
        JsonFileDefaults? defaults;
        using (var scan = Utf8Input.Open(path))
        {
            try
            {
                defaults = new JsonArrayStream(scan, path).ScanDefaults();
            }
            catch (DecoderFallbackException exception)
            {
                throw Utf8Input.NotUtf16(path, exception);
            }
        }

        var elements = new JsonArrayStream(stream, path);
        long recordNumber = 0;
        while (elements.TryReadNext(out var element, out var line, out var column))
        {
            recordNumber++;
            yield return JsonRecordMapper.ToDraft(element, new RecordPosition(path, line, column, recordNumber), defaults);
        }
    }
}
