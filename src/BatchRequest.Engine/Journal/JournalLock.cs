using System;
using System.IO;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Resources;

namespace BatchRequest.Engine.Journal;

/// <summary>
/// Holds a journal for one run at a time. A second run of the same journal would read a history the first is
/// still writing and send the same records, so it is refused. The lock is a file opened without sharing next to the
/// journal; the operating system lets go of it when the process ends, killed or not.
/// </summary>
internal sealed class JournalLock : IDisposable
{
    private readonly FileStream _file;

    private JournalLock(FileStream file) => _file = file;

    /// <exception cref="JournalException">Another run holds the journal.</exception>
    /// <exception cref="IOException">The lock file cannot be created, for instance in a missing folder.</exception>
    public static JournalLock Acquire(string journalPath)
    {
        var path = journalPath + ".lock";
        try
        {
            return new JournalLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose));
        }
        catch (IOException exception) when (exception is not (DirectoryNotFoundException or FileNotFoundException or PathTooLongException))
        {
            throw new JournalException(JournalErrorIds.InUse, Text.Format(Messages.JournalInUse, journalPath, path), exception);
        }
    }

    public void Dispose() => _file.Dispose();
}
