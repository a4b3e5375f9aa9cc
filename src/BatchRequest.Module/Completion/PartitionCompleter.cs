using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace BatchRequest.Completion;

/// <summary>
/// Completes Import-RequestFile -Partition: once the number of parts is typed (<c>/8</c>, <c>3/8</c>), every part of
/// it; before that, the first part of the usual splits.
/// </summary>
public sealed class PartitionCompleter : IArgumentCompleter
{
    private const int MostPartsListed = 64;
    private static readonly int[] UsualCounts = { 2, 4, 8, 16 };

    public IEnumerable<CompletionResult> CompleteArgument(
        string commandName,
        string parameterName,
        string wordToComplete,
        CommandAst commandAst,
        IDictionary fakeBoundParameters)
    {
        var typed = (wordToComplete ?? string.Empty).Trim('\'', '"');
        var slash = typed.IndexOf('/');
        IEnumerable<string> candidates;
        if (slash >= 0
            && int.TryParse(typed.Substring(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            && count is > 0 and <= MostPartsListed)
        {
            var partTyped = typed.Substring(0, slash);
            candidates = Enumerable.Range(1, count)
                .Where(part => part.ToString(CultureInfo.InvariantCulture).StartsWith(partTyped, StringComparison.Ordinal))
                .Select(part => Part(part, count));
        }
        else
        {
            candidates = UsualCounts.Select(usual => Part(1, usual)).Where(candidate => candidate.StartsWith(typed, StringComparison.Ordinal));
        }

        return candidates.Select(candidate => new CompletionResult(candidate, candidate, CompletionResultType.ParameterValue, candidate));
    }

    private static string Part(int part, int count) =>
        part.ToString(CultureInfo.InvariantCulture) + "/" + count.ToString(CultureInfo.InvariantCulture);
}
