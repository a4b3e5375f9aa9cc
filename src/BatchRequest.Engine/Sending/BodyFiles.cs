using System;
using System.Collections.Concurrent;
using System.IO;
using System.Text;
using BatchRequest.Engine.Common;

namespace BatchRequest.Engine.Sending;

/// <summary>
/// Names the file of each record's body under -OutDirectory: its id, made safe as a file name on every system,
/// the same on every attempt and another for every other id.
/// </summary>
internal sealed class BodyFiles
{
    // Within what every common file system takes for one name (255 bytes), with room for the suffixes.
    private const int MaximumNameBytes = 200;

    private static readonly string[] DeviceNames =
        { "CON", "PRN", "AUX", "NUL", "COM0", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
          "LPT0", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9" };

    private readonly string _folder;

    // Which id owns each name, compared as a case-insensitive file system would: "A" and "a" get two files.
    private readonly ConcurrentDictionary<string, string> _owners = new(StringComparer.OrdinalIgnoreCase);

    public BodyFiles(string folder) => _folder = Path.GetFullPath(folder);

    /// <summary>The full path of the record's body file.</summary>
    public string PathFor(string id)
    {
        var name = SafeName(id);
        for (var round = 1; ; round++)
        {
            var candidate = round == 1 ? name : $"{name}~{Hex.Sha256(id, 4)}{(round == 2 ? string.Empty : "-" + round)}";
            if (_owners.GetOrAdd(candidate, id) == id)
            {
                return Path.Combine(_folder, candidate);
            }
        }
    }

    /// <summary>
    /// The id with what no file system takes (separators, reserved characters, controls, trailing dots and
    /// spaces, device names, excess length) replaced; a changed id gets a digest of the original, so that "a/b"
    /// and "a_b" stay two files.
    /// </summary>
    internal static string SafeName(string id)
    {
        var name = new StringBuilder(id.Length);
        var bytes = 0;
        foreach (var rune in id.EnumerateRunes())
        {
            var safe = rune.Value < 0x20 || rune.Value == 0x7F || (rune.IsBmp && "<>:\"/\\|?*".Contains((char)rune.Value, StringComparison.Ordinal))
                ? new Rune('_')
                : rune;
            bytes += safe.Utf8SequenceLength;
            if (bytes > MaximumNameBytes)
            {
                break;
            }

            name.Append(safe.ToString());
        }

        while (name.Length > 0 && name[^1] is '.' or ' ')
        {
            name[^1] = '_';
        }

        var stem = name.ToString().Split('.')[0];
        if (name.Length == 0 || Array.Exists(DeviceNames, device => device.Equals(stem, StringComparison.OrdinalIgnoreCase)))
        {
            name.Insert(0, '_');
        }

        var text = name.ToString();
        return text == id ? text : $"{text}~{Hex.Sha256(id, 4)}";
    }
}
