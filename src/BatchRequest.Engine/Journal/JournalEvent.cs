namespace BatchRequest.Engine.Journal;

/// <summary>
/// What one line of a journal records. Resume reads only <see cref="Run"/>, <see cref="Sending"/> and
/// <see cref="Result"/>; the other kinds are for reports, and a reader skips a kind it does not know, so a later
/// version may add kinds without making its journals unreadable here.
/// </summary>
public enum JournalEvent
{
    /// <summary>A run of the batch began (the first run, or a resume); carries the batch id.</summary>
    Run,

    /// <summary>A record's first attempt is about to leave; without a later result it was in flight at a kill.</summary>
    Sending,

    /// <summary>A record's final outcome in this run.</summary>
    Result,

    /// <summary>A record is about to be tried again: the attempt that follows and how long it waits first.</summary>
    Retry,

    /// <summary>A host's Retry-After pause began or was extended: every attempt to the host waits until then.</summary>
    Pause,

    /// <summary>The adaptive concurrency limit of a host changed (-AdaptiveThrottle).</summary>
    Limit,
}
