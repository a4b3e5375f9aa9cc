using System.Net;
using System.Net.Http;

namespace BatchRequest.Engine.Sending;

/// <summary>Builds the one connection pool a batch sends through.</summary>
internal static class HttpHandlerFactory
{
    public static HttpMessageHandler Create(SenderOptions options)
    {
        // The third party caps connections, not only requests: the pool never opens more than the throttle,
        // redirects and cookies stay with the sender so nothing leaks across hosts.
#if NET8_0_OR_GREATER
        return new SocketsHttpHandler
        {
            MaxConnectionsPerServer = options.ThrottleLimit,
            PooledConnectionLifetime = options.PooledConnectionLifetime,
            ConnectTimeout = options.ConnectionTimeout,
            AutomaticDecompression = DecompressionMethods.All,
            AllowAutoRedirect = false,
            UseCookies = false,
        };
#else
        return new HttpClientHandler
        {
            MaxConnectionsPerServer = options.ThrottleLimit,
            AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
            AllowAutoRedirect = false,
            UseCookies = false,
        };
#endif
    }
}
