using System;

namespace BatchRequest.Model.Requests;

/// <summary>A request file, or one record in it, cannot be used. Carries a stable id and the position.</summary>
public sealed class RequestFileException : Exception
{
    public RequestFileException(string errorId, string message, RecordPosition position, Exception? innerException = null)
        : base(message, innerException)
    {
        ErrorId = errorId;
        Position = position;
    }

    /// <summary>Stable identifier of the problem, such as RequestFileMalformed or RequestMissingUri.</summary>
    public string ErrorId { get; }

    public RecordPosition Position { get; }

    /// <summary>Id of the record at fault (its own or the derived one); null when the problem is in the file itself.</summary>
    public string? RecordId { get; init; }
}

/// <summary>Where in a file something is: 1-based line and column, and the record number when known.</summary>
public readonly struct RecordPosition
{
    public RecordPosition(string file, long line, long column, long recordNumber = 0)
    {
        File = file;
        Line = line;
        Column = column;
        RecordNumber = recordNumber;
    }

    /// <summary>A request built in a script or from a pipeline object: no file, no line.</summary>
    public static RecordPosition NotInFile => new(string.Empty, 0, 0);

    public string File { get; }

    public long Line { get; }

    public long Column { get; }

    /// <summary>1-based number of the record in its file; 0 when the problem is not in one record.</summary>
    public long RecordNumber { get; }

    public bool IsInFile => File.Length > 0;

    public override string ToString() => $"{File}:{Line}:{Column}";
}
