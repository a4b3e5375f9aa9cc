using System;
using System.IO;
using System.Management.Automation;
using BatchRequest.Binding;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Journal;
using BatchRequest.Engine.Report;
using BatchRequest.Errors;
using BatchRequest.Model.Results;
using BatchRequest.Resources;

namespace BatchRequest.Commands;

/// <summary>
/// Writes a report of a batch as one self-contained HTML file: summary, runs, timeline and latency charts, and the
/// records that did not succeed. The source is a journal (-JournalPath) or the results piped in.
/// </summary>
[Cmdlet(VerbsData.Export, "BatchReport", DefaultParameterSetName = PathSet, SupportsShouldProcess = true)]
[OutputType(typeof(FileInfo))]
public sealed class ExportBatchReportCommand : PSCmdlet
{
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";
    private const string SourceConflictId = "ReportSourceConflict";
    private const string SourceMissingId = "ReportSourceMissing";
    private const string FolderMissingId = "ReportFolderMissing";
    private const string UnwritableId = "ReportUnwritable";

    private readonly ReportBuilder _report = new();
    private bool _piped;

    /// <summary>The HTML file to write; replaced when it exists. Wildcards may name one existing file.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    /// <summary>The HTML file to write, taken exactly as written; replaced when it exists.</summary>
    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet)]
    [Alias("PSPath")]
    [ValidateNotNullOrEmpty]
    public string LiteralPath { get; set; } = string.Empty;

    /// <summary>The journal of Invoke-BatchRequest -JournalPath to report on, every run of it.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? JournalPath { get; set; }

    /// <summary>A result of Invoke-BatchRequest: the source of the report when there is no journal.</summary>
    [Parameter(ValueFromPipeline = true)]
    public BatchResult? InputObject { get; set; }

    /// <summary>Writes the report's file to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (InputObject is not { } result)
        {
            return;
        }

        if (JournalPath is not null)
        {
            Refuse(SourceConflictId, Messages.ReportSourceConflict);
        }

        _piped = true;
        _report.Add(result);
    }

    protected override void EndProcessing()
    {
        var output = OutputPath();
        string source;
        if (JournalPath is { } journal)
        {
            source = ReadJournal(SessionState.Path.GetUnresolvedProviderPathFromPSPath(journal));
        }
        else if (_piped)
        {
            source = Messages.ReportSourcePipeline;
        }
        else
        {
            Refuse(SourceMissingId, Messages.ReportSourceMissing);
            return;
        }

        if (!ShouldProcess(output, Messages.ReportAction))
        {
            return;
        }

        try
        {
            _report.WriteHtml(output, source, DateTimeOffset.UtcNow);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            ThrowTerminatingError(new ErrorRecord(exception, UnwritableId, ErrorCategory.WriteError, output));
        }

        if (PassThru)
        {
            // The provider's item, with the PS* properties and the view of Get-Item.
            WriteObject(InvokeProvider.Item.Get(new[] { output }, force: false, literalPath: true), enumerateCollection: true);
        }
    }

    // Reads the whole journal into the report; returns its name for the heading.
    private string ReadJournal(string file)
    {
        if (!File.Exists(file))
        {
            ThrowTerminatingError(ResultErrors.ForJournal(new JournalException(JournalErrorIds.NotFound, Text.Format(Messages.JournalNotFound, file)), file));
        }

        long? tornLine = null;
        try
        {
            foreach (var entry in JournalReader.Read(file, line => tornLine = line))
            {
                _report.Add(entry);
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

        if (tornLine is { } torn)
        {
            WriteWarning(Text.Format(Messages.JournalTornLine, file, torn));
        }

        return System.IO.Path.GetFileName(file);
    }

    private string OutputPath()
    {
        var literal = ParameterSetName == LiteralPathSet;
        var path = literal ? LiteralPath : Path;
        var resolved = !literal && WildcardPattern.ContainsWildcardCharacters(path)
            ? FileSystemPaths.Resolve(this, new[] { path }, literal: false, NoMatch)
            : FileSystemPaths.Resolve(this, new[] { path }, literal: true, NoMatch);
        if (resolved.Count != 1)
        {
            ThrowTerminatingError(NoMatch(path));
        }

        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(resolved[0]));
        if (!string.IsNullOrEmpty(folder) && !Directory.Exists(folder))
        {
            Refuse(FolderMissingId, Text.Format(Messages.ReportFolderMissing, folder));
        }

        return resolved[0];
    }

    private static ErrorRecord NoMatch(string path) => new(
        new ItemNotFoundException(Text.Format(Messages.ReportPathNoMatch, path)), "ReportPathNoMatch", ErrorCategory.ObjectNotFound, path);

    private void Refuse(string errorId, string message) =>
        ThrowTerminatingError(new ErrorRecord(new ArgumentException(message), errorId, ErrorCategory.InvalidArgument, null));
}
