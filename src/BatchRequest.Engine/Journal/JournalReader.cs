using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Resources;

namespace BatchRequest.Engine.Journal;

/// <summary>Streams the entries of a journal in file order.</summary>
public static class JournalReader
{
    /// <summary>
    /// Reads every entry of a kind this version knows. A last line that does not parse is what a kill leaves mid-write: it is skipped and
    /// reported to <paramref name="onTornLastLine"/> with its line number. Any other bad line is an error.
    /// </summary>
    /// <exception cref="JournalException">A line before the last is not a journal entry; thrown when reached.</exception>
    public static IEnumerable<JournalEntry> Read(string path, Action<long>? onTornLastLine = null)
    {
        // A running batch may be appending to the journal while it is read.
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        long lineNumber = 0;
        var line = reader.ReadLine();
        while (line is not null)
        {
            lineNumber++;
            var next = reader.ReadLine();
            if (line.Trim().Length > 0)
            {
                if (TryParse(line, lineNumber, out var entry, out var problem))
                {
                    // A whole line of a kind a later version added has no entry here, and is skipped.
                    if (entry is not null)
                    {
                        yield return entry;
                    }
                }
                else if (next is null)
                {
                    onTornLastLine?.Invoke(lineNumber);
                }
                else
                {
                    throw new JournalException(
                        JournalErrorIds.Malformed,
                        Text.Format(Messages.JournalMalformed, path, lineNumber, problem!.Message),
                        problem);
                }
            }

            line = next;
        }
    }

    /// <summary>Whether <paramref name="text"/> is one whole journal entry.</summary>
    internal static bool IsEntry(string text) => TryParse(text, 0, out _, out _);

    private static bool TryParse(string text, long lineNumber, out JournalEntry? entry, out Exception? problem)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            entry = JournalEntry.Parse(document.RootElement, lineNumber);
            problem = null;
            return true;
        }
        catch (Exception exception) when (exception is JsonException or FormatException or InvalidOperationException)
        {
            entry = null;
            problem = exception;
            return false;
        }
    }
}
