namespace BatchRequest.Model.Requests;

/// <summary>One record of a request file: the request it makes, or the problem that stops it from being sent.</summary>
public readonly struct RequestEntry
{
    public RequestEntry(RequestRecord record)
    {
        Record = record;
        Problem = null;
    }

    public RequestEntry(RequestFileException problem)
    {
        Record = null;
        Problem = problem;
    }

    public RequestRecord? Record { get; }

    public RequestFileException? Problem { get; }

    /// <summary>The record's id, derived from file and record number when it has none of its own.</summary>
    public string Id => Record?.Id ?? Problem!.RecordId ?? string.Empty;
}
