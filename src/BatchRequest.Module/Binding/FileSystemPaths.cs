using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Management.Automation;
using BatchRequest.Engine.Common;
using BatchRequest.Resources;

namespace BatchRequest.Binding;

/// <summary>Resolves -Path (wildcards) and -LiteralPath through the session state, FileSystem provider only.</summary>
internal static class FileSystemPaths
{
    /// <summary>The provider paths named, in order; a pattern that matches nothing ends with <paramref name="noMatch"/>.</summary>
    public static List<string> Resolve(PSCmdlet cmdlet, IEnumerable<string> paths, bool literal, Func<string, ErrorRecord> noMatch)
    {
        var resolved = new List<string>();
        foreach (var path in paths)
        {
            ProviderInfo provider;
            if (literal)
            {
                resolved.Add(cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out provider, out _));
            }
            else
            {
                Collection<string> matches;
                try
                {
                    matches = cmdlet.GetResolvedProviderPathFromPSPath(path, out provider);
                }
                catch (ItemNotFoundException)
                {
                    cmdlet.ThrowTerminatingError(noMatch(path));
                    throw;
                }

                if (matches.Count == 0)
                {
                    cmdlet.ThrowTerminatingError(noMatch(path));
                }

                resolved.AddRange(matches);
            }

            if (provider.Name != "FileSystem")
            {
                var exception = new ArgumentException(Text.Format(Messages.RequestFileNotFileSystem, path));
                cmdlet.ThrowTerminatingError(new ErrorRecord(exception, "PathNotFileSystem", ErrorCategory.InvalidArgument, path));
            }
        }

        return resolved;
    }
}
