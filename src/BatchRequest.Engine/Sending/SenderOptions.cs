using System;

namespace BatchRequest.Engine.Sending;

/// <summary>Knobs of the sender, with the defaults the cmdlet documents.</summary>
public sealed class SenderOptions
{
    /// <summary>Requests in flight at once, and connections per host.</summary>
    public int ThrottleLimit { get; set; } = 10;

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

    /// <summary>Retry POST and PATCH after failures that may have reached the server.</summary>
    public bool RetryNonIdempotent { get; set; }

    /// <summary>Header that carries a per-record key, stable across attempts; also makes POST and PATCH retryable.</summary>
    public string? IdempotencyKeyHeader { get; set; }

    public Version HttpVersion { get; set; } = new(1, 1);

    /// <summary>How long an idle pooled connection lives, so DNS changes are seen.</summary>
    public TimeSpan PooledConnectionLifetime { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        RequirePositive(ThrottleLimit, nameof(ThrottleLimit));
        if (MaximumRetryCount < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaximumRetryCount), MaximumRetryCount, null);
        }

        RequirePositive(RetryInterval, nameof(RetryInterval));
        RequirePositive(MaximumRetryDelay, nameof(MaximumRetryDelay));
        RequirePositive(ConnectionTimeout, nameof(ConnectionTimeout));
        RequirePositive(OperationTimeout, nameof(OperationTimeout));
        RequirePositive(MaximumResponseBytes, nameof(MaximumResponseBytes));
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
