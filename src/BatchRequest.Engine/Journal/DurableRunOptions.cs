namespace BatchRequest.Engine.Journal;

/// <summary>What makes a batch durable, as the cmdlet's parameters say.</summary>
public sealed class DurableRunOptions
{
    /// <summary>The NDJSON journal to append to; null for none.</summary>
    public string? JournalPath { get; set; }

    /// <summary>Continue the batch in <see cref="JournalPath"/>, skipping what it shows succeeded.</summary>
    public bool Resume { get; set; }

    /// <summary>Where the records that did not succeed are written in request-file form; null for nowhere.</summary>
    public string? FailedPath { get; set; }

    /// <summary>The batch's identity in derived idempotency keys; null to take the journal's, or a new one.</summary>
    public string? BatchId { get; set; }
}
