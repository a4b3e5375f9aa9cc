using System;

namespace BatchRequest.Engine.SharedQuota;

/// <summary>A shared quota that cannot be used: its address is wrong, or its store cannot be reached.</summary>
public sealed class SharedQuotaException : Exception
{
    public SharedQuotaException(string errorId, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        ErrorId = errorId;
    }

    /// <summary>One of <see cref="SharedQuotaErrorIds"/>.</summary>
    public string ErrorId { get; }
}
