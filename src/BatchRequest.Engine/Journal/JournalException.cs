using System;

namespace BatchRequest.Engine.Journal;

/// <summary>A journal cannot be used as it is; carries a stable id from <see cref="JournalErrorIds"/>.</summary>
public sealed class JournalException : Exception
{
    public JournalException(string errorId, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        ErrorId = errorId;
    }

    public string ErrorId { get; }
}
