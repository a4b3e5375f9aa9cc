using System.Management.Automation;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Session;
using BatchRequest.Resources;

namespace BatchRequest.Bridge;

/// <summary>A batch's progress as the progress record PowerShell shows.</summary>
internal static class ProgressReport
{
    private const int ActivityId = 1;

    /// <summary>
    /// Done of the total, the records in flight apart from those waiting to retry and those queued, the rate, the
    /// shared quota when there is one, and, whenever the total is known, the percentage and the time left.
    /// </summary>
    public static ProgressRecord Of(BatchProgress progress)
    {
        var status = Text.Format(
            Messages.ProgressStatus,
            progress.Done,
            progress.Total ?? progress.Taken,
            progress.InFlight,
            progress.WaitingToRetry,
            progress.Queued,
            progress.RecordsPerSecond,
            progress.Retries,
            progress.Problems,
            progress.Limit.Current,
            progress.Limit.Ceiling);
        if (progress.Quota is { } quota)
        {
            status += Text.Format(Messages.ProgressSharedQuota, quota.Name, quota.SlotsHighest, quota.Waited.TotalSeconds);
        }

        return new ProgressRecord(ActivityId, Messages.ProgressActivity, status)
        {
            PercentComplete = progress.PercentComplete,
            SecondsRemaining = progress.SecondsRemaining,
        };
    }

    /// <summary>The record that takes the bar away.</summary>
    public static ProgressRecord Completed() =>
        new(ActivityId, Messages.ProgressActivity, Messages.ProgressDone) { RecordType = ProgressRecordType.Completed };
}
