using System.Text;
using BatchRequest.Engine.Requests;
using BatchRequest.Model.Requests;

namespace BatchRequest.Tests.Engine;

public sealed class RequestFileReaderTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("batchrequest-reader-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Read_JsonArray_GivesRecordsInOrderWithDefaults()
    {
        var file = Write("orders.json", """
            [
              { "id": "a", "uri": "http://127.0.0.1/one" },
              { "method": "post", "url": "http://127.0.0.1/two", "headers": { "X-Trace": "1" }, "body": { "n": 2 } }
            ]
            """);

        var records = RequestFileReader.Read(file, new RecordReadOptions()).ToList();

        Assert.Equal(2, records.Count);
        Assert.Equal(("a", "GET", "http://127.0.0.1/one"), (records[0].Id, records[0].Method, records[0].Uri.AbsoluteUri));
        Assert.Equal(("orders.json#2", "POST"), (records[1].Id, records[1].Method));
        Assert.Equal("1", records[1].Headers["x-trace"]);
        Assert.Equal("""{ "n": 2 }""", records[1].Body);
        Assert.Equal("application/json", records[1].ContentType);
        Assert.EndsWith("orders.json:3:3", records[1].Source);
    }

    [Fact]
    public void Read_RecordsLargerThanTheBuffer_AreStitchedAcrossReads()
    {
        var padding = new string('x', 100_000);
        var lines = Enumerable.Range(1, 5).Select(i => $$"""{ "id": "r{{i}}", "method": "POST", "uri": "http://h/{{i}}", "body": "{{padding}}" }""");
        var file = Write("big.json", "[\n" + string.Join(",\n", lines) + "\n]");

        var records = RequestFileReader.Read(file, new RecordReadOptions()).ToList();

        Assert.Equal(["r1", "r2", "r3", "r4", "r5"], records.Select(r => r.Id));
        Assert.All(records, r => Assert.Equal(padding.Length, r.Body!.Length));
        Assert.EndsWith("big.json:5:1", records[3].Source);
    }

    [Fact]
    public void Read_RelativeUriWithBase_Resolves()
    {
        var file = Write("rel.json", """[{ "uri": "users/7" }]""");
        var record = RequestFileReader.Read(file, new RecordReadOptions { BaseUri = new Uri("https://api.example/v1/") }).Single();
        Assert.Equal("https://api.example/v1/users/7", record.Uri.AbsoluteUri);
    }

    [Theory]
    [InlineData("""[ { "uri": "http://h/1" }, """, RequestErrorIds.FileMalformed, 1)]
    [InlineData("""[ { "uri": "http://h/1" }, ]""", RequestErrorIds.FileMalformed, 1)]
    [InlineData("[\n// comment\n{ \"uri\": \"http://h/1\" } ]", RequestErrorIds.FileMalformed, 2)]
    [InlineData("[\n  { \"uri\": \"http://h/1\" },\n  { \"uri\": \"http://h/2\" },\n]", RequestErrorIds.FileMalformed, 4)]
    [InlineData("[\n  { \"uri\": \"http://h/1\" }\n  { \"uri\": \"http://h/2\" }\n]", RequestErrorIds.FileMalformed, 3)]
    [InlineData("""{ "uri": "http://h/1" }""", RequestErrorIds.FileWrongShape, 1)]
    [InlineData("   \n ", RequestErrorIds.FileEmpty, 1)]
    [InlineData("[]  x", RequestErrorIds.FileMalformed, 1)]
    public void Read_BrokenFile_FailsWithIdAndLine(string content, string errorId, long line)
    {
        var file = Write("broken.json", content);
        var error = Assert.Throws<RequestFileException>(() => RequestFileReader.Read(file, new RecordReadOptions()).ToList());
        Assert.Equal(errorId, error.ErrorId);
        Assert.Equal(line, error.Position.Line);
        Assert.Contains("broken.json", error.Message);
    }

    [Theory]
    [InlineData("""[ 5 ]""", RequestErrorIds.NotAnObject)]
    [InlineData("""[ { "method": "GET" } ]""", RequestErrorIds.MissingUri)]
    [InlineData("""[ { "uri": 5 } ]""", RequestErrorIds.InvalidProperty)]
    [InlineData("""[ { "uri": "/relative" } ]""", RequestErrorIds.InvalidUri)]
    [InlineData("""[ { "uri": "ftp://h/file" } ]""", RequestErrorIds.InvalidUri)]
    [InlineData("""[ { "uri": "http://user:secret@h/" } ]""", RequestErrorIds.InvalidUri)]
    [InlineData("""[ { "uri": "http://h/", "method": "GE T" } ]""", RequestErrorIds.InvalidMethod)]
    [InlineData("""[ { "uri": "http://h/", "method": "PSOT" } ]""", RequestErrorIds.InvalidMethod)]
    [InlineData("""[ { "uri": "http://h/", "headers": { "X-A": "1\r\nX-B: 2" } } ]""", RequestErrorIds.InvalidHeader)]
    [InlineData("""[ { "uri": "http://h/", "urll": "x" } ]""", RequestErrorIds.UnknownProperty)]
    public void Read_BadRecord_FailsWithStableIdAndPosition(string content, string errorId)
    {
        var file = Write("records.json", content);
        var error = Assert.Throws<RequestFileException>(() => RequestFileReader.Read(file, new RecordReadOptions()).ToList());
        Assert.Equal(errorId, error.ErrorId);
        Assert.Equal(1, error.Position.RecordNumber);
        Assert.Equal((1L, 3L), (error.Position.Line, error.Position.Column));
    }

    [Fact]
    public void Read_BadRecord_MessageNeverHoldsHeaderValues()
    {
        var file = Write("secret.json", """[ { "uri": "http://h/", "headers": { "Authorization": "Bearer s3cr3t\n" } } ]""");
        var error = Assert.Throws<RequestFileException>(() => RequestFileReader.Read(file, new RecordReadOptions()).ToList());
        Assert.DoesNotContain("s3cr3t", error.Message);
    }

    [Fact]
    public void Read_ObjectWithRequests_AppliesSharedBaseUriAndHeadersEvenWhenTheyFollow()
    {
        var file = Write("shaped.json", """
            {
              "requests": [
                { "id": "a", "uri": "users/1" },
                { "id": "b", "uri": "users/2", "headers": { "x-team": "own" } }
              ],
              "baseUri": "https://api.example/v2/",
              "headers": { "X-Team": "shared", "Accept": "application/json" }
            }
            """);

        var records = RequestFileReader.Read(file, new RecordReadOptions()).ToList();

        Assert.Equal(["https://api.example/v2/users/1", "https://api.example/v2/users/2"], records.Select(r => r.Uri.AbsoluteUri));
        Assert.Equal("shared", records[0].Headers["X-Team"]);
        Assert.Equal("own", records[1].Headers["X-Team"]);
        Assert.Equal("application/json", records[1].Headers["Accept"]);
        Assert.EndsWith("shaped.json:3:5", records[0].Source);
    }

    [Fact]
    public void Read_BaseUriOption_OverridesTheFilesBaseUri()
    {
        var file = Write("override.json", """{ "baseUri": "https://prod.example/", "requests": [ { "uri": "x" } ] }""");
        var record = RequestFileReader.Read(file, new RecordReadOptions { BaseUri = new Uri("https://staging.example/") }).Single();
        Assert.Equal("https://staging.example/x", record.Uri.AbsoluteUri);
    }

    [Theory]
    [InlineData("""{ "request": [] }""", RequestErrorIds.FileWrongShape, "Did you mean 'requests'?")]
    [InlineData("""{ "requests": {} }""", RequestErrorIds.FileWrongShape, "not an array")]
    [InlineData("""{ "baseUri": "https://h/" }""", RequestErrorIds.FileWrongShape, "'requests' array")]
    [InlineData("""{ "baseUri": "ftp://h/", "requests": [] }""", RequestErrorIds.InvalidUri, "baseUri")]
    [InlineData("""{ "headers": { "A": 1 }, "requests": [] }""", RequestErrorIds.InvalidHeader, "headers")]
    public void Read_BadTopLevelObject_FailsForTheWholeFile(string content, string errorId, string hint)
    {
        var file = Write("top.json", content);
        var error = Assert.Throws<RequestFileException>(() => RequestFileReader.Read(file, new RecordReadOptions()).ToList());
        Assert.Equal(errorId, error.ErrorId);
        Assert.Contains(hint, error.Message);
    }

    [Theory]
    [InlineData("utf-16LE")]
    [InlineData("utf-16BE")]
    [InlineData("utf-8-bom")]
    public void Read_EncodingWithByteOrderMark_ReadsTheSameRecords(string encodingName)
    {
        var encoding = encodingName switch
        {
            "utf-16LE" => (Encoding)new UnicodeEncoding(bigEndian: false, byteOrderMark: true),
            "utf-16BE" => new UnicodeEncoding(bigEndian: true, byteOrderMark: true),
            _ => new UTF8Encoding(encoderShouldEmitUTF8Identifier: true),
        };
        var path = Path.Combine(_directory, "encoded.json");
        File.WriteAllText(path, "[\n  { \"id\": \"café-☕\", \"uri\": \"http://h/ü\" }\n]", encoding);

        var record = RequestFileReader.Read(path, new RecordReadOptions()).Single();

        Assert.Equal("café-☕", record.Id);
        Assert.Equal("http://h/%C3%BC", record.Uri.AbsoluteUri);
        Assert.EndsWith("encoded.json:2:3", record.Source);
    }

    [Fact]
    public void Read_InvalidUtf8InAString_IsMalformedAtItsPosition()
    {
        var path = Path.Combine(_directory, "bad-utf8.json");
        var bytes = new List<byte>(Encoding.UTF8.GetBytes("[\n  { \"uri\": \"http://h/"));
        bytes.AddRange([0xC3, 0x28]);
        bytes.AddRange(Encoding.UTF8.GetBytes("\" } ]"));
        File.WriteAllBytes(path, bytes.ToArray());

        var error = Assert.Throws<RequestFileException>(() => RequestFileReader.Read(path, new RecordReadOptions()).ToList());

        Assert.Equal(RequestErrorIds.FileMalformed, error.ErrorId);
        Assert.Equal((2L, 22L), (error.Position.Line, error.Position.Column));
    }

    [Fact]
    public void Read_Utf16WithoutByteOrderMark_SaysSo()
    {
        var path = Path.Combine(_directory, "nobom.json");
        File.WriteAllBytes(path, Encoding.Unicode.GetBytes("[ ]"));
        var error = Assert.Throws<RequestFileException>(() => RequestFileReader.Read(path, new RecordReadOptions()).ToList());
        Assert.Equal(RequestErrorIds.FileMalformed, error.ErrorId);
        Assert.Contains("byte order mark", error.Message);
    }

    [Fact]
    public void Read_MalformedAfterNonAsciiText_CountsColumnsInCharacters()
    {
        var file = Write("chars.json", "[ { \"id\": \"ééé\", \"uri\": \"http://h/\" } x ]");
        var error = Assert.Throws<RequestFileException>(() => RequestFileReader.Read(file, new RecordReadOptions()).ToList());
        Assert.Equal(RequestErrorIds.FileMalformed, error.ErrorId);
        Assert.Equal((1L, 39L), (error.Position.Line, error.Position.Column));
    }

    [Theory]
    [InlineData("""[ { "uri": "http://h/", "URI": "http://h/2" } ]""", RequestErrorIds.DuplicateProperty)]
    [InlineData("""[ { "uri": "http://h/", "url": "http://h/2" } ]""", RequestErrorIds.DuplicateProperty)]
    [InlineData("""[ { "uri": "http://h/", "headers": { "A": "1", "a": "2" } } ]""", RequestErrorIds.DuplicateProperty)]
    [InlineData("""[ { "uri": "http://h/", "body": "x" } ]""", RequestErrorIds.BodyNotAllowed)]
    [InlineData("""[ { "uri": "http://h/", "method": "HEAD", "body": { "a": 1 } } ]""", RequestErrorIds.BodyNotAllowed)]
    [InlineData("""[ { "uri": "http://h/", "timeoutSec": 0 } ]""", RequestErrorIds.InvalidProperty)]
    [InlineData("""[ { "uri": "http://h/", "id": "" } ]""", RequestErrorIds.InvalidProperty)]
    [InlineData("""[ { "uri": "http://h/", "id": true } ]""", RequestErrorIds.InvalidProperty)]
    [InlineData("""[ { "uri": "http://h/", "idempotencyKey": "a\nb" } ]""", RequestErrorIds.InvalidProperty)]
    [InlineData("""[ { "uri": "http://h/", "headers": { "Bad Name": "1" } } ]""", RequestErrorIds.InvalidHeader)]
    [InlineData("""[ { "uri": "http://h/", "headers": [] } ]""", RequestErrorIds.InvalidProperty)]
    public void ReadEntries_BadRecord_IsAProblemWithItsIdAndReadingGoesOn(string content, string errorId)
    {
        var file = Write("more.json", content.Replace(" ]", """, { "id": "next", "uri": "http://h/next" } ]"""));

        var entries = RequestFileReader.ReadEntries(file, new RecordReadOptions()).ToList();

        Assert.Equal(2, entries.Count);
        Assert.Equal(errorId, entries[0].Problem?.ErrorId);
        Assert.Equal(entries[0].Problem!.RecordId, entries[0].Id);
        Assert.Contains($"id '{entries[0].Id}'", entries[0].Problem!.Message);
        Assert.Equal("next", entries[1].Record?.Id);
    }

    [Fact]
    public void Read_ErrorFarIntoALargeFile_ReportsItsLineAndColumn()
    {
        var lines = Enumerable.Range(1, 5000).Select(i => $$"""  { "id": "r{{i}}", "uri": "http://h/{{i}}" }""" + (i == 4000 ? " " : ","));
        var file = Write("large.json", "[\n" + string.Join("\n", lines) + "\n]");

        var error = Assert.Throws<RequestFileException>(() => RequestFileReader.Read(file, new RecordReadOptions()).Count());

        Assert.Equal(RequestErrorIds.FileMalformed, error.ErrorId);
        Assert.Equal((4002L, 3L), (error.Position.Line, error.Position.Column));
    }

    [Fact]
    public void Read_SameRequestsInEveryFormat_GiveTheSameRecords()
    {
        var files = new[]
        {
            Write("same.json", """
                [ { "id": "a", "method": "POST", "uri": "http://h/a", "headers": { "X-N": "1" }, "body": "{\"n\":1}", "contentType": "application/json" },
                  { "id": "b", "uri": "http://h/b" } ]
                """),
            Write("same.ndjson", """
                { "id": "a", "method": "POST", "uri": "http://h/a", "headers": { "X-N": "1" }, "body": {"n":1} }
                { "id": "b", "uri": "http://h/b" }
                """),
            Write("same.csv", "Id,Method,Uri,Header.X-N,Body,ContentType\na,POST,http://h/a,1,\"{\"\"n\"\":1}\",application/json\nb,,http://h/b,,,\n"),
            Write("same.http", "# @name a\nPOST http://h/a\nX-N: 1\nContent-Type: application/json\n\n{\"n\":1}\n###\n# @name b\nGET http://h/b\n"),
        };

        var shapes = files.Select(f => RequestFileReader.Read(f, new RecordReadOptions())
            .Select(r => $"{r.Id}|{r.Method}|{r.Uri}|{string.Join(",", r.Headers.Select(h => h.Key + "=" + h.Value))}|{r.Body}|{r.ContentType}")
            .ToList()).ToList();

        Assert.All(shapes, shape => Assert.Equal(shapes[0], shape));
        Assert.Equal("a|POST|http://h/a|X-N=1|{\"n\":1}|application/json", shapes[0][0]);
    }

    [Fact]
    public void Read_UnknownProperty_SuggestsTheNearestName()
    {
        var file = Write("typo.json", """[ { "uri": "http://h/", "methd": "POST" } ]""");
        var error = Assert.Throws<RequestFileException>(() => RequestFileReader.Read(file, new RecordReadOptions()).ToList());
        Assert.Contains("Did you mean 'method'?", error.Message);
    }

    [Fact]
    public void Read_ContentTypeHeader_BecomesTheContentType()
    {
        var file = Write("ct.json", """[ { "method": "PUT", "uri": "http://h/", "headers": { "content-type": "text/csv" }, "body": "a,b" } ]""");
        var record = RequestFileReader.Read(file, new RecordReadOptions()).Single();
        Assert.Equal("text/csv", record.ContentType);
        Assert.False(record.Headers.ContainsKey("Content-Type"));
    }

    [Fact]
    public void Read_RootRelativeUriWithBase_ResolvesAgainstTheHost()
    {
        var file = Write("root.json", """[{ "uri": "/users/7" }]""");
        var record = RequestFileReader.Read(file, new RecordReadOptions { BaseUri = new Uri("https://api.example/v1/") }).Single();
        Assert.Equal("https://api.example/users/7", record.Uri.AbsoluteUri);
    }

    [Fact]
    public void Read_ContentTypeHeaderBesideAJsonBody_IsTheRecordsMediaType()
    {
        var file = Write("merge.json", """[{ "id": "a", "method": "PATCH", "uri": "http://h/x", "headers": { "Content-Type": "application/merge-patch+json" }, "body": { "a": 1 } }]""");

        var record = RequestFileReader.Read(file, new RecordReadOptions()).Single();

        Assert.Equal("application/merge-patch+json", record.ContentType);
    }

    [Fact]
    public void Read_PropertyNameThatIsNotUtf8_IsAMalformedFile()
    {
        var path = Path.Combine(_directory, "bad-utf8.json");
        File.WriteAllBytes(path, [.. "{\"requests\":[],\"ba"u8, 0xff, .. "se\":1}"u8]);

        var error = Assert.Throws<RequestFileException>(() => RequestFileReader.Read(path, new RecordReadOptions()).ToList());

        Assert.Equal(RequestErrorIds.FileMalformed, error.ErrorId);
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, content, new UTF8Encoding(false));
        return path;
    }
}
