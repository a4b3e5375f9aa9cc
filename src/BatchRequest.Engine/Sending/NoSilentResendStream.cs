using System;
using System.IO;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

namespace BatchRequest.Engine.Sending;

/// <summary>
/// SocketsHttpHandler resends a request by itself (up to 3 more times) when the first read after sending it
/// returns end of stream (a graceful close, no response byte) and the request has no content or holds it for
/// Expect: 100-continue. This stream, put between the handler and the connection by
/// SocketsHttpHandler.PlaintextStreamFilter, turns exactly that end of stream into an HttpIOException, which the
/// handler reports as a failure without retrying. Any other end of stream (a body read to the close, a
/// connection found closed while idle) passes through unchanged.
/// </summary>
internal sealed class NoSilentResendStream : Stream
{
    private readonly Stream _inner;

    // Set before a request byte is written, cleared when a response byte is read.
    private volatile bool _awaitingResponse;

    public NoSilentResendStream(Stream inner) => _inner = inner;

    public static ValueTask<Stream> Filter(SocketsHttpPlaintextStreamFilterContext context, CancellationToken cancellationToken) =>
        // HTTP/2 and 3 resend only what the server says it did not process (REFUSED_STREAM, GOAWAY); leave them be.
        ValueTask.FromResult<Stream>(context.NegotiatedHttpVersion.Major == 1
            ? new NoSilentResendStream(context.PlaintextStream)
            : context.PlaintextStream);

    public override bool CanRead => _inner.CanRead;
    public override bool CanWrite => _inner.CanWrite;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer) => Observe(_inner.Read(buffer), buffer.Length);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Observe(await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false), buffer.Length);

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _awaitingResponse = true;
        _inner.Write(buffer);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _awaitingResponse = true;
        return _inner.WriteAsync(buffer, cancellationToken);
    }

    public override void Flush() => _inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync() => _inner.DisposeAsync();

    private int Observe(int read, int asked)
    {
        if (read > 0)
        {
            _awaitingResponse = false;
        }
        else if (asked > 0 && _awaitingResponse)
        {
            // A zero-byte read (asked == 0) is the handler probing for data, not an end of stream. The error is the
            // one the handler itself reports for this end of stream, only not marked as safe to resend.
            throw new HttpIOException(HttpRequestError.ResponseEnded, "The server closed the connection without answering the request.");
        }

        return read;
    }
}
