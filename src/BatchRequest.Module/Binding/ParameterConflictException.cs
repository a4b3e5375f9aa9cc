using System;

namespace BatchRequest.Binding;

/// <summary>Parameters that cannot go together, or one that another requires: a terminating InvalidArgument error.</summary>
internal sealed class ParameterConflictException : ArgumentException
{
    public ParameterConflictException(string errorId, string message, string parameterName)
        : base(message, parameterName)
    {
        ErrorId = errorId;
    }

    /// <summary>The error record's stable id.</summary>
    public string ErrorId { get; }
}
