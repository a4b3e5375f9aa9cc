using System;
using BatchRequest.Model.Results;

namespace BatchRequest.Engine.Security;

/// <summary>The sender refused to send, or to go on sending, a request: never retried.</summary>
public sealed class PolicyException : Exception
{
    public PolicyException(ErrorKind kind, string message)
        : base(message)
    {
        Kind = kind;
    }

    public PolicyException(ErrorKind kind, string message, Exception innerException)
        : base(message, innerException)
    {
        Kind = kind;
    }

    public ErrorKind Kind { get; }
}
