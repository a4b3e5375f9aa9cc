using System;
using System.Collections;
using System.Management.Automation;
using BatchRequest.Completion;
using BatchRequest.Conversion;
using BatchRequest.Model.Requests;

namespace BatchRequest.Commands;

/// <summary>Builds one request in a script, checked by the same rules as a record of a request file.</summary>
[Cmdlet(VerbsCommon.New, "BatchRequest")]
[OutputType(typeof(RequestRecord))]
public sealed class NewBatchRequestCommand : PSCmdlet
{
    /// <summary>Where to send the request: an absolute http or https URI, or one relative to -BaseUri.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Url")]
    [AllowEmptyString]
    public string Uri { get; set; } = string.Empty;

    /// <summary>HTTP method; GET when not given.</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(HttpMethodCompleter))]
    public string Method { get; set; } = "GET";

    /// <summary>Request headers: a hashtable of names and values.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public IDictionary? Headers { get; set; }

    /// <summary>The body: a string as it is, or any other value written as JSON (and sent as application/json).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public object? Body { get; set; }

    /// <summary>Media type of the body; by default application/json for a non-string body, text/plain for a string.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? ContentType { get; set; }

    /// <summary>Stable id of the request; by default method, URI and a digest of the body.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Id { get; set; }

    /// <summary>Key that Invoke-BatchRequest -IdempotencyKeyHeader sends on every attempt; by default derived from the id.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? IdempotencyKey { get; set; }

    /// <summary>Time budget for all attempts of this request, in seconds, overriding the batch's.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0.001, 86400.0)]
    public double? TimeoutSec { get; set; }

    /// <summary>Base for a relative -Uri.</summary>
    [Parameter]
    public Uri? BaseUri { get; set; }

    protected override void ProcessRecord()
    {
        var draft = ObjectRequestReader.Draft(Id, Method, Uri, Headers, Body, ContentType, TimeoutSec, IdempotencyKey);
        var entry = ObjectRequestReader.Build(draft, BaseUri);
        if (entry.Record is { } record)
        {
            WriteObject(record);
        }
        else
        {
            WriteError(new ErrorRecord(entry.Problem!, entry.Problem!.ErrorId, ErrorCategory.InvalidData, Uri));
        }
    }
}
