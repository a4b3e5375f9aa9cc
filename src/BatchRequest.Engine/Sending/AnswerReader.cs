using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.Net.Http;
using System.Net.Http.Headers;
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
    private readonly BodyFiles? _files;

    public AnswerReader(SenderOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
        _files = options.OutDirectory is { } folder ? new BodyFiles(folder) : null;
    }

    /// <param name="recordId">Names the body's file under -OutDirectory.</param>
    /// <param name="readTimer">The attempt's timer; re-armed before each read of the body.</param>
    /// <param name="cancellationToken">The batch's stop, told apart from the timer running out.</param>
    public async Task<HttpAnswer> ReadAsync(
        HttpResponseMessage response,
        string recordId,
        CancellationTokenSource readTimer,
        CancellationToken cancellationToken)
    {
        // As they arrived: parsing every header of every answer only to print it again costs more than the rest.
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in response.Headers.NonValidated)
        {
            headers[header.Key] = Joined(header.Value);
        }

        foreach (var header in response.Content.Headers.NonValidated)
        {
            headers[header.Key] = Joined(header.Value);
        }

        var contentType = response.Content.Headers.ContentType;
        var statusCode = (int)response.StatusCode;
        string? outFile = null;
        string? text = null;
        if (_files is not null)
        {
            outFile = await WriteBodyAsync(response, _files.PathFor(recordId), readTimer, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            using var memory = new MemoryStream();
            await CopyBodyAsync(response, memory, _options.MaximumResponseBytes, static () => Messages.ResponseTooLarge, readTimer, cancellationToken).ConfigureAwait(false);
            text = memory.Length == 0 ? null : Decode(new ArraySegment<byte>(memory.GetBuffer(), 0, (int)memory.Length), contentType?.CharSet);
        }

        return new HttpAnswer(statusCode, response.ReasonPhrase, headers)
        {
            Body = text,
            OutFile = outFile,
            ContentType = contentType?.MediaType,
            RetryAfter = RetryAfter.AppliesTo(statusCode) ? RetryAfter.Parse(headers, _time.GetUtcNow()) : null,
        };
    }

    private static string Joined(HeaderStringValues values) => values.Count == 1 ? values.ToString() : string.Join(", ", values);

    /// <summary>
    /// Streams the body into a fresh file beside <paramref name="path"/> and only then puts it in place, so that a
    /// body cut short, or too large, never replaces the body of an earlier answer; returns the path.
    /// </summary>
    private async Task<string> WriteBodyAsync(
        HttpResponseMessage response,
        string path,
        CancellationTokenSource readTimer,
        CancellationToken cancellationToken)
    {
        var partial = $"{path}.{Guid.NewGuid():N}.partial";
        try
        {
            FileStream file;
            try
            {
                file = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                throw Unwritable(path, exception);
            }

            await using (file.ConfigureAwait(false))
            {
                await CopyBodyAsync(response, file, _options.MaximumOutFileBytes, static () => Messages.OutFileTooLarge, readTimer, cancellationToken, path).ConfigureAwait(false);
            }

            try
            {
                File.Move(partial, path, overwrite: true);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                throw Unwritable(path, exception);
            }

            return path;
        }
        finally
        {
            // Left only when the body did not make it into place; a folder removed meanwhile leaves nothing to delete.
            if (File.Exists(partial))
            {
                File.Delete(partial);
            }
        }
    }

    /// <summary>Copies the body into <paramref name="destination"/>, refusing more than <paramref name="limit"/> bytes.</summary>
    /// <param name="tooLarge">The message for a body over the limit, looked up only then.</param>
    /// <param name="outFile">The file being written, named when writing fails; null for memory.</param>
    private async Task CopyBodyAsync(
        HttpResponseMessage response,
        Stream destination,
        long limit,
        Func<string> tooLarge,
        CancellationTokenSource readTimer,
        CancellationToken cancellationToken,
        string? outFile = null)
    {
        using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        long total = 0;
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
                    return;
                }

                total += read;
                if (total > limit)
                {
                    throw new ResponseTooLargeException(Text.Format(tooLarge(), limit), (int)response.StatusCode);
                }

                try
                {
                    await destination.WriteAsync(chunk.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }
                catch (IOException exception) when (outFile is not null)
                {
                    throw Unwritable(outFile, exception);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    private static OutFileException Unwritable(string path, Exception exception) =>
        new(Text.Format(Messages.OutFileUnwritable, path, exception.Message), exception);

    private static string Decode(ArraySegment<byte> body, string? charset)
    {
        var encoding = Encoding.UTF8;
        if (!string.IsNullOrEmpty(charset) && !charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase))
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
