using System;
using System.IO;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace BatchRequest.Engine.Journal;

/// <summary>
/// Appends one JSON object per line to a file and hands each line to the operating system before
/// <see cref="Append"/> returns, so a killed process loses no line it finished. Safe from many threads.
/// </summary>
internal sealed class NdjsonAppender : IDisposable
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // Files, not HTML: '+', '<' or non-ASCII text stay readable and round-trip the same.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly object _gate = new();
    private readonly FileStream _file;
    private readonly MemoryStream _line = new();
    private readonly Utf8JsonWriter _json;
    private bool _disposed;

    private NdjsonAppender(FileStream file)
    {
        _file = file;
        _json = new Utf8JsonWriter(_line, WriterOptions);
    }

    /// <summary>Creates the file, replacing one that exists.</summary>
    public static NdjsonAppender Create(string path) => new(Open(path, FileMode.Create, FileAccess.Write));

    /// <summary>
    /// Opens the file to append, creating it when missing. A last line torn by a kill is cut off first, so the
    /// next line does not glue onto it; a last line that is whole but lacks its line break gets one.
    /// </summary>
    public static NdjsonAppender OpenForAppend(string path)
    {
        var file = Open(path, FileMode.OpenOrCreate, FileAccess.ReadWrite);
        try
        {
            RepairTail(file);
            file.Seek(0, SeekOrigin.End);
            return new NdjsonAppender(file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Writes one line; does nothing once disposed (a worker may finish after its batch was stopped).</summary>
    public void Append(Action<Utf8JsonWriter> write)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _line.SetLength(0);
            _json.Reset(_line);
            write(_json);
            _json.Flush();
            _line.WriteByte((byte)'\n');

            // One unbuffered write per line: to the OS, not to the disk. That survives a killed process; surviving
            // a power cut would take an fsync per record, a disk round trip each.
            _file.Write(_line.GetBuffer(), 0, (int)_line.Length);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            try
            {
                // Once per run the lines go to the disk itself.
                _file.Flush(flushToDisk: true);
            }
            finally
            {
                _file.Dispose();
                _json.Dispose();
            }
        }
    }

    // Unbuffered (buffer size 1), so every line leaves the process in the write that carries it.
    private static FileStream Open(string path, FileMode mode, FileAccess access) =>
        new(path, mode, access, FileShare.Read, bufferSize: 1);

    private static void RepairTail(FileStream file)
    {
        var length = file.Length;
        var lastBreak = LastLineBreak(file);
        if (lastBreak == length - 1 || length == 0)
        {
            return;
        }

        var tail = new byte[length - (lastBreak + 1)];
        file.Seek(lastBreak + 1, SeekOrigin.Begin);
        ReadExactly(file, new ArraySegment<byte>(tail));
        if (JournalReader.IsEntry(Encoding.UTF8.GetString(tail)))
        {
            file.Seek(0, SeekOrigin.End);
            file.WriteByte((byte)'\n');
        }
        else
        {
            file.SetLength(lastBreak + 1);
        }
    }

    /// <summary>Position of the last '\n', or -1 when there is none.</summary>
    private static long LastLineBreak(FileStream file)
    {
        var chunk = new byte[4096];
        var end = file.Length;
        while (end > 0)
        {
            var start = Math.Max(0, end - chunk.Length);
            var count = (int)(end - start);
            file.Seek(start, SeekOrigin.Begin);
            ReadExactly(file, new ArraySegment<byte>(chunk, 0, count));
            var index = Array.LastIndexOf(chunk, (byte)'\n', count - 1, count);
            if (index >= 0)
            {
                return start + index;
            }

            end = start;
        }

        return -1;
    }

    private static void ReadExactly(Stream stream, ArraySegment<byte> buffer)
    {
        var done = 0;
        while (done < buffer.Count)
        {
            var read = stream.Read(buffer.Array!, buffer.Offset + done, buffer.Count - done);
            if (read == 0)
            {
                throw new EndOfStreamException();
            }

            done += read;
        }
    }
}
