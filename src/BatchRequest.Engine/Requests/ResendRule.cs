namespace BatchRequest.Engine.Requests;

/// <summary>When a request may be sent a second time: the one rule the sender's retries and a resumed journal share.</summary>
internal static class ResendRule
{
    /// <summary>Methods whose repetition has the same effect as one request (RFC 9110, 9.2.2).</summary>
    public static bool IsIdempotent(string method) =>
        method is "GET" or "HEAD" or "OPTIONS" or "PUT" or "DELETE" or "TRACE";

    /// <summary>Whether a request may be sent twice: idempotent, keyed, or allowed by the caller.</summary>
    public static bool MayResend(string method, bool retryNonIdempotent, string? idempotencyKeyHeader) =>
        IsIdempotent(method) || retryNonIdempotent || idempotencyKeyHeader is not null;
}
