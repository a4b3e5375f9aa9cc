using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using BatchRequest.Binding;
using BatchRequest.Completion;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Requests;
using BatchRequest.Model.Requests;
using BatchRequest.Resources;

namespace BatchRequest.Commands;

/// <summary>
/// Streams request records out of request files (JSON, NDJSON, CSV, .http). Every file of the batch is checked in
/// a first streaming pass before the first record is emitted: by default one invalid record means nothing is.
/// </summary>
[Cmdlet(VerbsData.Import, "RequestFile", DefaultParameterSetName = PathSet)]
[OutputType(typeof(RequestRecord))]
public sealed class ImportRequestFileCommand : PSCmdlet
{
    /// <summary>Most record problems reported before the batch is given up as invalid.</summary>
    internal const int ProblemLimit = 100;

    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";

    private readonly List<string> _files = new();
    private RecordReadOptions _options = new();
    private RequestPartition? _partition;

    /// <summary>Request files to read, in order; wildcards allowed.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = Array.Empty<string>();

    /// <summary>Request files to read, in order, taken exactly as written.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = LiteralPathSet)]
    [Alias("PSPath")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = Array.Empty<string>();

    /// <summary>Base for relative URIs in the records; overrides a JSON file's own baseUri.</summary>
    [Parameter]
    public Uri? BaseUri { get; set; }

    /// <summary>Format of every file; by default each file's extension tells (.json, .ndjson/.jsonl, .csv, .http/.rest).</summary>
    [Parameter]
    [ValidateSet("Json", "Ndjson", "Csv", "Http", IgnoreCase = true)]
    public string? Format { get; set; }

    /// <summary>CSV: the URI of each row, with {Column} placeholders filled in URL-encoded.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? UriTemplate { get; set; }

    /// <summary>CSV: the body of each row, with {Column} placeholders; JSON-escaped inside a JSON body.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? BodyTemplate { get; set; }

    /// <summary>Report invalid records as errors and emit the valid ones, instead of emitting nothing.</summary>
    [Parameter]
    public SwitchParameter SkipInvalid { get; set; }

    /// <summary>
    /// Emit only part k of n of the batch, such as 3/8: the records whose id hashes to it. n machines given
    /// 1/n to n/n of the same files send every record exactly once.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PartitionCompleter))]
    public string? Partition { get; set; }

    protected override void BeginProcessing()
    {
        if (Partition is not null)
        {
            try
            {
                _partition = RequestPartition.Parse(Partition);
            }
            catch (FormatException exception)
            {
                ThrowTerminatingError(new ErrorRecord(exception, "InvalidPartition", ErrorCategory.InvalidArgument, Partition));
            }
        }

        _options = new RecordReadOptions
        {
            BaseUri = BaseUri,
            Format = Format is null ? null : (RequestFileFormat)Enum.Parse(typeof(RequestFileFormat), Format, ignoreCase: true),
            UriTemplate = UriTemplate,
            BodyTemplate = BodyTemplate,
        };
    }

    protected override void ProcessRecord()
    {
        // Files are only collected here: the whole batch is validated before its first record is emitted.
        foreach (var file in ResolveFiles())
        {
            CheckFormat(file);
            _files.Add(file);
        }
    }

    protected override void EndProcessing()
    {
        var batch = new RequestBatchReader(_files, _options, _partition);
        try
        {
            RequestFileException? first = null;
            var problems = batch.Validate(
                problem =>
                {
                    first ??= problem;
                    if (!SkipInvalid)
                    {
                        WriteError(RecordError(problem));
                    }
                },
                SkipInvalid ? int.MaxValue : ProblemLimit);
            if (first is not null && !SkipInvalid)
            {
                ThrowBatchInvalid(first, problems);
            }

            foreach (var entry in batch.Read())
            {
                if (entry.Record is { } record)
                {
                    WriteObject(record);
                }
                else
                {
                    WriteError(RecordError(entry.Problem!));
                }
            }
        }
        catch (RequestFileException exception)
        {
            ThrowTerminatingError(RecordError(exception));
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            ThrowTerminatingError(new ErrorRecord(exception, RequestErrorIds.FileUnreadable, ErrorCategory.ReadError, _files.Count == 1 ? _files[0] : null));
        }
    }

    /// <summary>
    /// The one terminating error after the record problems: it carries the first problem's id, so that a script
    /// catching RequestMissingUri catches a batch whose problem is a missing URI.
    /// </summary>
    private void ThrowBatchInvalid(RequestFileException first, int problems)
    {
        var message = Text.Format(problems >= ProblemLimit ? Messages.BatchInvalidLimit : Messages.BatchInvalid, problems, first.Message);
        ThrowTerminatingError(new ErrorRecord(
            new RequestFileException(first.ErrorId, message, first.Position, first) { RecordId = first.RecordId },
            first.ErrorId,
            ErrorCategory.InvalidData,
            first.Position.File));
    }

    /// <summary>An error record for a problem of a file or record: its stable id, InvalidData, the file as target.</summary>
    private static ErrorRecord RecordError(RequestFileException problem) =>
        new(problem, problem.ErrorId, ErrorCategory.InvalidData, problem.Position.File);

    private void CheckFormat(string file)
    {
        try
        {
            var format = RequestFileReader.FormatOf(file, _options.Format);
            if ((UriTemplate is not null || BodyTemplate is not null) && format != RequestFileFormat.Csv)
            {
                var exception = new ArgumentException(Text.Format(Messages.TemplateNeedsCsv, file, format));
                ThrowTerminatingError(new ErrorRecord(exception, "TemplateNeedsCsv", ErrorCategory.InvalidArgument, file));
            }
        }
        catch (RequestFileException exception)
        {
            ThrowTerminatingError(new ErrorRecord(exception, exception.ErrorId, ErrorCategory.InvalidArgument, file));
        }
    }

    private List<string> ResolveFiles()
    {
        var resolved = FileSystemPaths.Resolve(this, ParameterSetName == LiteralPathSet ? LiteralPath : Path, ParameterSetName == LiteralPathSet, pattern =>
            new ErrorRecord(new FileNotFoundException(Text.Format(Messages.NoFileMatches, pattern)), RequestErrorIds.FileNotFound, ErrorCategory.ObjectNotFound, pattern));
        foreach (var file in resolved)
        {
            if (Directory.Exists(file))
            {
                var exception = new IOException(Text.Format(Messages.RequestFileIsDirectory, file));
                ThrowTerminatingError(new ErrorRecord(exception, RequestErrorIds.FileIsDirectory, ErrorCategory.InvalidArgument, file));
            }
            else if (!File.Exists(file))
            {
                var exception = new FileNotFoundException(Text.Format(Messages.RequestFileNotFound, file), file);
                ThrowTerminatingError(new ErrorRecord(exception, RequestErrorIds.FileNotFound, ErrorCategory.ObjectNotFound, file));
            }
        }

        return resolved;
    }
}
