using System.Net;
using System.Net.Http;
using System.Net.Security;

namespace BatchRequest.Engine.Sending;

/// <summary>Builds the one connection pool a batch sends through.</summary>
internal static class HttpHandlerFactory
{
    public static HttpMessageHandler Create(SenderOptions options, int maxConnectionsPerHost)
    {
        // The third party caps connections, not only requests: the pool never opens more than the throttle allows.
        // Redirects and cookies stay with the sender, which strips secrets on the way; the handler would not.
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = maxConnectionsPerHost,
            PooledConnectionLifetime = options.PooledConnectionLifetime,
            ConnectTimeout = options.ConnectionTimeout,
            AutomaticDecompression = DecompressionMethods.All,
            AllowAutoRedirect = false,
            UseCookies = false,
            MaxResponseHeadersLength = (options.MaximumResponseHeaderBytes + 1023) / 1024,
            UseProxy = !options.NoProxy,
            Proxy = options.Proxy,

            // Every attempt a result counts must be one request at the server: the pool's own resend is switched off.
            PlaintextStreamFilter = NoSilentResendStream.Filter,
        };
        if (options.UseDefaultCredentials)
        {
            handler.Credentials = CredentialCache.DefaultCredentials;
        }

        if (options.ClientCertificate is { } certificate)
        {
            handler.SslOptions.ClientCertificates = new System.Security.Cryptography.X509Certificates.X509CertificateCollection { certificate };
        }

        if (options.SkipCertificateCheck)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = AcceptAnyCertificate;
        }

        return handler;
    }

    private static bool AcceptAnyCertificate(
        object sender,
        System.Security.Cryptography.X509Certificates.X509Certificate? certificate,
        System.Security.Cryptography.X509Certificates.X509Chain? chain,
        SslPolicyErrors errors) => true;
}
