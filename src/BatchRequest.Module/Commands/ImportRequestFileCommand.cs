using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using BatchRequest.Engine.Requests;
using BatchRequest.Engine.Resources;

namespace BatchRequest.Commands;

/// <summary>Streams request records out of request files.</summary>
[Cmdlet(VerbsData.Import, "RequestFile", DefaultParameterSetName = PathSet)]
[OutputType(typeof(RequestRecord))]
public sealed class ImportRequestFileCommand : PSCmdlet
{
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";

    /// <summary>Request files to read; wildcards allowed.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = Array.Empty<string>();

    /// <summary>Request files to read, taken exactly as written.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = LiteralPathSet)]
    [Alias("PSPath")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = Array.Empty<string>();

    /// <summary>Base for relative URIs in the records.</summary>
    [Parameter]
    public Uri? BaseUri { get; set; }

    protected override void ProcessRecord()
    {
        var options = new RecordReadOptions { BaseUri = BaseUri };
        foreach (var file in ResolveFiles())
        {
            try
            {
                foreach (var record in RequestFileReader.Read(file, options))
                {
                    WriteObject(record);
                }
            }
            catch (RequestFileException exception)
            {
                ThrowTerminatingError(new ErrorRecord(exception, exception.ErrorId, ErrorCategory.InvalidData, file));
            }
            catch (IOException exception)
            {
                ThrowTerminatingError(new ErrorRecord(exception, "RequestFileUnreadable", ErrorCategory.ReadError, file));
            }
        }
    }

    private IEnumerable<string> ResolveFiles()
    {
        var resolved = new List<string>();
        if (ParameterSetName == LiteralPathSet)
        {
            foreach (var literal in LiteralPath)
            {
                resolved.Add(SessionState.Path.GetUnresolvedProviderPathFromPSPath(literal));
            }
        }
        else
        {
            foreach (var pattern in Path)
            {
                resolved.AddRange(GetResolvedProviderPathFromPSPath(pattern, out _));
            }
        }

        foreach (var file in resolved)
        {
            if (!File.Exists(file))
            {
                var exception = new FileNotFoundException(Text.Format(Messages.RequestFileNotFound, file), file);
                ThrowTerminatingError(new ErrorRecord(
                    exception,
                    Directory.Exists(file) ? "RequestFileIsDirectory" : "RequestFileNotFound",
                    ErrorCategory.ObjectNotFound,
                    file));
            }
        }

        return resolved;
    }
}
