using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Resources;

namespace BatchRequest.Engine.Sending;

/// <summary>Reads a response into an <see cref="HttpAnswer"/>: headers, the body bounded in size and idle time, its text.</summary>
internal sealed class AnswerReader
{
    private readonly SenderOptions _options;
    private readonly TimeProvider _time;

    public AnswerReader(SenderOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
    }

    /// <param name="readTimer">The attempt's timer; re-armed before each read of the body.</param>
    /// <param name="cancellationToken">The batch's stop, told apart from the timer running out.</param>
    public async Task<HttpAnswer> ReadAsync(HttpResponseMessage response, CancellationTokenSource readTimer, CancellationToken cancellationToken)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in response.Headers.Concat(response.Content.Headers))
        {
            headers[header.Key] = string.Join(", ", header.Value);
        }

        var body = await ReadBodyAsync(response, readTimer, cancellationToken).ConfigureAwait(false);
        var contentType = response.Content.Headers.ContentType;
        var statusCode = (int)response.StatusCode;
        return new HttpAnswer(statusCode, response.ReasonPhrase, headers)
        {
            Body = body.Count == 0 ? null : Decode(body, contentType?.CharSet),
            ContentType = contentType?.MediaType,
            RetryAfter = RetryAfter.AppliesTo(statusCode) ? RetryAfter.Parse(headers, _time.GetUtcNow()) : null,
        };
    }

    private async Task<ArraySegment<byte>> ReadBodyAsync(
        HttpResponseMessage response,
        CancellationTokenSource readTimer,
        CancellationToken cancellationToken)
    {
        using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var body = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            while (true)
            {
                // HttpClient's timeouts end at the headers; a server that stalls mid-body is caught here.
                readTimer.CancelAfter(_options.OperationTimeout);
                int read;
                try
                {
                    read = await stream.ReadAsync(chunk.AsMemory(), readTimer.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new AttemptTimeoutException(Text.Format(Messages.BodyStalled, _options.OperationTimeout.TotalSeconds));
                }

                if (read == 0)
                {
                    return new ArraySegment<byte>(body.GetBuffer(), 0, (int)body.Length);
                }

                if (body.Length + read > _options.MaximumResponseBytes)
                {
                    throw new ResponseTooLargeException(Text.Format(Messages.ResponseTooLarge, _options.MaximumResponseBytes), (int)response.StatusCode);
                }

                body.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    private static string Decode(ArraySegment<byte> body, string? charset)
    {
        var encoding = Encoding.UTF8;
        if (!string.IsNullOrEmpty(charset))
        {
            try
            {
                encoding = Encoding.GetEncoding(charset.Trim('"'));
            }
            catch (ArgumentException)
            {
                // An unknown charset is the server's mistake; UTF-8 is the best guess for a modern API.
            }
        }

        return encoding.GetString(body.Array!, body.Offset, body.Count);
    }
}
