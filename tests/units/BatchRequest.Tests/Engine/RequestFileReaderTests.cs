using System.Text;
using BatchRequest.Engine.Requests;

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

    private string Write(string name, string content)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, content, new UTF8Encoding(false));
        return path;
    }
}
