using System.Security.Cryptography;

namespace BatchRequest.TestServer;

/// <summary>Binary bodies, with their SHA-256 in a header, so a client can prove it kept every byte.</summary>
public sealed partial class LoopbackServer
{
    private void MapBodies()
    {
        var app = _app;

        // {n} seeded random bytes (?seed=, 1 by default) with Content-Length, as application/octet-stream.
        app.Map("/bytes/{n:int}", async (int n, HttpContext context) =>
        {
            var body = SeededBytes(n, context);
            context.Response.ContentLength = body.Length;
            await WriteBodyAsync(context, body, chunks: 1);
        });

        // The same bytes without Content-Length, flushed in 16 parts: HTTP/1.1 chunked transfer encoding.
        app.Map("/chunked/{n:int}", async (int n, HttpContext context) =>
            await WriteBodyAsync(context, SeededBytes(n, context), chunks: 16));
    }

    private static byte[] SeededBytes(int n, HttpContext context)
    {
        var seed = int.TryParse(context.Request.Query["seed"], out var given) ? given : 1;
        var body = new byte[n];
        new Random(seed).NextBytes(body);
        return body;
    }

    private static async Task WriteBodyAsync(HttpContext context, byte[] body, int chunks)
    {
        context.Response.ContentType = "application/octet-stream";
        context.Response.Headers["X-Body-Sha256"] = Convert.ToHexString(SHA256.HashData(body));
        var size = Math.Max(1, (body.Length + chunks - 1) / chunks);
        for (var offset = 0; offset < body.Length; offset += size)
        {
            await context.Response.Body.WriteAsync(body.AsMemory(offset, Math.Min(size, body.Length - offset)), context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }
    }
}
