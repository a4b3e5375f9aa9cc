using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Resources;
using BatchRequest.Engine.Security;
using BatchRequest.Engine.Sending;
using BatchRequest.Model.Requests;
using BatchRequest.Model.Results;

namespace BatchRequest.Engine.Journal;

/// <summary>
/// Makes one run of a batch durable: it appends every send and every outcome to a journal, decides from the
/// journal what a resumed run must not send again, and writes the records that did not succeed to a file that
/// Import-RequestFile reads. <see cref="BeforeSend"/> and <see cref="Record"/> are safe from many workers at once.
/// </summary>
/// <remarks>
/// When a line cannot be written the batch must stop, because a journal with gaps would make a resumed run send
/// twice: <see cref="Fault"/> is set, the fault callback runs once, and no further record is sent.
/// </remarks>
public sealed class DurableRun : IDisposable
{
    private readonly DurableRunOptions _options;
    private readonly JournalHistory _history;
    private readonly TimeProvider _time;
    private readonly Action<string>? _warn;
    private readonly Action<Exception>? _onFault;
    private readonly JournalLock? _lock;

    private readonly Redactor _redactor;
    private readonly object _failedGate = new();
    private NdjsonAppender? _journal;
    private NdjsonAppender? _failed;
    private Exception? _fault;
    private bool _disposed;

    private DurableRun(
        DurableRunOptions options,
        Redactor redactor,
        JournalLock? journalLock,
        JournalHistory history,
        string batchId,
        Action<string>? warn,
        Action<Exception>? onFault,
        TimeProvider time)
    {
        _options = options;
        _redactor = redactor;
        _lock = journalLock;
        _history = history;
        BatchId = batchId;
        _warn = warn;
        _onFault = onFault;
        _time = time;
    }

    /// <summary>The batch's identity in derived idempotency keys: the journal's, the one asked for, or a new one.</summary>
    public string BatchId { get; }

    /// <summary>Line number of a torn last line of the journal that was skipped, or null.</summary>
    public long? TornJournalLine => _history.TornLine;

    /// <summary>Why the run stopped writing, or null while all is well.</summary>
    public Exception? Fault => Volatile.Read(ref _fault);

    /// <summary>Checks the options and reads the journal of a resumed run; writes nothing yet.</summary>
    /// <param name="redactor">Masks the records of the results this run decides itself (skipped, unknown), as the sender does.</param>
    /// <param name="warn">Told, on a worker thread, about a record that changed since the journal saw it.</param>
    /// <param name="onFault">Called once, on a worker thread, when a line cannot be written; it should stop the batch.</param>
    /// <exception cref="JournalException">The options conflict, or the journal cannot be resumed, or another run holds it.</exception>
    /// <exception cref="IOException">The journal cannot be read.</exception>
    public static DurableRun Open(
        DurableRunOptions options,
        Redactor? redactor = null,
        Action<string>? warn = null,
        Action<Exception>? onFault = null,
        TimeProvider? timeProvider = null)
    {
        if (options.Resume && options.JournalPath is null)
        {
            throw new JournalException(JournalErrorIds.ResumeRequiresJournal, Messages.ResumeRequiresJournal);
        }

        var journalLock = options.JournalPath is { } path ? JournalLock.Acquire(path) : null;
        try
        {
            var history = JournalHistory.Empty;
            if (options.JournalPath is { } journalPath && File.Exists(journalPath) && new FileInfo(journalPath).Length > 0)
            {
                // Sending a finished batch again by forgetting -Resume is the double send this file exists to prevent.
                history = options.Resume
                    ? JournalHistory.Load(journalPath)
                    : throw new JournalException(JournalErrorIds.Exists, Text.Format(Messages.JournalExists, journalPath));
            }

            if (options.BatchId is { } wanted && history.BatchId is { } recorded && wanted != recorded)
            {
                throw new JournalException(
                    JournalErrorIds.BatchIdMismatch,
                    Text.Format(Messages.JournalBatchIdMismatch, options.JournalPath, recorded, wanted));
            }

            // A new journal gets a batch of its own, so next night's batch of the same ids gets keys of its own.
            var batchId = history.BatchId ?? options.BatchId ?? (options.JournalPath is null ? string.Empty : Guid.NewGuid().ToString("N"));
            return new DurableRun(options, redactor ?? new Redactor(), journalLock, history, batchId, warn, onFault, timeProvider ?? TimeProvider.System);
        }
        catch
        {
            journalLock?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Refuses to run when the failed-records file is <paramref name="file"/>, a request file of the batch: called
    /// before <see cref="Start"/>, which would remove it before it is read. (A journal that is a request file is
    /// already refused by <see cref="Open"/>, since it is not empty.)
    /// </summary>
    /// <exception cref="JournalException">The failed-records file is that file.</exception>
    public void CheckSource(string file)
    {
        if (IsSameFile(_options.FailedPath, file))
        {
            var other = Path.Combine(Path.GetDirectoryName(file) ?? string.Empty, Path.GetFileNameWithoutExtension(file) + "-2.ndjson");
            throw new JournalException(JournalErrorIds.FailedIsRequestFile, Text.Format(Messages.FailedIsRequestFile, file, other));
        }
    }

    private static bool IsSameFile(string? path, string file) =>
        path is not null && string.Equals(
            Path.GetFullPath(path),
            Path.GetFullPath(file),
            OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

    /// <summary>
    /// Opens the journal and removes a failed-records file of an earlier run; called once, on the pipeline
    /// thread, before the first record is queued, so -WhatIf leaves both files alone.
    /// </summary>
    /// <exception cref="IOException">A file cannot be opened or removed.</exception>
    /// <exception cref="UnauthorizedAccessException">A file cannot be opened or removed.</exception>
    public void Start()
    {
        if (_options.FailedPath is { } failedPath)
        {
            File.Delete(failedPath);
        }

        if (_options.JournalPath is { } journalPath)
        {
            _journal = NdjsonAppender.OpenForAppend(journalPath);
            var run = new JournalEntry { Event = JournalEvent.Run, Time = _time.GetUtcNow(), BatchId = BatchId };
            _journal.Append(run.WriteTo);
        }
    }

    /// <summary>
    /// Runs on a worker thread just before a record's first attempt. Returns the result when the journal
    /// already decides the record (done before, or unsafe to send again); otherwise marks it in the journal
    /// and returns null, and the record is sent.
    /// </summary>
    public BatchResult? BeforeSend(OutgoingRecord outgoing)
    {
        var record = outgoing.Record;
        if (Fault is { } fault)
        {
            return Stopped(record, fault);
        }

        if (_options.JournalPath is null)
        {
            return null;
        }

        var journal = _journal ?? throw new InvalidOperationException("Start must be called before the first record.");
        if (Decide(outgoing) is { } decided)
        {
            return decided;
        }

        var sending = EntryFor(outgoing);

        // The mark must be with the OS before the request may leave, or a kill could hide that it was sent.
        return TryAppend(journal, _options.JournalPath, sending.WriteTo) ? null : Stopped(record, Fault!);
    }

    /// <summary>A journal line for a record: its sending mark, or with <paramref name="result"/> its outcome.</summary>
    private JournalEntry EntryFor(OutgoingRecord outgoing, BatchResult? result = null) => new()
    {
        Event = result is null ? JournalEvent.Sending : JournalEvent.Result,
        Time = _time.GetUtcNow(),
        Id = outgoing.Record.Id,
        Fingerprint = outgoing.Fingerprint,
        Method = outgoing.Record.Method,
        Uri = RedactedUri.Of(outgoing.Record.Uri),
        IdempotencyKey = outgoing.IdempotencyKey,
        Status = result?.Outcome,
        StatusCode = result?.StatusCode,
        Attempts = result?.Attempts,
        ErrorKind = result?.Kind,
        StartTime = result is { Attempts: > 0 } ? result.StartTime : null,
        Duration = result is { Attempts: > 0 } ? result.Duration : null,
    };

    /// <summary>Runs on a worker thread once a record has its result, before any reordering.</summary>
    public void Record(OutgoingRecord outgoing, BatchResult result)
    {
        if (Fault is not null)
        {
            return;
        }

        // Every result has its line, also one this run decided without sending (skipped, unknown, not sent), so
        // the journal tells each run's outcomes; resume reads only the lines that close a send of their own run.
        if (_journal is not null)
        {
            if (!TryAppend(_journal, _options.JournalPath!, EntryFor(outgoing, result).WriteTo))
            {
                return;
            }
        }

        if (_options.FailedPath is { } failedPath && result.Outcome is not (BatchStatus.Succeeded or BatchStatus.Skipped))
        {
            NdjsonAppender failed;
            try
            {
                // Created at the first failure: the file exists only when a record did not succeed.
                lock (_failedGate)
                {
                    if (_disposed)
                    {
                        return;
                    }

                    failed = _failed ??= NdjsonAppender.Create(failedPath);
                }
            }
            catch (Exception exception)
            {
                Fail(failedPath, exception);
                return;
            }

            TryAppend(failed, failedPath, json => RequestFileLine.Write(json, outgoing.Record, outgoing.IdempotencyKey, _redactor));
        }
    }

    /// <summary>Runs on a worker thread when a record is about to be tried again; journals it for reports.</summary>
    public void RecordRetry(RetryNotice notice) => AppendNotice(new JournalEntry
    {
        Event = JournalEvent.Retry,
        Time = _time.GetUtcNow(),
        Id = notice.Record.Id,
        Attempts = notice.NextAttempt,
        Delay = notice.Delay,
    });

    /// <summary>Runs when a host's Retry-After pause began or was extended; journals it for reports.</summary>
    public void RecordPause(string host, DateTimeOffset resumeAt) => AppendNotice(new JournalEntry
    {
        Event = JournalEvent.Pause,
        Time = _time.GetUtcNow(),
        Host = host,
        ResumeAt = resumeAt,
    });

    /// <summary>Runs when a host's adaptive concurrency limit changed; journals it for reports.</summary>
    public void RecordLimit(string host, int previous, int current) => AppendNotice(new JournalEntry
    {
        Event = JournalEvent.Limit,
        Time = _time.GetUtcNow(),
        Host = host,
        PreviousLimit = previous,
        Limit = current,
    });

    public void Dispose()
    {
        _journal?.Dispose();
        lock (_failedGate)
        {
            _disposed = true;
            _failed?.Dispose();
        }

        _lock?.Dispose();
    }

    // What only reports read: written like any line, so a journal that cannot take it stops the batch too.
    private void AppendNotice(JournalEntry entry)
    {
        if (_journal is { } journal && Fault is null)
        {
            TryAppend(journal, _options.JournalPath!, entry.WriteTo);
        }
    }

    private BatchResult? Decide(OutgoingRecord outgoing)
    {
        var record = outgoing.Record;
        if (_history.Of(record.Id) is not { } history)
        {
            return null;
        }

        var changed = history.Fingerprint is { } known && known != outgoing.Fingerprint;
        if (history.Succeeded)
        {
            // Skipped either way; a changed record also says so, and the cmdlet reports it as an error.
            return new BatchResult(_redactor.Redact(record), BatchStatus.Skipped)
            {
                Original = record,
                StatusCode = history.LastResult?.StatusCode,
                Error = changed ? Messages.ResumeRecordChanged : null,
            };
        }

        if (changed)
        {
            _warn?.Invoke(Text.Format(Messages.ResumeRecordChangedWarning, record.Id));
        }

        if (history.MayHaveReachedServer && !MayResend(outgoing, history))
        {
            return new BatchResult(_redactor.Redact(record), BatchStatus.OutcomeUnknown)
            {
                Original = record,
                Kind = history.LastResult?.ErrorKind ?? ErrorKind.Canceled,
                Error = Text.Format(Messages.ResumeOutcomeUnknown, record.Method),
            };
        }

        return null;
    }

    /// <summary>
    /// A send that may have had its effect is repeated only when that is harmless: an idempotent method, the caller's
    /// -RetryNonIdempotent, or a key equal to the one every such earlier send carried, so the server can deduplicate.
    /// </summary>
    private static bool MayResend(OutgoingRecord outgoing, RecordHistory history) =>
        outgoing.SafeToRepeat || (outgoing.IdempotencyKey is { } key && history.UnknownSendKeys.All(sent => sent == key));

    private bool TryAppend(NdjsonAppender file, string path, Action<System.Text.Json.Utf8JsonWriter> write)
    {
        try
        {
            file.Append(write);
            return true;
        }
        catch (Exception exception)
        {
            // Any failure to write (a full disk, a file-size limit that .NET reports as an argument error) is a fault
            // of the journal: the run stops cleanly instead of a worker dying with its record.
            Fail(path, exception);
            return false;
        }
    }

    private void Fail(string path, Exception exception)
    {
        var fault = new JournalException(JournalErrorIds.Unwritable, Text.Format(Messages.JournalWriteFailed, path, exception.Message), exception);
        if (Interlocked.CompareExchange(ref _fault, fault, null) is null)
        {
            _onFault?.Invoke(fault);
        }
    }

    private BatchResult Stopped(RequestRecord record, Exception fault) => new(_redactor.Redact(record), BatchStatus.NotSent)
    {
        Original = record,
        Kind = ErrorKind.Canceled,
        Error = fault.Message,
    };
}
