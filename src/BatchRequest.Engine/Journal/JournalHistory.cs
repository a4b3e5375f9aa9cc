using System;
using System.Collections.Generic;
using BatchRequest.Model.Results;

namespace BatchRequest.Engine.Journal;

/// <summary>
/// What a journal says about each record, folded from its lines in order: what a resumed run needs to decide
/// whether to send a record again.
/// </summary>
internal sealed class JournalHistory
{
    private readonly Dictionary<string, RecordHistory> _records = new(StringComparer.Ordinal);
    private int _run;

    private JournalHistory()
    {
    }

    /// <summary>The id of the batch the journal belongs to; null when no run line survived.</summary>
    public string? BatchId { get; private set; }

    /// <summary>Line number of a torn last line that was skipped, or null.</summary>
    public long? TornLine { get; private set; }

    public static JournalHistory Empty { get; } = new();

    /// <exception cref="JournalException">A line before the last is not a journal entry.</exception>
    public static JournalHistory Load(string path)
    {
        var history = new JournalHistory();
        foreach (var entry in JournalReader.Read(path, line => history.TornLine = line))
        {
            history.Add(entry);
        }

        foreach (var record in history._records.Values)
        {
            record.EndOfJournal();
        }

        return history;
    }

    /// <summary>The record's history, or null when the journal never saw its id.</summary>
    public RecordHistory? Of(string id) => _records.TryGetValue(id, out var record) ? record : null;

    private void Add(JournalEntry entry)
    {
        if (entry.Event == JournalEvent.Run)
        {
            // The first run names the batch; a resume repeats the same id.
            BatchId ??= entry.BatchId;
            _run++;
            return;
        }

        // Retries, pauses and limit changes are for reports; resume decides from sends and outcomes alone.
        if (entry.Event is not (JournalEvent.Sending or JournalEvent.Result) || entry.Id is not { } id)
        {
            return;
        }

        if (!_records.TryGetValue(id, out var record))
        {
            record = new RecordHistory();
            _records.Add(id, record);
        }

        record.Add(entry, _run);
    }
}

/// <summary>One record's story in a journal.</summary>
internal sealed class RecordHistory
{
    private readonly HashSet<string?> _unknownSendKeys = new();
    private bool _sendOpen;
    private string? _openKey;
    private int _sendRun;

    /// <summary>Whether any run got a success for it. A success is never undone by what a later run did.</summary>
    public bool Succeeded { get; private set; }

    /// <summary>Fingerprint of the content that succeeded, or else of the content last sent.</summary>
    public string? Fingerprint { get; private set; }

    /// <summary>Whether some send of it may have reached the server without its outcome being known.</summary>
    public bool MayHaveReachedServer { get; private set; }

    /// <summary>The idempotency keys (null for none) of the sends whose outcome is unknown.</summary>
    public IReadOnlyCollection<string?> UnknownSendKeys => _unknownSendKeys;

    /// <summary>The last outcome recorded, or null when its last send was still in flight when the journal ended.</summary>
    public JournalEntry? LastResult { get; private set; }

    /// <param name="run">The number of the run the line belongs to, counted by its run lines.</param>
    internal void Add(JournalEntry entry, int run)
    {
        if (Succeeded)
        {
            return;
        }

        if (entry.Event == JournalEvent.Sending)
        {
            // A send left open by a killed run stays unknown even when a later run sent the record again.
            if (_sendOpen)
            {
                MarkUnknown();
            }

            _sendOpen = true;
            _sendRun = run;
            _openKey = entry.IdempotencyKey;
            Fingerprint = entry.Fingerprint;
            LastResult = null;
            return;
        }

        // A run's word on a record it did not send (skipped, unknown, not sent) repeats or leaves what earlier runs
        // said: a record in flight at a kill stays unknown even when the next run stopped before reaching it.
        if (!_sendOpen || _sendRun != run)
        {
            return;
        }

        LastResult = entry;
        Fingerprint = entry.Fingerprint ?? Fingerprint;
        Succeeded = entry.Status == BatchStatus.Succeeded;

        // Stopped in flight, or a POST that failed in a way the server may have seen: unknown, and it stays so.
        if (entry.Status is BatchStatus.OutcomeUnknown or BatchStatus.Canceled)
        {
            MarkUnknown();
        }

        _sendOpen = false;
    }

    /// <summary>A send with no result when the journal ends was in flight when its run was killed.</summary>
    internal void EndOfJournal()
    {
        if (_sendOpen)
        {
            MarkUnknown();
        }
    }

    private void MarkUnknown()
    {
        MayHaveReachedServer = true;
        _unknownSendKeys.Add(_openKey);
    }
}
