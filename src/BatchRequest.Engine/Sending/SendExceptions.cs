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
    public ResponseTooLargeException(string message, int? statusCode = null)
        : base(message)
    {
        StatusCode = statusCode;
    }

    /// <summary>Status of the answer whose body was too large; null when the headers themselves were.</summary>
    public int? StatusCode { get; }
}

/// <summary>An answer's body could not be written to its file under -OutDirectory: a local failure, not the server's.</summary>
public sealed class OutFileException : Exception
{
    public OutFileException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
