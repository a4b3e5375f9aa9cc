using System.Text;
using System.Text.Json;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Journal;
using BatchRequest.Engine.Requests;
using BatchRequest.Engine.Security;
using BatchRequest.Engine.Sending;
using BatchRequest.Model.Requests;

namespace BatchRequest.Tests.Engine;

[Collection(LoopbackCollection.Name)]
public sealed class JournalFingerprintTests
{
    private static readonly Uri Orders = new("https://api.example/orders?tenant=7");

    private readonly LoopbackFixture _loopback;

    public JournalFingerprintTests(LoopbackFixture loopback) => _loopback = loopback;

    [Fact]
    public void Of_HeadersInAnotherOrderAndCase_IsTheSame()
    {
        var one = Record(headers: new() { ["X-A"] = "1", ["x-b"] = "2" });
        var two = Record(headers: new() { ["x-b"] = "2", ["x-a"] = "1" });

        Assert.Equal(RecordFingerprint.Of(one), RecordFingerprint.Of(two));
        Assert.Matches("^[0-9a-f]{64}$", RecordFingerprint.Of(one));
    }

    [Theory]
    [InlineData("method")]
    [InlineData("uri")]
    [InlineData("header")]
    [InlineData("body")]
    [InlineData("no body")]
    [InlineData("contentType")]
    public void Of_AnyContentChanged_Differs(string change)
    {
        var original = Record();
        var changed = change switch
        {
            "method" => Record(method: "PUT"),
            "uri" => Record(uri: new Uri("https://api.example/orders?tenant=8")),
            "header" => Record(headers: new() { ["X-A"] = "other" }),
            "body" => Record(body: """{"qty":3}"""),
            "no body" => Record(body: null),
            _ => Record(contentType: "text/plain"),
        };

        Assert.NotEqual(RecordFingerprint.Of(original), RecordFingerprint.Of(changed));
    }

    [Fact]
    public void Of_RotatedAuthorization_IsTheSame()
    {
        var monday = Record(headers: new() { ["X-A"] = "1", ["Authorization"] = "Bearer monday" });
        var tuesday = Record(headers: new() { ["X-A"] = "1", ["Authorization"] = "Bearer tuesday" });

        Assert.Equal(RecordFingerprint.Of(monday), RecordFingerprint.Of(tuesday));
    }

    [Fact]
    public void RequestFileLine_ReadBackAsARequestObject_IsTheSameRecordWithItsKey()
    {
        var record = new RequestRecord("o-1", "POST", Orders)
        {
            Headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["X-Trace"] = "a+b <c> é" },
            Body = "{ \"sku\": \"A-17\",\n  \"qty\": 2 }",
            ContentType = "application/json",
            Timeout = TimeSpan.FromSeconds(2.5),
        };
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            RequestFileLine.Write(json, record, "key-1", new Redactor());
        }

        var line = Encoding.UTF8.GetString(buffer.ToArray());
        var file = Path.Combine(Path.GetTempPath(), $"batchrequest-line-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, "[" + line + "]");
        RequestRecord read;
        try
        {
            // Through the public reader, so the test holds whatever the readers look like inside.
            read = RequestFileReader.Read(file, new RecordReadOptions()).Single();
        }
        finally
        {
            File.Delete(file);
        }

        Assert.DoesNotContain('\n', line);
        Assert.Equal((record.Id, record.Method, record.Uri, record.Timeout), (read.Id, read.Method, read.Uri, read.Timeout));
        Assert.Equal(record.Body, read.Body);
        Assert.Equal("key-1", read.IdempotencyKey);
        Assert.Equal(RecordFingerprint.Of(record), RecordFingerprint.Of(read));
    }

    [Fact]
    public async Task Derive_IsTheKeyTheSenderSends()
    {
        _loopback.Server.Stats.Reset();
        using var sender = new RequestSender(new SenderOptions { IdempotencyKeyHeader = "Idempotency-Key" }, batchIdentity: "nightly");

        await sender.SendAsync(new RequestRecord("k1", "POST", _loopback.Url("delay/1?id=k1")), CancellationToken.None);

        var arrival = Assert.Single(_loopback.Server.Stats.Ledger);
        Assert.Equal(IdempotencyKeys.Derive("nightly", "k1"), arrival.IdempotencyKey);
    }

    [Theory]
    [InlineData("https://h/p", "https://h/p")]
    [InlineData("https://h/p?token=s3cr3t&id=7", "https://h/p?token=***&id=***")]
    [InlineData("https://h:8443/a/b?s3cr3t#frag", "https://h:8443/a/b?***")]
    public void RedactedUri_QueryValues_AreMasked(string uri, string expected) =>
        Assert.Equal(expected, RedactedUri.Of(new Uri(uri)));

    private static RequestRecord Record(
        string method = "POST",
        Uri? uri = null,
        Dictionary<string, string>? headers = null,
        string? body = """{"qty":2}""",
        string? contentType = "application/json") =>
        new("o-1", method, uri ?? Orders)
        {
            Headers = new Dictionary<string, string>(headers ?? new() { ["X-A"] = "1" }, StringComparer.OrdinalIgnoreCase),
            Body = body,
            ContentType = contentType,
        };
}
