using System.IO;
using System.Text;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Resources;
using BatchRequest.Model.Requests;

namespace BatchRequest.Engine.Requests;

/// <summary>
/// Opens a request file as a stream of UTF-8 without a byte order mark, whatever its encoding: UTF-8 with or
/// without a BOM, or UTF-16 LE/BE with a BOM (what Windows PowerShell's Out-File writes), transcoded on the fly.
/// </summary>
internal static class Utf8Input
{
    /// <exception cref="RequestFileException">The file is in an encoding that cannot be read.</exception>
    public static Stream Open(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.SequentialScan);
        try
        {
            var head = new byte[4];
            var length = 0;
            int read;
            while (length < head.Length && (read = file.Read(head, length, head.Length - length)) > 0)
            {
                length += read;
            }

            if (length >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF)
            {
                file.Position = 3;
                return file;
            }

            if (length >= 4 && ((head[0] == 0xFF && head[1] == 0xFE && head[2] == 0 && head[3] == 0) || (head[0] == 0 && head[1] == 0 && head[2] == 0xFE && head[3] == 0xFF)))
            {
                throw Unreadable(path, Messages.RequestFileUtf32);
            }

            if (length >= 2 && ((head[0] == 0xFF && head[1] == 0xFE) || (head[0] == 0xFE && head[1] == 0xFF)))
            {
                file.Position = 2;
                var utf16 = new UnicodeEncoding(bigEndian: head[0] == 0xFE, byteOrderMark: false, throwOnInvalidBytes: true);
                return Encoding.CreateTranscodingStream(file, utf16, new UTF8Encoding(false), leaveOpen: false);
            }

            // Text that starts with a NUL byte next to a character is UTF-16 or UTF-32 that lost its BOM.
            if (length >= 2 && (head[0] == 0) != (head[1] == 0))
            {
                throw Unreadable(path, Messages.RequestFileNoByteOrderMark);
            }

            file.Position = 0;
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>The error for UTF-16 that the transcoding stream could not decode.</summary>
    public static RequestFileException NotUtf16(string path, DecoderFallbackException exception) =>
        new(RequestErrorIds.FileMalformed, Text.Format(Messages.RequestFileNotUtf16, path), new RecordPosition(path, 1, 1), exception);

    private static RequestFileException Unreadable(string path, string template) =>
        new(RequestErrorIds.FileMalformed, Text.Format(template, path), new RecordPosition(path, 1, 1));
}
