using System;
using System.IO;

namespace BatchRequest.Engine.Requests;

/// <summary>
/// The readers' view of a stream: the bytes from <see cref="Start"/> to <see cref="End"/> of <see cref="Buffer"/>
/// are read and not yet consumed. Refilling keeps that tail and grows the buffer only when one value (a JSON
/// element, a line) is larger than the whole buffer, so memory follows the largest record, not the file.
/// </summary>
internal sealed class ByteWindow
{
    private readonly Stream _stream;
    private byte[] _buffer = new byte[64 * 1024];

    public ByteWindow(Stream stream) => _stream = stream;

    public byte[] Buffer => _buffer;

    /// <summary>First unconsumed byte; readers move it forward as they consume.</summary>
    public int Start { get; set; }

    /// <summary>One past the last byte read.</summary>
    public int End { get; private set; }

    public bool EndOfStream { get; private set; }

    /// <summary>The unconsumed bytes.</summary>
    public Span<byte> Unconsumed => _buffer.AsSpan(Start, End - Start);

    /// <summary>Reads more of the stream after the unconsumed tail; sets <see cref="EndOfStream"/> at the end.</summary>
    public void Refill()
    {
        if (EndOfStream)
        {
            throw new InvalidOperationException("The reader asked for more data after the end of the stream.");
        }

        if (Start > 0)
        {
            System.Buffer.BlockCopy(_buffer, Start, _buffer, 0, End - Start);
            End -= Start;
            Start = 0;
        }
        else if (End == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        var read = _stream.Read(_buffer, End, _buffer.Length - End);
        End += read;
        EndOfStream = read == 0;
    }
}
