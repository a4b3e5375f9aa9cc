using BatchRequest.Engine.Common;
using BatchRequest.Engine.Sending;
using BatchRequest.Engine.Session;
using BatchRequest.Errors;
using BatchRequest.Model.Results;
using BatchRequest.Resources;

namespace BatchRequest.Bridge;

/// <summary>
/// What a batch session tells, turned into things to write: results, error records, verbose and warning messages.
/// Its calls come on worker threads and only queue; the cmdlet writes on the pipeline thread. A class of its own
/// rather than the cmdlet: the cmdlet type loads before the engine's load context exists, so it implements no
/// engine interface.
/// </summary>
internal sealed class SessionObserver : IBatchObserver
{
    private readonly AsyncPipelineCmdlet _pipeline;
    private readonly bool _skipHttpErrorCheck;
    private readonly int _ceiling;

    /// <param name="skipHttpErrorCheck">No error record for a definite non-success answer.</param>
    /// <param name="ceiling">-ThrottleLimit, named beside a changed adaptive limit.</param>
    public SessionObserver(AsyncPipelineCmdlet pipeline, bool skipHttpErrorCheck, int ceiling)
    {
        _pipeline = pipeline;
        _skipHttpErrorCheck = skipHttpErrorCheck;
        _ceiling = ceiling;
    }

    public void OnResult(BatchResult result)
    {
        _pipeline.QueueOutput(result);
        if (BatchSession.NeedsAttention(result) && !(_skipHttpErrorCheck && result.Kind == ErrorKind.HttpStatus))
        {
            _pipeline.QueueError(ResultErrors.For(result));
        }
    }

    public void OnRetry(RetryNotice notice) => _pipeline.QueueVerbose(Text.Format(
        notice.DelayFromServer ? Messages.RetryAnnouncedServer : Messages.RetryAnnouncedBackoff,
        notice.Record.Id,
        notice.Record.Method,
        notice.Record.Uri,
        notice.Reason,
        notice.NextAttempt,
        notice.Delay.TotalSeconds));

    public void OnWarning(string message) => _pipeline.QueueWarning(message);

    public void OnLimitChanged(string host, int previous, int current) =>
        _pipeline.QueueVerbose(Text.Format(Messages.ConcurrencyLimitChanged, host, previous, current, _ceiling));
}
