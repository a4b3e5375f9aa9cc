using System.Management.Automation;
using System.Management.Automation.Runspaces;
using BatchRequest.Commands;
using BatchRequest.Model.Results;

namespace BatchRequest.Tests.Module;

[Collection(LoopbackCollection.Name)]
public sealed class CmdletHostingTests : IDisposable
{
    private readonly LoopbackFixture _loopback;
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"batchrequest-{Guid.NewGuid()}.json");

    public CmdletHostingTests(LoopbackFixture loopback) => _loopback = loopback;

    public void Dispose() => File.Delete(_file);

    [Fact]
    public void ImportThenInvoke_InARunspace_EmitsOneResultPerRecord()
    {
        var records = Enumerable.Range(1, 30).Select(i => $$"""{ "id": "h{{i}}", "uri": "{{_loopback.Url($"delay/20?id=h{i}")}}" }""");
        File.WriteAllText(_file, "[" + string.Join(",", records) + "]");
        var session = InitialSessionState.CreateDefault2();
        session.ImportPSModule(typeof(InvokeBatchRequestCommand).Assembly.Location);
        using var shell = PowerShell.Create(session);
        shell.AddScript("param($File) Import-RequestFile -LiteralPath $File | Invoke-BatchRequest -ThrottleLimit 8").AddArgument(_file);

        var results = shell.Invoke().Select(o => (BatchResult)o.BaseObject).ToList();

        Assert.False(shell.HadErrors);
        Assert.Equal(30, results.Count);
        Assert.Equal(30, results.Select(r => r.Id).Distinct().Count());
        Assert.All(results, r => Assert.Equal("Succeeded", r.Status));
    }

    [Fact]
    public void Stop_WhileTheInputWaitsForRoom_EndsAsAStoppedPipeline()
    {
        _loopback.Server.Stats.Reset();
        var session = InitialSessionState.CreateDefault2();
        session.ImportPSModule(typeof(InvokeBatchRequestCommand).Assembly.Location);
        using var shell = PowerShell.Create(session);

        // One slot and one queued record: the third record keeps the pipeline thread waiting for room.
        shell.AddScript("""
            param($Base)
            1..20 | ForEach-Object { @{ Id = "bp$_"; Uri = "${Base}delay/30000?id=bp$_" } } | Invoke-BatchRequest -ThrottleLimit 1
            """).AddArgument(_loopback.Server.BaseUri.AbsoluteUri);
        var running = shell.BeginInvoke();
        Assert.True(SpinWait.SpinUntil(() => _loopback.Server.Stats.Ledger.Count > 0, TimeSpan.FromSeconds(20)));

        shell.Stop();

        Assert.True(running.IsCompleted);
        Assert.IsType<PipelineStoppedException>(Assert.ThrowsAny<Exception>(() => shell.EndInvoke(running)));
        Assert.IsType<PipelineStoppedException>(shell.InvocationStateInfo.Reason);
        Assert.DoesNotContain(shell.Streams.Error, e => e.Exception is OperationCanceledException or AggregateException);
        var errors = (System.Collections.ArrayList)shell.Runspace.SessionStateProxy.GetVariable("Error");
        Assert.Empty(errors.Cast<object>().Select(e => e is ErrorRecord r ? r.Exception.GetType().FullName + ": " + r.Exception.Message : e.ToString()));
    }
}
