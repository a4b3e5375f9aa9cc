using System.Management.Automation;
using BatchRequest.Engine.Reporting;
using BatchRequest.Model.Reporting;
using BatchRequest.Model.Results;

namespace BatchRequest.Commands;

/// <summary>Summarizes batch results: counts by status and code, retries, elapsed time, throughput, latency percentiles.</summary>
[Cmdlet(VerbsDiagnostic.Measure, "BatchResult")]
[OutputType(typeof(BatchSummary))]
public sealed class MeasureBatchResultCommand : PSCmdlet
{
    private readonly SummaryBuilder _summary = new();

    /// <summary>A result of Invoke-BatchRequest.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public BatchResult InputObject { get; set; } = null!;

    protected override void ProcessRecord() => _summary.Add(InputObject);

    protected override void EndProcessing() => WriteObject(_summary.Build());
}
