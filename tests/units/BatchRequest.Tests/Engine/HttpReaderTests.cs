using System.Text;
using BatchRequest.Engine.Requests;
using BatchRequest.Model.Requests;

namespace BatchRequest.Tests.Engine;

public sealed class HttpReaderTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("batchrequest-http-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Read_RestClientFile_GivesRequestsWithNamesVariablesHeadersAndBodies()
    {
        var file = Write("api.http", """
            @host = api.example
            @base = https://{{host}}/v1
            # A comment before the first request.

            # @name list-users
            GET {{base}}/users
                ?page=2
                &size=50
            Accept: application/json

            ###

            // @name create-user
            POST {{base}}/users HTTP/1.1
            Content-Type: application/json
            Authorization: Bearer {{$processEnv BATCHREQUEST_TEST_TOKEN}}

            {
              "name": "Ann",
              "note": "# not a comment in a body"
            }


            ### a separator with a comment
            https://{{host}}/health
            """);
        Environment.SetEnvironmentVariable("BATCHREQUEST_TEST_TOKEN", "t0k3n");

        var records = RequestFileReader.Read(file, new RecordReadOptions()).ToList();

        Assert.Equal(["list-users", "create-user", "api.http#3"], records.Select(r => r.Id));
        Assert.Equal("https://api.example/v1/users?page=2&size=50", records[0].Uri.AbsoluteUri);
        Assert.Equal("application/json", records[0].Headers["Accept"]);
        Assert.EndsWith("api.http:6:1", records[0].Source);
        Assert.Equal("POST", records[1].Method);
        Assert.Equal("application/json", records[1].ContentType);
        Assert.Equal("Bearer t0k3n", records[1].Headers["Authorization"]);
        Assert.Equal("{\n  \"name\": \"Ann\",\n  \"note\": \"# not a comment in a body\"\n}", records[1].Body);
        Assert.Equal(("GET", "https://api.example/health"), (records[2].Method, records[2].Uri.AbsoluteUri));
    }

    [Fact]
    public void Read_CrLfBody_KeepsItsLineBreaks()
    {
        var file = Write("crlf.rest", "PUT http://h/x\r\nContent-Type: text/plain\r\n\r\nline 1\r\nline 2\r\n");
        Assert.Equal("line 1\r\nline 2", RequestFileReader.Read(file, new RecordReadOptions()).Single().Body);
    }

    [Theory]
    [InlineData("GET http://{{nope}}/x\n", RequestErrorIds.UndefinedVariable)]
    [InlineData("GET http://h/{{$guid}}\n", RequestErrorIds.UnsupportedSyntax)]
    [InlineData("GET http://h/\nAuthorization: Bearer {{$processEnv BATCHREQUEST_UNSET_VARIABLE}}\n", RequestErrorIds.UndefinedVariable)]
    [InlineData("POST http://h/\nContent-Type: application/json\n\n< ./body.json\n", RequestErrorIds.UnsupportedSyntax)]
    [InlineData("POST http://h/\n\n{}\n\n> {% client.global.set('t', response.body.token) %}\n", RequestErrorIds.UnsupportedSyntax)]
    [InlineData("GET http://h/\nnot a header line\n", RequestErrorIds.InvalidHeader)]
    [InlineData("GET http://h/\n\nbody on a get\n", RequestErrorIds.BodyNotAllowed)]
    [InlineData("@a = {{b}}\n@b = {{a}}\nGET http://h/{{a}}\n", RequestErrorIds.UndefinedVariable)]
    [InlineData("GET ftp://h/\n", RequestErrorIds.InvalidUri)]
    public void ReadEntries_BadRequest_IsAProblemAndTheNextRequestStillReads(string request, string errorId)
    {
        var file = Write("bad.http", request + "\n###\nGET http://h/next\n");

        var entries = RequestFileReader.ReadEntries(file, new RecordReadOptions()).ToList();

        Assert.Equal(errorId, entries[0].Problem?.ErrorId);
        Assert.Equal("http://h/next", entries[1].Record?.Uri.AbsoluteUri);
    }

    [Fact]
    public void ReadEntries_UndefinedVariable_SuggestsTheNearestOne()
    {
        var file = Write("typo.http", "@hostname = h\nGET http://{{hostnme}}/\n");
        var problem = RequestFileReader.ReadEntries(file, new RecordReadOptions()).Single().Problem;
        Assert.Contains("Did you mean 'hostname'?", problem!.Message);
    }

    [Fact]
    public void ReadEntries_MistypedMethod_IsAProblemWithFileLineAndSuggestion()
    {
        var file = Write("typo-method.http", "GET http://h/first\n\n###\n\n  GTE http://h/x\n");

        var problem = RequestFileReader.ReadEntries(file, new RecordReadOptions()).Last().Problem;

        Assert.Equal(RequestErrorIds.InvalidMethod, problem?.ErrorId);
        Assert.Equal((2L, 5L, 3L), (problem!.Position.RecordNumber, problem.Position.Line, problem.Position.Column));
        Assert.Contains("typo-method.http", problem.Message);
        Assert.Contains("'GTE'", problem.Message);
        Assert.Contains("Did you mean 'GET'?", problem.Message);
    }

    [Theory]
    [InlineData("get")]
    [InlineData("HEAD")]
    [InlineData("post")]
    [InlineData("PUT")]
    [InlineData("PATCH")]
    [InlineData("DELETE")]
    [InlineData("OPTIONS")]
    [InlineData("TRACE")]
    public void Read_StandardMethod_InAnyCase_IsSent(string method)
    {
        var file = Write("methods.http", method + " http://h/x\n");
        Assert.Equal(method.ToUpperInvariant(), RequestFileReader.Read(file, new RecordReadOptions()).Single().Method);
    }

    [Fact]
    public void Read_HeaderValueFromEnvironment_NeverAppearsInAProblem()
    {
        Environment.SetEnvironmentVariable("BATCHREQUEST_TEST_SECRET", "s3cr3t\nX-Evil: 1");
        var file = Write("secret.http", "GET http://h/\nAuthorization: {{$processEnv BATCHREQUEST_TEST_SECRET}}\n");

        var problem = RequestFileReader.ReadEntries(file, new RecordReadOptions()).Single().Problem;

        Assert.Equal(RequestErrorIds.InvalidHeader, problem?.ErrorId);
        Assert.DoesNotContain("s3cr3t", problem!.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n\n")]
    public void Read_NothingInTheFile_IsEmpty(string content)
    {
        var file = Write("empty.http", content);
        var error = Assert.Throws<RequestFileException>(() => RequestFileReader.Read(file, new RecordReadOptions()).ToList());
        Assert.Equal(RequestErrorIds.FileEmpty, error.ErrorId);
    }

    [Fact]
    public void Read_OnlyCommentsAndVariables_HasNoRequests()
    {
        var file = Write("vars.http", "@host = h\n# nothing to send yet\n");
        Assert.Empty(RequestFileReader.Read(file, new RecordReadOptions()));
    }

    [Fact]
    public void ReadEntries_HeaderLineWithoutColonAfterTheName_NeverRepeatsItsText()
    {
        var file = Write("secret-header.http", "GET http://h/x\nAuthorization Bearer sk_live_S3CRET:abc\n");

        var problem = RequestFileReader.ReadEntries(file, new RecordReadOptions()).Single().Problem;

        Assert.Equal(RequestErrorIds.InvalidHeader, problem?.ErrorId);
        Assert.DoesNotContain("S3CRET", problem!.Message);
    }

    [Fact]
    public void Read_CommentLinesAtTheEndOfARequest_BelongToNoBody()
    {
        var file = Write("comments.http", "POST http://h/orders\nContent-Type: application/json\n\n{\"sku\":\"A\"}\n\n# next: list orders\n###\nGET http://h/orders\n\n// trailing note\n###\n");

        var records = RequestFileReader.Read(file, new RecordReadOptions()).ToList();

        Assert.Equal("{\"sku\":\"A\"}", records[0].Body);
        Assert.Null(records[1].Body);
    }

    [Fact]
    public void ReadEntries_VariablesThatExpandExponentially_AreAProblemNotAnOutOfMemory()
    {
        var lines = Enumerable.Range(0, 15).Select(i => $"@v{i} = {{{{v{i + 1}}}}}{{{{v{i + 1}}}}}{{{{v{i + 1}}}}}{{{{v{i + 1}}}}}");
        var file = Write("bomb.http", string.Join("\n", lines) + "\n@v15 = xxxxxxxxxxxxxxxx\nGET http://h/{{v0}}\n");

        var problem = RequestFileReader.ReadEntries(file, new RecordReadOptions()).Single().Problem;

        Assert.Equal(RequestErrorIds.UnsupportedSyntax, problem?.ErrorId);
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, content, new UTF8Encoding(false));
        return path;
    }
}
