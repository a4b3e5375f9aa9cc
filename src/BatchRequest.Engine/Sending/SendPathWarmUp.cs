using System;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace BatchRequest.Engine.Sending;

/// <summary>
/// In a fresh process (a scheduled task) the HTTP stack's first exchange costs tens of milliseconds of loading and
/// compiling, which the batch's first records would wait for. One exchange with a canned answer, through a pool
/// configured like the batch's, pays that while the request file is still being read. Its connection is an
/// in-memory stream: nothing leaves the process, whatever proxy the environment names.
/// </summary>
internal static class SendPathWarmUp
{
    private static readonly Uri Target = new("http://warm-up.invalid/");
    private static readonly byte[] CannedAnswer =
        Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");

    /// <summary>Runs the exchange; gives the status of the canned answer.</summary>
    public static async Task<HttpStatusCode> RunAsync(SenderOptions options)
    {
        var handler = (SocketsHttpHandler)HttpHandlerFactory.Create(options, maxConnectionsPerHost: 1);
        handler.UseProxy = false;
        handler.ConnectCallback = static (_, _) => ValueTask.FromResult<Stream>(new CannedConnection());
        using var client = new HttpClient(handler, disposeHandler: true);
        using var request = new HttpRequestMessage(HttpMethod.Get, Target);
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
        await response.Content.CopyToAsync(Stream.Null).ConfigureAwait(false);
        return response.StatusCode;
    }

    /// <summary>Starts the exchange without waiting for it; a failure only means the first records warm up instead.</summary>
    public static void Start(SenderOptions options) =>
        _ = RunAsync(options).ContinueWith(
            static attempt => _ = attempt.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    /// <summary>A connection that swallows the request and reads back the canned answer.</summary>
    private sealed class CannedConnection : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanWrite => true;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var count = Math.Min(buffer.Length, CannedAnswer.Length - _position);
            CannedAnswer.AsSpan(_position, count).CopyTo(buffer);
            _position += count;
            return count;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer, offset, count));

        public override void Write(byte[] buffer, int offset, int count)
        {
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => default;

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.CompletedTask;

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
