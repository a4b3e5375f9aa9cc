using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;

namespace BatchRequest.TestServer;

/// <summary>
/// A raw listener on 127.0.0.1 that reads one HTTP/1.1 request per connection, records it in the ledger, then
/// closes the connection gracefully (FIN) without writing a byte. SocketsHttpHandler resends a bodiless request
/// by itself when that happens; Kestrel's Abort sends an RST instead, so no Kestrel route shows it.
/// </summary>
public sealed class SilentCloser : IAsyncDisposable
{
    // Headers longer than this end the connection unrecorded, like a request no server would take.
    private const int MaxHeaderBytes = 64 * 1024;

    private static readonly byte[] HeaderEnd = "\r\n\r\n"u8.ToArray();

    private readonly TcpListener _listener;
    private readonly ServerStats _stats;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _accepting;
    private long _connections;

    private SilentCloser(TcpListener listener, ServerStats stats)
    {
        _listener = listener;
        _stats = stats;
        BaseUri = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/");
        _accepting = AcceptAsync();
    }

    /// <summary>http://127.0.0.1:port/ as bound.</summary>
    public Uri BaseUri { get; }

    /// <summary>Listens on a free loopback port and records every request it reads in <paramref name="stats"/>.</summary>
    public static SilentCloser Start(ServerStats stats)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return new SilentCloser(listener, stats);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (OperationCanceledException)
        {
        }

        _stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            var connectionId = "silent-" + Interlocked.Increment(ref _connections).ToString(CultureInfo.InvariantCulture);
            _ = Task.Run(() => ServeAsync(socket, connectionId, token), CancellationToken.None);
        }
    }

    private async Task ServeAsync(Socket socket, string connectionId, CancellationToken token)
    {
        try
        {
            await ReadAndRecordAsync(socket, connectionId, token);

            // FIN without a byte of answer: the peer reads end-of-stream. Every byte it sent has been read, so the
            // close sends no RST.
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception exception) when (exception is SocketException or OperationCanceledException or ObjectDisposedException or InvalidDataException)
        {
            // The peer went away or sent something that is not a request; the connection ends either way.
        }
        finally
        {
            socket.Close();
        }
    }

    private async Task ReadAndRecordAsync(Socket socket, string connectionId, CancellationToken token)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int headerLength;
        while ((headerLength = IndexOf(buffer, HeaderEnd)) < 0)
        {
            if (buffer.Length > MaxHeaderBytes)
            {
                throw new InvalidDataException("Request headers too long.");
            }

            var read = await socket.ReceiveAsync(chunk, SocketFlags.None, token);
            if (read == 0)
            {
                // Closed before a whole request: nothing arrived.
                return;
            }

            buffer.Write(chunk, 0, read);
        }

        var lines = Encoding.Latin1.GetString(buffer.GetBuffer(), 0, headerLength).Split("\r\n");
        var requestLine = lines[0].Split(' ');
        if (requestLine.Length != 3)
        {
            throw new InvalidDataException("Not an HTTP request line.");
        }

        var method = requestLine[0];
        var target = requestLine[1];
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':');
            if (colon > 0)
            {
                // The first of repeated headers, as the Kestrel middleware's FirstOrDefault takes.
                headers.TryAdd(line[..colon].Trim(), line[(colon + 1)..].Trim());
            }
        }

        var question = target.IndexOf('?');
        var query = question >= 0 ? QueryHelpers.ParseQuery(target[question..]) : [];
        _stats.Arrived(
            new Arrival(
                query.TryGetValue("id", out var id) ? id.FirstOrDefault() : null,
                method,
                headers.GetValueOrDefault("Host") ?? string.Empty,
                target,
                DateTimeOffset.UtcNow,
                headers.GetValueOrDefault("Idempotency-Key"),
                headers.GetValueOrDefault("Authorization"),
                headers.GetValueOrDefault("X-Api-Key")),
            connectionId);
        try
        {
            // The body too, so that closing leaves nothing unread (unread bytes would turn the FIN into an RST).
            var body = new BodyReader(socket, buffer.GetBuffer().AsMemory(headerLength + HeaderEnd.Length, (int)buffer.Length - headerLength - HeaderEnd.Length), token);
            if (headers.TryGetValue("Transfer-Encoding", out var encoding) && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
            {
                await body.SkipChunkedAsync();
            }
            else if (headers.TryGetValue("Content-Length", out var lengthText) && long.TryParse(lengthText, CultureInfo.InvariantCulture, out var length))
            {
                await body.SkipAsync(length);
            }
        }
        finally
        {
            _stats.Left();
        }
    }

    private static int IndexOf(MemoryStream buffer, byte[] value) =>
        buffer.GetBuffer().AsSpan(0, (int)buffer.Length).IndexOf(value);

    /// <summary>Reads a request body from what came with the headers, then from the socket.</summary>
    private sealed class BodyReader(Socket socket, ReadOnlyMemory<byte> alreadyRead, CancellationToken token)
    {
        private readonly byte[] _chunk = new byte[8192];
        private ReadOnlyMemory<byte> _pending = alreadyRead;

        public async Task SkipAsync(long count)
        {
            while (count > 0)
            {
                var taken = await FillAsync();
                var skipped = (int)Math.Min(count, taken.Length);
                _pending = taken[skipped..];
                count -= skipped;
            }
        }

        public async Task SkipChunkedAsync()
        {
            while (true)
            {
                var sizeLine = await ReadLineAsync();
                var size = long.Parse(sizeLine.Split(';')[0].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if (size == 0)
                {
                    // Trailers, if any, up to the empty line.
                    while ((await ReadLineAsync()).Length > 0)
                    {
                    }

                    return;
                }

                await SkipAsync(size + 2);
            }
        }

        private async Task<string> ReadLineAsync()
        {
            var line = new StringBuilder();
            while (true)
            {
                var taken = await FillAsync();
                var end = taken.Span.IndexOf((byte)'\n');
                var part = end >= 0 ? taken[..end] : taken;
                line.Append(Encoding.Latin1.GetString(part.Span));
                _pending = end >= 0 ? taken[(end + 1)..] : ReadOnlyMemory<byte>.Empty;
                if (end >= 0)
                {
                    return line.ToString().TrimEnd('\r');
                }

                if (line.Length > MaxHeaderBytes)
                {
                    throw new InvalidDataException("Chunk line too long.");
                }
            }
        }

        private async Task<ReadOnlyMemory<byte>> FillAsync()
        {
            if (_pending.IsEmpty)
            {
                var read = await socket.ReceiveAsync(_chunk, SocketFlags.None, token);
                if (read == 0)
                {
                    throw new InvalidDataException("The body ended early.");
                }

                _pending = _chunk.AsMemory(0, read);
            }

            return _pending;
        }
    }
}
