using System;

namespace BatchRequest.Errors;

/// <summary>The exception behind a record's error record; its inner exception is the transport failure, if any.</summary>
public sealed class BatchRequestException : Exception
{
    public BatchRequestException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
