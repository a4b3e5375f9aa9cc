namespace BatchRequest.Engine.SharedQuota;

/// <summary>The stable error ids of -SharedThrottle; scripts and tests match on these, never on messages.</summary>
public static class SharedQuotaErrorIds
{
    /// <summary>The store cannot be reached: at the start (terminating), or for longer than the outage wait (each record left).</summary>
    public const string Unavailable = "SharedThrottleUnavailable";

    /// <summary>-SharedThrottle is not a redis:// or rediss:// address with a quota name.</summary>
    public const string Invalid = "SharedThrottleInvalid";

    /// <summary>A password both in the address and in -SharedThrottleCredential.</summary>
    public const string CredentialTwice = "SharedThrottleCredentialTwice";

    /// <summary>-SharedThrottleCredential without -SharedThrottle.</summary>
    public const string CredentialWithoutQuota = "SharedThrottleCredentialWithoutQuota";
}
