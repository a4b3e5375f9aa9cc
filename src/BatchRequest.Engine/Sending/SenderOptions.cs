using System;
using System.Collections.Generic;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using BatchRequest.Engine.Security;

namespace BatchRequest.Engine.Sending;

/// <summary>Knobs of the sender, with the defaults the cmdlet documents.</summary>
public sealed class SenderOptions
{
    /// <summary>Retries after the first attempt; 3 means up to 4 attempts.</summary>
    public int MaximumRetryCount { get; set; } = 3;

    /// <summary>Base of the exponential backoff.</summary>
    public TimeSpan RetryInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Cap of a single backoff delay.</summary>
    public TimeSpan MaximumRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest Retry-After honoured; a longer demand ends the record as Throttled.</summary>
    public TimeSpan MaximumRetryAfter { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>Per attempt, until the response headers have arrived.</summary>
    public TimeSpan ConnectionTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>Idle time allowed between two reads of the response body.</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>Largest response body kept, counted after decompression.</summary>
    public long MaximumResponseBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>User-Agent of every request; null sends none. A record's own, or a common, User-Agent header wins.</summary>
    public string? UserAgent { get; set; }

    /// <summary>Folder that each answer's body is written to, in a file named after the record's id; null keeps bodies in the result.</summary>
    public string? OutDirectory { get; set; }

    /// <summary>Largest body written to a file under <see cref="OutDirectory"/>, in place of <see cref="MaximumResponseBytes"/>.</summary>
    public long MaximumOutFileBytes { get; set; } = long.MaxValue;

    /// <summary>
    /// The random source of the backoff's jitter, values in [0, 1); null uses a shared one. A seeded source makes the
    /// delays repeat, for tests that look at them.
    /// </summary>
    public Func<double>? Jitter { get; set; }

    /// <summary>Retry POST and PATCH after failures that may have reached the server.</summary>
    public bool RetryNonIdempotent { get; set; }

    /// <summary>Header that carries a per-record key, stable across attempts; also makes POST and PATCH retryable.</summary>
    public string? IdempotencyKeyHeader { get; set; }

    /// <summary>Headers sent with every record; a record's own header of the same name wins.</summary>
    public IReadOnlyDictionary<string, string> CommonHeaders { get; set; } = new Dictionary<string, string>();

    /// <summary>Header names to mask and to drop on a cross-origin redirect, beside Authorization, Cookie and the like.</summary>
    public IReadOnlyCollection<string> SecretHeaders { get; set; } = Array.Empty<string>();

    /// <summary>Bearer token for every request; refreshed once on 401 when it has a provider.</summary>
    public BearerToken? BearerToken { get; set; }

    /// <summary>User and password for Basic authentication.</summary>
    public NetworkCredential? BasicCredential { get; set; }

    /// <summary>Let the handler answer authentication challenges with the process's own identity.</summary>
    public bool UseDefaultCredentials { get; set; }

    /// <summary>Allow credentials over plain http.</summary>
    public bool AllowUnencryptedAuthentication { get; set; }

    /// <summary>Redirect hops followed per attempt; 0 follows none.</summary>
    public int MaximumRedirection { get; set; } = 5;

    /// <summary>Follow redirects to another origin, without Authorization, Cookie, secret headers or the token.</summary>
    public bool FollowCrossOriginRedirect { get; set; }

    /// <summary>Hosts records may be sent to, redirects included; null allows any host.</summary>
    public IReadOnlyCollection<string>? AllowedHosts { get; set; }

    /// <summary>Accept any server certificate. Dangerous; never implied.</summary>
    public bool SkipCertificateCheck { get; set; }

    /// <summary>Client certificate offered during the TLS handshake.</summary>
    public X509Certificate2? ClientCertificate { get; set; }

    /// <summary>Proxy for every request; null uses the environment's proxy settings.</summary>
    public IWebProxy? Proxy { get; set; }

    /// <summary>Connect directly, ignoring any proxy from the environment.</summary>
    public bool NoProxy { get; set; }

    /// <summary>Largest total size of response headers, in bytes.</summary>
    public int MaximumResponseHeaderBytes { get; set; } = 64 * 1024;

    /// <summary>HTTP version asked for; the connection falls back to a lower one when the server lacks it.</summary>
    public Version HttpVersion { get; set; } = new(1, 1);

    /// <summary>Budget of one record for all its attempts and backoff; a record's own timeout wins.</summary>
    public TimeSpan? RecordTimeout { get; set; }

    /// <summary>Open a host's circuit when it gives no answer at all; off, every record is tried whatever happened before.</summary>
    public bool CircuitBreaker { get; set; } = true;

    /// <summary>
    /// Attempts to one host that must all fail within <see cref="CircuitSamplingDuration"/> before its circuit opens
    /// and its remaining records end NotSent without being tried.
    /// </summary>
    public int CircuitBreakerThreshold { get; set; } = 20;

    /// <summary>Window in which the failures that open a host's circuit are counted.</summary>
    public TimeSpan CircuitSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an open circuit refuses records before one probe may try the host again.</summary>
    public TimeSpan CircuitBreakDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an idle pooled connection lives, so DNS changes are seen.</summary>
    public TimeSpan PooledConnectionLifetime { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        if (MaximumRetryCount < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaximumRetryCount), MaximumRetryCount, null);
        }

        RequirePositive(RetryInterval, nameof(RetryInterval));
        RequirePositive(MaximumRetryDelay, nameof(MaximumRetryDelay));
        RequirePositive(ConnectionTimeout, nameof(ConnectionTimeout));
        RequirePositive(OperationTimeout, nameof(OperationTimeout));
        RequirePositive(MaximumResponseBytes, nameof(MaximumResponseBytes));
        RequirePositive(MaximumOutFileBytes, nameof(MaximumOutFileBytes));
        if (RecordTimeout is { } budget)
        {
            RequirePositive(budget, nameof(RecordTimeout));
        }

        if (MaximumRedirection < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaximumRedirection), MaximumRedirection, null);
        }

        RequirePositive(MaximumResponseHeaderBytes, nameof(MaximumResponseHeaderBytes));
        if (CircuitBreakerThreshold < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(CircuitBreakerThreshold), CircuitBreakerThreshold, null);
        }

        if (CircuitSamplingDuration < TimeSpan.FromMilliseconds(500))
        {
            throw new ArgumentOutOfRangeException(nameof(CircuitSamplingDuration), CircuitSamplingDuration, null);
        }

        if (CircuitBreakDuration < TimeSpan.FromMilliseconds(500))
        {
            throw new ArgumentOutOfRangeException(nameof(CircuitBreakDuration), CircuitBreakDuration, null);
        }

        if (MaximumRetryAfter < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(MaximumRetryAfter), MaximumRetryAfter, null);
        }
    }

    private static void RequirePositive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(name, value, null);
        }
    }

    private static void RequirePositive(long value, string name)
    {
        if (value <= 0)
        {
            throw new ArgumentOutOfRangeException(name, value, null);
        }
    }
}
