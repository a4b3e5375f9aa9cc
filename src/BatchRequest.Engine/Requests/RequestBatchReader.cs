using System;
using System.Collections.Generic;
using System.IO;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Resources;
using BatchRequest.Model.Requests;

namespace BatchRequest.Engine.Requests;

/// <summary>
/// Reads the files of one batch in order, in two streaming passes: <see cref="Validate"/> checks every record of
/// every file before anything is handed out, keeping only a digest of about 11 bytes per id for duplicate detection;
/// <see cref="Read"/> then streams the records, knowing from the first pass which ones repeat an id. Memory stays
/// constant in the number of records but for the digests of one pass.
/// </summary>
public sealed class RequestBatchReader
{
    private readonly IReadOnlyList<string> _files;
    private readonly RecordReadOptions _options;
    private readonly RequestPartition? _partition;
    private FileStamp[]? _validated;

    // Entries of each file in the first pass: the second may not find more.
    private long[]? _entryCounts;
    private bool _validatedClean;

    // What the first pass found this partition emits; every record of the second pass refers to it.
    private ValidatedBatch? _batch;

    // Where the first pass found a repeated id: (file index, record number). Usually empty, never large in practice.
    private HashSet<(int File, long Record)>? _repeats;

    /// <param name="partition">The part of the batch to read; null reads all of it.</param>
    public RequestBatchReader(IReadOnlyList<string> files, RecordReadOptions options, RequestPartition? partition = null)
    {
        _files = files;
        _options = options;
        _partition = partition;
    }

    /// <summary>
    /// First pass: checks every record of every file, the whole batch whatever the partition, and reports each
    /// problem until <paramref name="limit"/> of them were reported. Returns how many were.
    /// </summary>
    /// <exception cref="RequestFileException">A file cannot be read as a request file.</exception>
    public int Validate(Action<RequestFileException> onProblem, int limit)
    {
        var stamps = new FileStamp[_files.Count];
        var counts = new long[_files.Count];
        var ids = new IdDigestSet();
        var repeats = new HashSet<(int File, long Record)>();
        var problems = 0;
        long emitted = 0;
        for (var i = 0; i < _files.Count; i++)
        {
            stamps[i] = FileStamp.Of(_files[i]);
            foreach (var entry in RequestFileReader.ReadEntries(_files[i], _options))
            {
                counts[i]++;
                var problem = entry.Problem;
                if (entry.Record is { } record)
                {
                    var digest = IdDigest.Of(record.Id);
                    if (!ids.Add(digest))
                    {
                        repeats.Add((i, record.Position.RecordNumber));
                        problem = DuplicateProblem(record).Problem;
                    }
                    else if (_partition is null || _partition.Contains(digest))
                    {
                        emitted++;
                    }
                }

                if (problem is not null)
                {
                    onProblem(problem);
                    if (++problems >= limit)
                    {
                        return problems;
                    }
                }
            }
        }

        _validated = stamps;
        _entryCounts = counts;
        _validatedClean = problems == 0;
        _repeats = repeats;
        _batch = new ValidatedBatch(emitted, _files);
        return problems;
    }

    /// <summary>
    /// Second pass: every record of this partition in file order, as a request or as its problem (a duplicate id
    /// among them). After <see cref="Validate"/>, a file that changed since stops the pass.
    /// </summary>
    /// <exception cref="RequestFileException">A file cannot be read, or changed after it was validated.</exception>
    public IEnumerable<RequestEntry> Read()
    {
        // Every file is checked before the first record goes out, and each again once read: a file that changed
        // since it was validated could hold records nobody checked.
        for (var i = 0; _validated is not null && i < _files.Count; i++)
        {
            EnsureUnchanged(i);
        }

        // After a complete first pass the repeats are known; only a pass without one needs the digests again.
        var ids = _repeats is null ? new IdDigestSet() : null;
        for (var i = 0; i < _files.Count; i++)
        {
            long entries = 0;
            foreach (var entry in RequestFileReader.ReadEntries(_files[i], _options))
            {
                // A clean first pass allows no problem in the second, and no more entries than it counted.
                if (_entryCounts is not null && (++entries > _entryCounts[i] || (_validatedClean && entry.Problem is not null)))
                {
                    throw Changed(i);
                }

                var digest = _partition is not null || ids is not null ? IdDigest.Of(entry.Id) : default;
                if (_partition is { } partition && !partition.Contains(digest))
                {
                    continue;
                }

                var repeated = entry.Record is { } record &&
                    (ids is null ? _repeats!.Count > 0 && _repeats.Contains((i, record.Position.RecordNumber)) : !ids.Add(digest));
                if (repeated)
                {
                    yield return DuplicateProblem(entry.Record!);
                    continue;
                }

                if (entry.Record is { } emitted)
                {
                    emitted.Batch = _batch;
                }

                yield return entry;
            }

            if (_validated is not null)
            {
                EnsureUnchanged(i);
            }
        }
    }

    private void EnsureUnchanged(int file)
    {
        if (!_validated![file].Equals(FileStamp.Of(_files[file])))
        {
            throw Changed(file);
        }
    }

    private RequestFileException Changed(int file) =>
        new(RequestErrorIds.FileChanged, Text.Format(Messages.RequestFileChanged, _files[file]), new RecordPosition(_files[file], 0, 0));

    private static RequestEntry DuplicateProblem(RequestRecord record) =>
        RecordBuilder.Problem(RequestErrorIds.DuplicateId, Messages.IdRepeated, record.Position, record.Id);

    /// <summary>What tells that a file changed between the passes: its length and last write time.</summary>
    private readonly struct FileStamp : IEquatable<FileStamp>
    {
        private FileStamp(long length, DateTime lastWriteUtc)
        {
            Length = length;
            LastWriteUtc = lastWriteUtc;
        }

        public long Length { get; }

        public DateTime LastWriteUtc { get; }

        public static FileStamp Of(string path)
        {
            var info = new FileInfo(path);
            return new FileStamp(info.Length, info.LastWriteTimeUtc);
        }

        public bool Equals(FileStamp other) => Length == other.Length && LastWriteUtc == other.LastWriteUtc;

        public override bool Equals(object? obj) => obj is FileStamp other && Equals(other);

        public override int GetHashCode() => Length.GetHashCode();
    }
}
