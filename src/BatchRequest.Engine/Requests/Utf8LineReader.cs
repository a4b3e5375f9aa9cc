using System;
using System.IO;

namespace BatchRequest.Engine.Requests;

/// <summary>
/// Reads UTF-8 text one line at a time as bytes, holding only the current line, and numbers the lines from 1.
/// A line ends at LF; a CR before it is dropped.
/// </summary>
internal sealed class Utf8LineReader
{
    private readonly ByteWindow _window;

    public Utf8LineReader(Stream stream)
    {
        _window = new ByteWindow(stream);
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
            var newLine = _window.Buffer.AsSpan(_window.Start + searched, _window.End - _window.Start - searched).IndexOf((byte)'\n');
            if (newLine >= 0)
            {
                var length = searched + newLine;
                EndedWithCrLf = length > 0 && _window.Buffer[_window.Start + length - 1] == (byte)'\r';
                line = new ReadOnlyMemory<byte>(_window.Buffer, _window.Start, EndedWithCrLf ? length - 1 : length);
                _window.Start += length + 1;
                LineNumber++;
                return true;
            }

            searched = _window.End - _window.Start;
            if (_window.EndOfStream)
            {
                if (_window.End == _window.Start)
                {
                    line = default;
                    return false;
                }

                // The last line has no line break.
                EndedWithCrLf = false;
                var length = _window.End - _window.Start;
                line = new ReadOnlyMemory<byte>(_window.Buffer, _window.Start, length > 0 && _window.Buffer[_window.End - 1] == (byte)'\r' ? length - 1 : length);
                _window.Start = _window.End;
                LineNumber++;
                return true;
            }

            _window.Refill();
        }
    }

}
