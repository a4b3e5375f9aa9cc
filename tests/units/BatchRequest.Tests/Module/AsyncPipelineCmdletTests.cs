using System.Collections.Concurrent;
using System.Diagnostics;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using BatchRequest.Bridge;

namespace BatchRequest.Tests.Module;

public sealed class AsyncPipelineCmdletTests
{
    [Fact]
    public void WaitWhileWriting_ItemsQueuedByWorkers_AreWrittenOnThePipelineThread()
    {
        using var shell = PowerShell.Create(SessionWith<QueueFromWorkersCommand>());
        shell.AddScript("""
            $pipelineThread = [Environment]::CurrentManagedThreadId
            Test-QueueFromWorkers -Count 500 -Verbose | ForEach-Object { [Environment]::CurrentManagedThreadId -eq $pipelineThread }
            """);

        var onPipelineThread = shell.Invoke();

        Assert.Equal(500, onPipelineThread.Count);
        Assert.All(onPipelineThread, written => Assert.True((bool)written.BaseObject));
        Assert.Equal(500, shell.Streams.Verbose.Count);
        Assert.DoesNotContain(Environment.CurrentManagedThreadId, QueueFromWorkersCommand.WorkerThreads);
    }

    [Fact]
    public void WriteQueued_FromAWorkerThread_IsRefused()
    {
        using var shell = PowerShell.Create(SessionWith<WriteFromWorkerCommand>());
        shell.AddCommand("Test-WriteFromWorker");

        var written = shell.Invoke();

        Assert.Equal(typeof(InvalidOperationException).FullName, Assert.Single(written).BaseObject);
    }

    [Fact]
    public void Stop_WhileWaiting_ReturnsPromptlyAndCancelsTheWork()
    {
        using var shell = PowerShell.Create(SessionWith<WaitForeverCommand>());
        shell.AddCommand("Test-WaitForever");
        var running = shell.BeginInvoke();
        Assert.True(WaitForeverCommand.Started.Wait(TimeSpan.FromSeconds(10)));

        var clock = Stopwatch.StartNew();
        shell.Stop();

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"Stop took {clock.Elapsed}.");
        Assert.True(running.IsCompleted);
        Assert.True(WaitForeverCommand.Canceled.Wait(TimeSpan.FromSeconds(2)));
    }

    private static InitialSessionState SessionWith<TCommand>()
    {
        var session = InitialSessionState.CreateDefault2();
        var name = typeof(TCommand).GetCustomAttributes(typeof(CmdletAttribute), false).Cast<CmdletAttribute>().Single();
        session.Commands.Add(new SessionStateCmdletEntry($"{name.VerbName}-{name.NounName}", typeof(TCommand), null));
        return session;
    }

    [Cmdlet("Test", "QueueFromWorkers")]
    public sealed class QueueFromWorkersCommand : AsyncPipelineCmdlet
    {
        public static readonly ConcurrentBag<int> WorkerThreads = new();

        [Parameter]
        public int Count { get; set; }

        protected override void EndProcessing()
        {
            var work = Task.Run(() => Parallel.For(0, Count, i =>
            {
                WorkerThreads.Add(Environment.CurrentManagedThreadId);
                QueueVerbose($"item {i}");
                QueueOutput(i);
            }));
            WaitWhileWriting(work);
        }
    }

    [Cmdlet("Test", "WriteFromWorker")]
    public sealed class WriteFromWorkerCommand : AsyncPipelineCmdlet
    {
        protected override void EndProcessing()
        {
            var refusal = Task.Run(() =>
            {
                try
                {
                    WriteQueued();
                    return "written";
                }
                catch (InvalidOperationException exception)
                {
                    return exception.GetType().FullName!;
                }
            }).GetAwaiter().GetResult();
            WriteObject(refusal);
        }
    }

    [Cmdlet("Test", "WaitForever")]
    public sealed class WaitForeverCommand : AsyncPipelineCmdlet
    {
        public static readonly ManualResetEventSlim Started = new();
        public static readonly ManualResetEventSlim Canceled = new();

        protected override void EndProcessing()
        {
            var work = Task.Delay(Timeout.Infinite, StopToken).ContinueWith(_ => Canceled.Set(), TaskScheduler.Default);
            Started.Set();
            WaitWhileWriting(work);
        }
    }
}
