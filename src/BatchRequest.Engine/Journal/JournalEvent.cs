namespace BatchRequest.Engine.Journal;

/// <summary>What one line of a journal records.</summary>
public enum JournalEvent
{
    /// <summary>A run of the batch began (the first run, or a resume); carries the batch id.</summary>
    Run,

    /// <summary>A record's first attempt is about to leave; without a later result it was in flight at a kill.</summary>
    Sending,

    /// <summary>A record's final outcome in this run.</summary>
    Result,
}
