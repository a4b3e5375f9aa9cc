namespace BatchRequest.Engine.Admission;

/// <summary>The concurrency limit of a batch: in force now, the lowest and highest so far, and its ceiling.</summary>
public readonly record struct LimitReport(int Current, int Lowest, int Highest, int Ceiling);

/// <summary>An admission that limits concurrency and can say to what.</summary>
public interface ILimitReporter
{
    /// <summary>The limit of the busiest host (the fixed throttle's is the same for all); safe from any thread.</summary>
    LimitReport Report();
}
