using System;
using System.IO;

namespace BatchRequest.Engine.Requests;

/// <summary>
/// Reads UTF-8 text one line at a time as bytes, holding only the current line, and numbers the lines from 1.
/// A line ends at LF; a CR before it is dropped.
/// </summary>
internal sealed class Utf8LineReader
{
    private readonly Stream _stream;
    private byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;
    private bool _endOfStream;

    public Utf8LineReader(Stream stream)
    {
        _stream = stream;
    }

    /// <summary>Number of the line last returned.</summary>
    public long LineNumber { get; private set; }

    /// <summary>Whether the line last returned ended with CR LF rather than LF or the end of the file.</summary>
    public bool EndedWithCrLf { get; private set; }

    /// <summary>Reads the next line; false at the end. The memory is valid until the next call.</summary>
    public bool TryReadLine(out ReadOnlyMemory<byte> line)
    {
        var searched = 0;
        while (true)
        {
            var newLine = _buffer.AsSpan(_start + searched, _end - _start - searched).IndexOf((byte)'\n');
            if (newLine >= 0)
            {
                var length = searched + newLine;
                EndedWithCrLf = length > 0 && _buffer[_start + length - 1] == (byte)'\r';
                line = new ReadOnlyMemory<byte>(_buffer, _start, EndedWithCrLf ? length - 1 : length);
                _start += length + 1;
                LineNumber++;
                return true;
            }

            searched = _end - _start;
            if (_endOfStream)
            {
                if (_end == _start)
                {
                    line = default;
                    return false;
                }

                // The last line has no line break.
                EndedWithCrLf = false;
                var length = _end - _start;
                line = new ReadOnlyMemory<byte>(_buffer, _start, length > 0 && _buffer[_end - 1] == (byte)'\r' ? length - 1 : length);
                _start = _end;
                LineNumber++;
                return true;
            }

            Refill();
        }
    }

    private void Refill()
    {
        // Keep the unfinished line; grow only when one line is longer than the whole buffer.
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        else if (_end == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        var read = _stream.Read(_buffer, _end, _buffer.Length - _end);
        _end += read;
        _endOfStream = read == 0;
    }
}
