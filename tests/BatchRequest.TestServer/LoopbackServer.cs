using System.Collections.Concurrent;
using System.Globalization;
using System.Net;

namespace BatchRequest.TestServer;

/// <summary>
/// A real HTTP server on 127.0.0.1 with endpoints that delay, fail, throttle and count. Every endpoint takes
/// <c>?id=</c> (recorded in the ledger) and <c>?delay=ms</c> (waited before answering).
/// </summary>
public sealed partial class LoopbackServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _attemptsByKey = new();
    private SilentCloser _silentCloser = null!;

    // End of the server-wide 429 window opened by the first /throttle-all request after a reset.
    private long _throttleUntilTicks;

    private LoopbackServer(WebApplication app, ServerStats stats)
    {
        _app = app;
        Stats = stats;
    }

    /// <summary>http://127.0.0.1:port/ as bound; known once started.</summary>
    public Uri BaseUri { get; private set; } = null!;

    /// <summary>A second http listener on another port: another origin, for cross-origin redirects.</summary>
    public Uri SecondBaseUri { get; private set; } = null!;

    /// <summary>An https listener with a self-signed certificate that no client trusts.</summary>
    public Uri HttpsBaseUri { get; private set; } = null!;

    /// <summary>An https listener like <see cref="HttpsBaseUri"/> that refuses a client without a certificate.</summary>
    public Uri ClientCertificateBaseUri { get; private set; } = null!;

    /// <summary>
    /// A raw listener, not Kestrel, that records each request in the ledger and closes the connection gracefully
    /// without answering (see <see cref="SilentCloser"/>).
    /// </summary>
    public Uri SilentCloseBaseUri => _silentCloser.BaseUri;

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
                    stats.ConnectionClosed(connection.ConnectionId);
                }
            }));
            kestrel.Listen(IPAddress.Loopback, 0);
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(SelfSignedCertificate()));

            // Asks every client for a certificate and takes any, self-signed too: the ledger shows which one came.
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(new Microsoft.AspNetCore.Server.Kestrel.Https.HttpsConnectionAdapterOptions
            {
                ServerCertificate = SelfSignedCertificate(),
                ClientCertificateMode = Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.RequireCertificate,
                ClientCertificateValidation = (_, _, _) => true,
            }));
        });

        var app = builder.Build();
        var server = new LoopbackServer(app, stats);
        server.Map();
        server.MapFaults();
        server.MapSecurity();
        server.MapOverload();
        server.MapBodies();
        await app.StartAsync();

        // Kestrel lists the addresses in the order the listeners were declared.
        var urls = app.Urls.Select(url => new Uri(url.TrimEnd('/') + "/")).ToList();
        server.BaseUri = urls[0];
        server.SecondBaseUri = urls[1];
        server.HttpsBaseUri = urls[2];
        server.ClientCertificateBaseUri = urls[3];
        server._silentCloser = SilentCloser.Start(stats);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _silentCloser.DisposeAsync();
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
            Stats.Arrived(
                new Arrival(
                    request.Query["id"].FirstOrDefault(),
                    request.Method,
                    request.Host.Value ?? string.Empty,
                    request.Path + request.QueryString,
                    DateTimeOffset.UtcNow,
                    request.Headers["Idempotency-Key"].FirstOrDefault(),
                    request.Headers.Authorization.FirstOrDefault(),
                    request.Headers["X-Api-Key"].FirstOrDefault(),
                    context.Connection.ClientCertificate?.Thumbprint),
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
            ResetOverload();
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

    private void MapSecurity()
    {
        var app = _app;

        // 200 only with "Authorization: Bearer {token}"; 401 otherwise.
        app.Map("/bearer/{token}", (string token, HttpContext context) =>
            context.Request.Headers.Authorization.ToString() == "Bearer " + token
                ? Results.Json(new { authorized = true })
                : Results.Json(new { authorized = false }, statusCode: 401));

        // Answers {code} with Location: {to}; the target may be on another listener.
        app.Map("/redirect/{code:int}", (int code, HttpContext context) =>
        {
            context.Response.Headers.Location = context.Request.Query["to"].ToString();
            return Results.StatusCode(code);
        });

        // {mb} megabytes of zeros without Content-Length, so the client must count.
        app.Map("/huge/{mb:int}", async (int mb, HttpContext context) =>
        {
            context.Response.ContentType = "application/octet-stream";
            var chunk = new byte[64 * 1024];
            for (long sent = 0; sent < mb * 1024L * 1024 && !context.RequestAborted.IsCancellationRequested; sent += chunk.Length)
            {
                await context.Response.Body.WriteAsync(chunk, context.RequestAborted);
            }
        });

        // A small gzip body that expands to {mb} megabytes of zeros, compressed as it is sent.
        app.Map("/gzip-bomb/{mb:int}", async (int mb, HttpContext context) =>
        {
            context.Response.ContentType = "application/json";
            context.Response.Headers.ContentEncoding = "gzip";
            await using var gzip = new System.IO.Compression.GZipStream(context.Response.Body, System.IO.Compression.CompressionLevel.Fastest);
            var chunk = new byte[64 * 1024];
            for (long written = 0; written < mb * 1024L * 1024 && !context.RequestAborted.IsCancellationRequested; written += chunk.Length)
            {
                await gzip.WriteAsync(chunk, context.RequestAborted);
            }
        });
    }

    private static System.Security.Cryptography.X509Certificates.X509Certificate2 SelfSignedCertificate()
    {
        using var key = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest(
            "CN=127.0.0.1", key, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        var names = new System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));

        // Reloaded from PKCS#12 so the private key is usable by the TLS stack on every platform.
        return System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12(
            certificate.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pfx), null);
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
