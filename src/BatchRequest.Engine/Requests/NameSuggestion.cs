using System;
using System.Collections.Generic;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Resources;

namespace BatchRequest.Engine.Requests;

/// <summary>Finds the known name that an unknown one was most likely meant to be, for "did you mean" hints.</summary>
internal static class NameSuggestion
{
    /// <summary>" Did you mean 'x'?" for the closest known name within a few typos, or an empty string.</summary>
    public static string DidYouMean(string name, IEnumerable<string> known)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in known)
        {
            var distance = Distance(name.ToUpperInvariant(), candidate.ToUpperInvariant());
            if (distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }

        // A third of the name, at least one edit: 'urll' finds 'url', 'x' finds nothing.
        return best is not null && bestDistance <= Math.Max(1, name.Length / 3)
            ? Text.Format(Messages.DidYouMean, best)
            : string.Empty;
    }

    /// <summary>
    /// Edit distance with swapped neighbours as one edit (optimal string alignment): insertions, deletions,
    /// substitutions and transpositions, so that 'GTE' is one typo away from 'GET', not two.
    /// </summary>
    private static int Distance(string a, string b)
    {
        var beforePrevious = new int[b.Length + 1];
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j], current[j - 1]) + 1);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    current[j] = Math.Min(current[j], beforePrevious[j - 2] + 1);
                }
            }

            (beforePrevious, previous, current) = (previous, current, beforePrevious);
        }

        return previous[b.Length];
    }
}
