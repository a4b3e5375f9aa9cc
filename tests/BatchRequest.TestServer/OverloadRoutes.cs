using System.Diagnostics;

namespace BatchRequest.TestServer;

/// <summary>
/// Servers that are overloaded but alive: a concurrency cap that answers 503 at once, a strict pacer that answers
/// 429 at once, and a connection dropped before reading. The hold time is a route segment, since the shared
/// <c>?delay=</c> is waited before the route can count the request as in service.
/// </summary>
public sealed partial class LoopbackServer
{
    private const long NoneAccepted = long.MinValue;

    // Stopwatch time of the last request /paced accepted; none since the last reset.
    private long _pacedLastAccepted = NoneAccepted;

    private void MapOverload()
    {
        var app = _app;

        // At most {limit} requests in service at once, each held {ms} ms; one more is turned away with 503 at once.
        app.Map("/capped/{limit:int}/{ms:int}", async (int limit, int ms, HttpContext context) =>
        {
            var inFlight = Stats.TryEnterCapped(limit);
            if (inFlight == 0)
            {
                AddRetryAfter(context);
                return Results.Json(new { status = 503 }, statusCode: 503);
            }

            // The slot is given back before the answer is written, so a client that waits for it before sending
            // its next request never finds its own slot still taken.
            try
            {
                await Task.Delay(ms, context.RequestAborted);
            }
            finally
            {
                Stats.LeaveCapped();
            }

            return Results.Json(new { id = context.Request.Query["id"].FirstOrDefault(), inFlight });
        });

        // Like nginx limit_req with burst=0 nodelay: 200 only 1/{perSecond} s or more after the last accepted request.
        app.Map("/paced/{perSecond:int}", (int perSecond, HttpContext context) =>
        {
            var accepted = TryPace(perSecond);
            Stats.Paced(accepted);
            if (!accepted)
            {
                AddRetryAfter(context);
                return Results.Json(new { status = 429 }, statusCode: 429);
            }

            return Results.Json(new { id = context.Request.Query["id"].FirstOrDefault() });
        });

        // Drops the connection without reading the request body or answering.
        app.Map("/close-now", (HttpContext context) => context.Abort());
    }

    private void ResetOverload() => Interlocked.Exchange(ref _pacedLastAccepted, NoneAccepted);

    private bool TryPace(int perSecond)
    {
        if (perSecond <= 0)
        {
            return false;
        }

        // 2 ms less than the spacing, so a client timed exactly on the rate is not rejected for clock jitter.
        var spacing = Stopwatch.Frequency / perSecond - Stopwatch.Frequency * 2 / 1000;
        while (true)
        {
            var now = Stopwatch.GetTimestamp();
            var last = Interlocked.Read(ref _pacedLastAccepted);
            if (last != NoneAccepted && now - last < spacing)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _pacedLastAccepted, now, last) == last)
            {
                return true;
            }
        }
    }
}
