namespace BatchRequest.Engine.Session;

/// <summary>How far a batch has come, counted as it goes.</summary>
/// <param name="Taken">Records handed to the session.</param>
/// <param name="Done">Records with their result.</param>
/// <param name="Problems">Results that did not succeed and were not an earlier run's success.</param>
/// <param name="Retries">Retries announced so far.</param>
public readonly record struct BatchProgress(long Taken, long Done, long Problems, long Retries)
{
    /// <summary>Records taken that have no result yet: running, waiting to retry, or queued.</summary>
    public long Pending => Taken - Done;
}
