using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace BatchRequest.TestServer;

/// <summary>
/// A real HTTP server on 127.0.0.1 with endpoints that delay, fail, throttle and count. Every endpoint takes
/// <c>?id=</c> (recorded in the ledger) and <c>?delay=ms</c> (waited before answering).
/// </summary>
public sealed class LoopbackServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _attemptsByKey = new();

    // End of the server-wide 429 window opened by the first /throttle-all request after a reset.
    private long _throttleUntilTicks;

    private LoopbackServer(WebApplication app, ServerStats stats)
    {
        _app = app;
        Stats = stats;
    }

    /// <summary>http://127.0.0.1:port/ as bound; known once started.</summary>
    public Uri BaseUri { get; private set; } = null!;

    public ServerStats Stats { get; }

    /// <summary>Starts on a free port (or <paramref name="port"/>) and returns once it accepts connections.</summary>
    public static async Task<LoopbackServer> StartAsync(int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var stats = new ServerStats();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Listen(IPAddress.Loopback, port, listen => listen.Use(next => async connection =>
            {
                stats.ConnectionOpened();
                try
                {
                    await next(connection);
                }
                finally
                {
                    stats.ConnectionClosed();
                }
            }));
        });

        var app = builder.Build();
        var server = new LoopbackServer(app, stats);
        server.Map();
        server.MapFaults();
        await app.StartAsync();
        server.BaseUri = new Uri(app.Urls.First().TrimEnd('/') + "/");
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private void Map()
    {
        var app = _app;
        app.Use(async (context, next) =>
        {
            if (IsControl(context.Request.Path))
            {
                await next(context);
                return;
            }

            var request = context.Request;
            Stats.Arrived(new Arrival(
                request.Query["id"].FirstOrDefault(),
                request.Method,
                request.Path + request.QueryString,
                DateTimeOffset.UtcNow,
                request.Headers["Idempotency-Key"].FirstOrDefault(),
                request.Headers.Authorization.FirstOrDefault()),
                context.Connection.Id);
            try
            {
                if (int.TryParse(request.Query["delay"], out var delay) && delay > 0)
                {
                    await Task.Delay(delay, context.RequestAborted);
                }

                await next(context);
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                // The client gave up; nothing to answer.
            }
            finally
            {
                Stats.Left();
            }
        });

        app.MapGet("/stats", () => Results.Json(Stats.Snapshot()));
        app.MapPost("/stats/reset", () =>
        {
            Stats.Reset();
            _attemptsByKey.Clear();
            Interlocked.Exchange(ref _throttleUntilTicks, 0);
            return Results.NoContent();
        });
        app.MapGet("/ledger", () => Results.Json(Stats.Ledger));

        app.Map("/echo", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            return Results.Json(new
            {
                method = context.Request.Method,
                path = context.Request.Path.Value,
                query = context.Request.QueryString.Value,
                headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString()),
                bodyLength = body.Length,
                body,
            });
        });

        app.Map("/delay/{ms:int}", async (int ms, HttpContext context) =>
        {
            await Task.Delay(ms, context.RequestAborted);
            return Results.Json(new { id = context.Request.Query["id"].FirstOrDefault(), delayed = ms });
        });

        app.Map("/status/{code:int}", (int code, HttpContext context) =>
        {
            AddRetryAfter(context);
            return Results.Json(new { status = code }, statusCode: code);
        });

        // The first {failures} requests of each id answer {code}; later ones succeed.
        app.Map("/flaky/{failures:int}/{code:int}", (int failures, int code, HttpContext context) =>
        {
            var key = context.Request.Query["id"].FirstOrDefault() ?? string.Empty;
            var attempt = _attemptsByKey.AddOrUpdate(key, 1, (_, seen) => seen + 1);
            if (attempt <= failures)
            {
                AddRetryAfter(context);
                return Results.Json(new { status = code, attempt }, statusCode: code);
            }

            return Results.Json(new { id = key, attempt });
        });
    }

    private void MapFaults()
    {
        var app = _app;

        // Accepts the request and never answers, until the client gives up.
        app.Map("/never", async (HttpContext context) =>
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        });

        // Sends the headers and the first {bytes} of a body, then stalls.
        app.Map("/stall-body/{bytes:int}", async (int bytes, HttpContext context) =>
        {
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = bytes + 1024;
            await context.Response.Body.WriteAsync(new byte[bytes], context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        });

        // Reads the whole request, then drops the connection without answering.
        app.Map("/reset", async (HttpContext context) =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
            context.Abort();
        });

        // Every request answers 429 with Retry-After until {ms} after the first one since the last reset.
        app.Map("/throttle-all/{ms:int}", (int ms, HttpContext context) =>
        {
            var now = DateTime.UtcNow.Ticks;
            Interlocked.CompareExchange(ref _throttleUntilTicks, now + TimeSpan.FromMilliseconds(ms).Ticks, 0);
            if (now < Interlocked.Read(ref _throttleUntilTicks))
            {
                AddRetryAfter(context);
                return Results.Json(new { status = 429 }, statusCode: 429);
            }

            return Results.Json(new { id = context.Request.Query["id"].FirstOrDefault() });
        });
    }

    private static bool IsControl(PathString path) =>
        path.StartsWithSegments("/stats") || path.StartsWithSegments("/ledger");

    private static void AddRetryAfter(HttpContext context)
    {
        // "date:N" asks for an HTTP date N seconds ahead; anything else is sent as written, malformed or not.
        if (context.Request.Query.TryGetValue("retryAfter", out var value))
        {
            var text = value.ToString();
            context.Response.Headers.RetryAfter = text.StartsWith("date:", StringComparison.Ordinal)
                ? DateTimeOffset.UtcNow.AddSeconds(double.Parse(text.AsSpan(5), CultureInfo.InvariantCulture)).ToString("r", CultureInfo.InvariantCulture)
                : text;
        }
    }
}
