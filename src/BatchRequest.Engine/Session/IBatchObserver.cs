using BatchRequest.Engine.Sending;
using BatchRequest.Model.Results;

namespace BatchRequest.Engine.Session;

/// <summary>
/// What a session tells its owner as the batch goes. Every call comes on a worker thread and must neither block
/// nor throw: queue what is to be shown and return. Only <see cref="OnResult"/> must be implemented.
/// </summary>
public interface IBatchObserver
{
    /// <summary>A record's one result, in delivery order.</summary>
    void OnResult(BatchResult result);

    /// <summary>A record is about to be tried again.</summary>
    void OnRetry(RetryNotice notice)
    {
    }

    /// <summary>The adaptive concurrency limit of <paramref name="host"/> changed.</summary>
    void OnLimitChanged(string host, int previous, int current)
    {
    }

    /// <summary>Something worth a warning, such as a resumed record that changed since its journal saw it.</summary>
    void OnWarning(string message)
    {
    }
}
