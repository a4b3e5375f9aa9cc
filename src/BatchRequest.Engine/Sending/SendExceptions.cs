using System;

namespace BatchRequest.Engine.Sending;

/// <summary>An attempt ran out of time, waiting for headers or between two reads of the body.</summary>
public sealed class AttemptTimeoutException : TimeoutException
{
    public AttemptTimeoutException(string message)
        : base(message)
    {
    }
}

/// <summary>The response body grew past the allowed size.</summary>
public sealed class ResponseTooLargeException : Exception
{
    public ResponseTooLargeException(string message)
        : base(message)
    {
    }
}
