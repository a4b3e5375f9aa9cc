using System;
using System.Management.Automation;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;

namespace BatchRequest.Bridge;

/// <summary>
/// The one bridge between worker threads and the pipeline thread. Workers only queue what they want written;
/// the pipeline thread writes it, without blocking in <see cref="WriteQueued"/> and while it waits for work
/// in <see cref="WaitWhileWriting"/>. <see cref="StopProcessing"/> only cancels.
/// </summary>
public abstract class AsyncPipelineCmdlet : PSCmdlet, IDisposable
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(250);

    // A stop must wake a pipeline thread parked in WaitWhileWriting, not only cancel the workers.
    private readonly CancellationTokenSource _stopping = new();

    // Wakes the pipeline thread parked in WaitWhileWriting. No spinning: on two cores a spinning pipeline
    // thread takes the CPU the workers need, and it parks once per record while the input is full.
    private readonly WakeSignal _wake = new();
    private readonly Channel<QueuedWrite> _queue = Channel.CreateUnbounded<QueuedWrite>(
        new UnboundedChannelOptions { SingleReader = true });

    private Action? _wakeUp;
    private int _pipelineThreadId;
    private bool _showProgress;
    private DateTime _nextProgress = DateTime.MinValue;
    private bool _disposed;

    private enum WriteKind
    {
        Output,
        Error,
        Warning,
        Verbose,
        Debug,
        Invoke,
    }

    /// <summary>
    /// Whether ShouldProcess can say no or show its target (-WhatIf, -Confirm, -Verbose or their preferences):
    /// otherwise it says yes to everything, and neither it nor a target that costs something to describe is worth
    /// a call per record. Known from BeginProcessing on.
    /// </summary>
    protected bool ShowsShouldProcess { get; private set; }

    /// <summary>Cancelled when the user presses Ctrl+C or the pipeline is stopped.</summary>
    protected CancellationToken StopToken => _stopping.Token;

    /// <summary>Queues an object for the output stream; safe from any thread.</summary>
    protected internal void QueueOutput(object value) => Queue(WriteKind.Output, value);

    /// <summary>Queues a non-terminating error; safe from any thread.</summary>
    protected internal void QueueError(ErrorRecord error) => Queue(WriteKind.Error, error);

    /// <summary>Queues a warning; safe from any thread.</summary>
    protected internal void QueueWarning(string message) => Queue(WriteKind.Warning, message);

    /// <summary>Queues a verbose message; safe from any thread.</summary>
    protected internal void QueueVerbose(string message) => Queue(WriteKind.Verbose, message);

    /// <summary>Queues a debug message; safe from any thread.</summary>
    protected void QueueDebug(string message) => Queue(WriteKind.Debug, message);

    /// <summary>
    /// Runs <paramref name="work"/> on the pipeline thread at its next write, for what must not run on a worker
    /// (a script block, a prompt); safe from any thread. Cancelled when the pipeline stops.
    /// </summary>
    protected Task<T> InvokeOnPipelineThread<T>(Func<T> work, CancellationToken cancellationToken)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var registration = cancellationToken.Register(() => completion.TrySetCanceled());
        _ = completion.Task.ContinueWith(_ => registration.Dispose(), TaskScheduler.Default);
        Queue(WriteKind.Invoke, new Action(() =>
        {
            try
            {
                completion.TrySetResult(work());
            }
            catch (Exception exception)
            {
                completion.TrySetException(exception);
            }
        }));
        return completion.Task;
    }

    /// <summary>Remembers the pipeline thread; derived classes call it first.</summary>
    protected override void BeginProcessing()
    {
        _pipelineThreadId = Environment.CurrentManagedThreadId;

        // Building progress records nobody will see costs time on every drain: skip them when progress is off.
        _showProgress = GetVariableValue("ProgressPreference") is not ActionPreference.SilentlyContinue and not ActionPreference.Ignore;
        ShowsShouldProcess =
            Asked("WhatIf", () => LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference")))
            || Asked("Confirm", () => GetVariableValue("ConfirmPreference") is ConfirmImpact impact and not ConfirmImpact.None and <= ConfirmImpact.Medium)
            || Asked("Verbose", () => GetVariableValue("VerbosePreference") is not ActionPreference.SilentlyContinue and not ActionPreference.Ignore);
    }

    /// <summary>A common switch as given, or when not given, what its preference variable says.</summary>
    private bool Asked(string parameter, Func<bool> preference) =>
        MyInvocation.BoundParameters.TryGetValue(parameter, out var given) ? LanguagePrimitives.IsTrue(given) : preference();

    /// <summary>Writes everything queued so far, and progress when it is due, without waiting.</summary>
    protected void WriteQueued()
    {
        EnsurePipelineThread();
        while (!_stopping.IsCancellationRequested && _queue.Reader.TryRead(out var item))
        {
            Write(item);
        }

        if (_showProgress && !_stopping.IsCancellationRequested && DateTime.UtcNow >= _nextProgress && CreateProgress() is { } progress)
        {
            _nextProgress = DateTime.UtcNow + ProgressInterval;
            WriteProgress(progress);
        }
    }

    /// <summary>Like <see cref="WaitWhileWriting(Task)"/>, without a task at all when the work is already done.</summary>
    protected void WaitWhileWriting(ValueTask work)
    {
        if (work.IsCompleted)
        {
            work.GetAwaiter().GetResult();
            return;
        }

        WaitWhileWriting(work.AsTask());
    }

    /// <summary>
    /// Blocks the pipeline thread until <paramref name="work"/> completes, writing queued items as they arrive.
    /// </summary>
    /// <exception cref="PipelineStoppedException">The pipeline was stopped first.</exception>
    protected void WaitWhileWriting(Task work)
    {
        EnsurePipelineThread();
        work.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_wakeUp ??= _wake.Ring);
        while (true)
        {
            WriteQueued();
            if (work.IsCompleted)
            {
                WriteQueued();

                // Work cancelled by the stop is the stop, not a failure of its own.
                if (work.IsCanceled && _stopping.IsCancellationRequested)
                {
                    throw new PipelineStoppedException();
                }

                work.GetAwaiter().GetResult();
                return;
            }

            if (_stopping.IsCancellationRequested)
            {
                // The workers are already cancelled; give them a moment to let go of their connections.
                work.Wait(TimeSpan.FromSeconds(1));
                throw new PipelineStoppedException();
            }

            _wake.Prepare();
            if (!work.IsCompleted && !_queue.Reader.TryPeek(out _) && !_stopping.IsCancellationRequested)
            {
                _wake.Park(ProgressInterval);
            }
        }
    }

    /// <summary>Takes the progress bar away, when one was shown.</summary>
    protected void CompleteProgress()
    {
        EnsurePipelineThread();
        if (_showProgress)
        {
            WriteProgress(ProgressReport.Completed());
        }
    }

    /// <summary>The progress to show now, or null for none; called on the pipeline thread.</summary>
    protected virtual ProgressRecord? CreateProgress() => null;

    /// <summary>Cancels the work; the pipeline thread notices and returns.</summary>
    protected override void StopProcessing()
    {
        _stopping.Cancel();
        _wake.Ring();
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;

            // A downstream command that has had enough (Select-Object -First) ends the pipeline with neither
            // StopProcessing nor EndProcessing: the work still running is cancelled here.
            _stopping.Cancel();
            _wake.Ring();
            Dispose(true);
            _stopping.Dispose();
            GC.SuppressFinalize(this);
        }
    }

    /// <summary>Releases what the derived cmdlet owns.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }

    private void Queue(WriteKind kind, object payload)
    {
        // Unbounded: its length is bounded by the work in flight, because producers wait on the pipeline thread.
        _queue.Writer.TryWrite(new QueuedWrite(kind, payload));
        _wake.Ring();
    }

    private void Write(QueuedWrite item)
    {
        switch (item.Kind)
        {
            case WriteKind.Output:
                WriteObject(item.Payload);
                break;
            case WriteKind.Error:
                WriteError((ErrorRecord)item.Payload);
                break;
            case WriteKind.Warning:
                WriteWarning((string)item.Payload);
                break;
            case WriteKind.Verbose:
                WriteVerbose((string)item.Payload);
                break;
            case WriteKind.Debug:
                WriteDebug((string)item.Payload);
                break;
            case WriteKind.Invoke:
                ((Action)item.Payload)();
                break;
        }
    }

    private void EnsurePipelineThread()
    {
        if (Environment.CurrentManagedThreadId != _pipelineThreadId)
        {
            throw new InvalidOperationException(
                "Pipeline writes must run on the thread that called BeginProcessing.");
        }
    }

    // A class, not a struct: the runtime ships the channel's code for reference types precompiled, while for a
    // struct a fresh process compiles it first (about 25 methods before the first result).
    private sealed record QueuedWrite(WriteKind Kind, object Payload);
}
