namespace BatchRequest.Engine.Journal;

/// <summary>The stable error ids of journals and resumed runs; scripts and tests match on these, never on messages.</summary>
public static class JournalErrorIds
{
    public const string Malformed = "JournalMalformed";
    public const string Exists = "JournalExists";
    public const string InUse = "JournalInUse";
    public const string BatchIdMismatch = "JournalBatchIdMismatch";
    public const string Unreadable = "JournalUnreadable";
    public const string Unwritable = "JournalUnwritable";
    public const string NotFound = "JournalNotFound";

    /// <summary>A journal, or a file of failed records, named in a folder that does not exist.</summary>
    public const string FolderMissing = "JournalFolderMissing";

    /// <summary>-FailedPath names a request file of the batch: the batch would remove what it reads.</summary>
    public const string FailedIsRequestFile = "FailedPathIsRequestFile";

    public const string ResumeRequiresJournal = "ResumeRequiresJournal";
    public const string RecordChanged = "RecordChangedSinceJournal";
}
