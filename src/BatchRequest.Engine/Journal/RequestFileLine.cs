using System.Linq;
using System.Text.Json;
using BatchRequest.Engine.Requests;
using BatchRequest.Engine.Security;
using BatchRequest.Model.Requests;

namespace BatchRequest.Engine.Journal;

/// <summary>
/// Writes a record as one request object, the form Import-RequestFile reads, so that reading it back yields the
/// same record: same id, same fingerprint, and the idempotency key it was sent with. Secret headers are left out,
/// not masked: a masked value read back would be sent as written, and would win over the -Headers or -Token given
/// to resend the record.
/// </summary>
internal static class RequestFileLine
{
    /// <summary>Writes the record as one request object, without the headers the redactor holds secret.</summary>
    public static void Write(Utf8JsonWriter json, RequestRecord record, string? idempotencyKey, Redactor redactor)
    {
        json.WriteStartObject();
        json.WriteString(RequestSchema.NameOf(RequestField.Id), record.Id);
        json.WriteString(RequestSchema.NameOf(RequestField.Method), record.Method);
        json.WriteString(RequestSchema.NameOf(RequestField.Uri), record.Uri.AbsoluteUri);
        var headers = record.Headers.Where(header => !redactor.IsSecretHeader(header.Key)).ToList();
        if (headers.Count > 0)
        {
            json.WriteStartObject(RequestSchema.NameOf(RequestField.Headers));
            foreach (var header in headers)
            {
                json.WriteString(header.Key, header.Value);
            }

            json.WriteEndObject();
        }

        // Always a string: a JSON body was read as its raw text, and its content type was set with it.
        if (record.Body is not null)
        {
            json.WriteString(RequestSchema.NameOf(RequestField.Body), record.Body);
        }

        if (record.ContentType is not null)
        {
            json.WriteString(RequestSchema.NameOf(RequestField.ContentType), record.ContentType);
        }

        if (record.Timeout is { } timeout)
        {
            json.WriteNumber(RequestSchema.NameOf(RequestField.TimeoutSec), timeout.TotalSeconds);
        }

        if ((idempotencyKey ?? record.IdempotencyKey) is { } key)
        {
            json.WriteString(RequestSchema.NameOf(RequestField.IdempotencyKey), key);
        }

        json.WriteEndObject();
    }
}
