using System.Text;
using BatchRequest.Engine.Requests;
using BatchRequest.Model.Requests;

namespace BatchRequest.Tests.Engine;

public sealed class CsvReaderTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("batchrequest-csv-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Read_KnownColumns_MakeRequestsWithHeaders()
    {
        var file = Write("orders.csv", """
            Id,Method,Url,Body,ContentType,TimeoutSec,IdempotencyKey,Header.X-Trace,Header.Accept
            o1,POST,http://h/orders,"{""sku"":""A,17""}",application/json,2.5,k1,t1,
            ,GET,http://h/orders/2,,,,,,text/plain
            """);

        var records = RequestFileReader.Read(file, new RecordReadOptions()).ToList();

        Assert.Equal(("o1", "POST", "http://h/orders"), (records[0].Id, records[0].Method, records[0].Uri.AbsoluteUri));
        Assert.Equal("""{"sku":"A,17"}""", records[0].Body);
        Assert.Equal("application/json", records[0].ContentType);
        Assert.Equal(TimeSpan.FromSeconds(2.5), records[0].Timeout);
        Assert.Equal("k1", records[0].IdempotencyKey);
        Assert.Equal("t1", records[0].Headers["X-Trace"]);
        Assert.False(records[0].Headers.ContainsKey("Accept"));
        Assert.Equal("orders.csv#2", records[1].Id);
        Assert.Null(records[1].Body);
        Assert.Equal("text/plain", records[1].Headers["Accept"]);
        Assert.EndsWith("orders.csv:3:1", records[1].Source);
    }

    [Fact]
    public void Read_QuotedLineBreak_KeepsTheLineNumbersOfLaterRows()
    {
        var file = Write("multi.csv", "Uri,Method,Body\nhttp://h/1,POST,\"a\nb\"\nhttp://h/2,GET,\n");
        var records = RequestFileReader.Read(file, new RecordReadOptions()).ToList();
        Assert.Equal("a\nb", records[0].Body);
        Assert.EndsWith("multi.csv:4:1", records[1].Source);
    }

    [Fact]
    public void Read_UriAndBodyTemplates_FillPlaceholdersEncodedForWhereTheyGo()
    {
        var file = Write("users.csv", "UserId,Name,Age\r\n7,\"Ann \"\"A/B\"\"\",41\r\n8 9,Bo,\r\n");
        var options = new RecordReadOptions
        {
            UriTemplate = "https://api.example/users/{UserId}?name={Name}",
            BodyTemplate = """{ "name": "{Name}", "age": {Age}, "literal": "{{UserId}" }""",
        };

        var records = RequestFileReader.ReadEntries(file, options).ToList();

        // A GET cannot have a body, so the template rows need a method: that is the first row's problem.
        Assert.Equal(RequestErrorIds.BodyNotAllowed, records[0].Problem?.ErrorId);
        var post = new RecordReadOptions { UriTemplate = options.UriTemplate, BodyTemplate = options.BodyTemplate };
        var withMethod = Write("users-post.csv", "Method,UserId,Name,Age\r\nPOST,7,\"Ann \"\"A/B\"\"\",41\r\nPOST,8 9,Bo,\r\n");
        var sent = RequestFileReader.Read(withMethod, post).ToList();
        Assert.Equal("https://api.example/users/7?name=Ann%20%22A%2FB%22", sent[0].Uri.AbsoluteUri);
        Assert.Equal("""{ "name": "Ann \"A/B\"", "age": 41, "literal": "{UserId}" }""", sent[0].Body);
        Assert.Equal("application/json", sent[0].ContentType);
        Assert.Equal("https://api.example/users/8%209?name=Bo", sent[1].Uri.AbsoluteUri);
        Assert.Equal("""{ "name": "Bo", "age": null, "literal": "{UserId}" }""", sent[1].Body);
    }

    [Fact]
    public void Read_ValueOutsideQuotesThatIsNotJson_IsAProblemThatNamesOnlyTheColumn()
    {
        var file = Write("inject.csv", "Method,Qty\nPOST,\"1, \"\"admin\"\": true\"\n");
        var options = new RecordReadOptions { UriTemplate = "http://h/", BodyTemplate = """{ "qty": {Qty} }""" };

        var entry = RequestFileReader.ReadEntries(file, options).Single();

        Assert.Equal(RequestErrorIds.InvalidProperty, entry.Problem?.ErrorId);
        Assert.Contains("'Qty'", entry.Problem!.Message);
        Assert.DoesNotContain("admin", entry.Problem.Message);
    }

    [Theory]
    [InlineData("Id,Uri,Bogus\na,http://h/,x\n", null, RequestErrorIds.UnknownProperty)]
    [InlineData("Id,Urll\na,http://h/\n", null, RequestErrorIds.UnknownProperty)]
    [InlineData("Id,Method\na,GET\n", null, RequestErrorIds.MissingUri)]
    [InlineData("Uri,Url\nhttp://h/,http://h/\n", null, RequestErrorIds.DuplicateProperty)]
    [InlineData("UserId\n7\n", "http://h/{UserID}/{Missing}", RequestErrorIds.TemplateInvalid)]
    [InlineData("Id,Uri\na,\"http://h/\n", null, RequestErrorIds.FileMalformed)]
    [InlineData("Id,Uri\na,http://h/,extra\n", null, RequestErrorIds.FileMalformed)]
    [InlineData("Id,Uri\na,http\"://h/\n", null, RequestErrorIds.FileMalformed)]
    [InlineData("", null, RequestErrorIds.FileEmpty)]
    public void Read_BrokenCsv_FailsForTheWholeFile(string content, string? uriTemplate, string errorId)
    {
        var file = Write("broken.csv", content);
        var error = Assert.Throws<RequestFileException>(() => RequestFileReader.Read(file, new RecordReadOptions { UriTemplate = uriTemplate }).ToList());
        Assert.Equal(errorId, error.ErrorId);
        Assert.Contains("broken.csv", error.Message);
    }

    [Fact]
    public void Read_UnknownColumn_SuggestsTheNearestColumn()
    {
        var file = Write("typo.csv", "Id,Urll\na,http://h/\n");
        var error = Assert.Throws<RequestFileException>(() => RequestFileReader.Read(file, new RecordReadOptions()).ToList());
        Assert.Contains("Did you mean 'Url'?", error.Message);
    }

    [Fact]
    public void Read_JsonBodyTemplateThatIsNotJson_IsRejectedBeforeAnyRow()
    {
        var file = Write("t.csv", "Name\nx\n");
        var options = new RecordReadOptions { UriTemplate = "http://h/", BodyTemplate = """{ "name": "{Name}" """ };
        var error = Assert.Throws<RequestFileException>(() => RequestFileReader.Read(file, options).ToList());
        Assert.Equal(RequestErrorIds.TemplateInvalid, error.ErrorId);
    }

    [Fact]
    public void Read_Utf16File_ReadsLikeUtf8()
    {
        var path = Path.Combine(_directory, "wide.csv");
        File.WriteAllText(path, "Id,Uri\r\nžluť,http://h/1\r\n", new UnicodeEncoding(bigEndian: false, byteOrderMark: true));
        Assert.Equal("žluť", RequestFileReader.Read(path, new RecordReadOptions()).Single().Id);
    }

    [Fact]
    public void Read_InvalidUtf8InARow_IsMalformedAtItsLine()
    {
        var path = Path.Combine(_directory, "bytes.csv");
        File.WriteAllBytes(path, [.. Encoding.UTF8.GetBytes("Id,Uri\na,http://h/1\nb"), 0xFF, .. Encoding.UTF8.GetBytes(",http://h/2\n")]);
        var error = Assert.Throws<RequestFileException>(() => RequestFileReader.Read(path, new RecordReadOptions()).ToList());
        Assert.Equal((RequestErrorIds.FileMalformed, 3L), (error.ErrorId, error.Position.Line));
    }

    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("")]
    public void ReadEntries_UriTemplateCellThatIsADotSegmentOrEmpty_IsAProblemNotAnotherResource(string cell)
    {
        var file = Write("dots.csv", $"Method,UserId\nDELETE,\"{cell}\"\nDELETE,7\n");
        var options = new RecordReadOptions { UriTemplate = "https://api.example/tenants/t1/users/{UserId}?q={UserId}" };

        var entries = RequestFileReader.ReadEntries(file, options).ToList();

        Assert.Equal(RequestErrorIds.InvalidProperty, entries[0].Problem?.ErrorId);
        Assert.Contains("UserId", entries[0].Problem!.Message);
        Assert.Equal("https://api.example/tenants/t1/users/7?q=7", entries[1].Record!.Uri.AbsoluteUri);
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, content, new UTF8Encoding(false));
        return path;
    }
}
