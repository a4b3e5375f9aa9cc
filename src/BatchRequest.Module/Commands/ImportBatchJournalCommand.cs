using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using BatchRequest.Binding;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Journal;
using BatchRequest.Errors;
using BatchRequest.Model.Journal;
using BatchRequest.Resources;

namespace BatchRequest.Commands;

/// <summary>
/// Reads the journals that Invoke-BatchRequest -JournalPath writes, one object per line, for reporting. A last
/// line torn by a kill is skipped with a warning.
/// </summary>
[Cmdlet(VerbsData.Import, "BatchJournal", DefaultParameterSetName = PathSet)]
[OutputType(typeof(JournalLine))]
public sealed class ImportBatchJournalCommand : PSCmdlet
{
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";

    /// <summary>Journals to read; wildcards allowed.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = Array.Empty<string>();

    /// <summary>Journals to read, taken exactly as written.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = LiteralPathSet)]
    [Alias("PSPath")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = Array.Empty<string>();

    protected override void ProcessRecord()
    {
        foreach (var file in ResolveFiles())
        {
            long? tornLine = null;
            try
            {
                foreach (var entry in JournalReader.Read(file, line => tornLine = line))
                {
                    WriteObject(entry.ToLine());
                }
            }
            catch (JournalException exception)
            {
                ThrowTerminatingError(ResultErrors.ForJournal(exception, file));
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                ThrowTerminatingError(new ErrorRecord(exception, JournalErrorIds.Unreadable, ErrorCategory.ReadError, file));
            }

            if (tornLine is { } line)
            {
                WriteWarning(Text.Format(Messages.JournalTornLine, file, line));
            }
        }
    }

    private List<string> ResolveFiles()
    {
        var resolved = FileSystemPaths.Resolve(this, ParameterSetName == LiteralPathSet ? LiteralPath : Path, ParameterSetName == LiteralPathSet, NotFound);
        foreach (var file in resolved)
        {
            if (!File.Exists(file))
            {
                ThrowTerminatingError(NotFound(file));
            }
        }

        return resolved;
    }

    private static ErrorRecord NotFound(string path) =>
        ResultErrors.ForJournal(new JournalException(JournalErrorIds.NotFound, Text.Format(Messages.JournalNotFound, path)), path);
}
