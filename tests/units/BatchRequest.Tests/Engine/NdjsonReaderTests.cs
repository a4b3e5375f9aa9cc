using System.Text;
using BatchRequest.Engine.Requests;
using BatchRequest.Model.Requests;

namespace BatchRequest.Tests.Engine;

public sealed class NdjsonReaderTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("batchrequest-ndjson-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Read_OneObjectPerLine_SkipsBlankLinesAndNumbersRecords()
    {
        var file = Write("log.ndjson", "{\"id\":\"a\",\"uri\":\"http://h/1\"}\r\n\r\n  {\"method\":\"DELETE\",\"url\":\"http://h/2\"}\n");

        var records = RequestFileReader.Read(file, new RecordReadOptions()).ToList();

        Assert.Equal(["a", "log.ndjson#2"], records.Select(r => r.Id));
        Assert.Equal("DELETE", records[1].Method);
        Assert.EndsWith("log.ndjson:3:3", records[1].Source);
    }

    [Theory]
    [InlineData("{\"uri\":\"http://h/1\"}\n{\"uri\": }\n", 2L, 9L)]
    [InlineData("{\"uri\":\"http://h/1\"}\n{\"uri\":\"http://h/2\"} // note\n", 2L, 22L)]
    [InlineData("{\"uri\":\"http://h/1\",}\n", 1L, 21L)]
    [InlineData("{\"uri\":\"http://h/1\"", 1L, 20L)]
    public void Read_MalformedLine_FailsWithLineAndColumn(string content, long line, long column)
    {
        var file = Write("bad.jsonl", content);
        var error = Assert.Throws<RequestFileException>(() => RequestFileReader.Read(file, new RecordReadOptions()).ToList());
        Assert.Equal(RequestErrorIds.FileMalformed, error.ErrorId);
        Assert.Equal((line, column), (error.Position.Line, error.Position.Column));
    }

    [Fact]
    public void Read_OnlyBlankLines_IsEmpty()
    {
        var file = Write("blank.ndjson", "\n   \n");
        var error = Assert.Throws<RequestFileException>(() => RequestFileReader.Read(file, new RecordReadOptions()).ToList());
        Assert.Equal(RequestErrorIds.FileEmpty, error.ErrorId);
    }

    [Fact]
    public void ReadEntries_ArrayOnALine_IsNotAnObject()
    {
        var file = Write("array.ndjson", "[1]\n{\"uri\":\"http://h/\"}\n");
        var entries = RequestFileReader.ReadEntries(file, new RecordReadOptions()).ToList();
        Assert.Equal(RequestErrorIds.NotAnObject, entries[0].Problem?.ErrorId);
        Assert.NotNull(entries[1].Record);
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, content, new UTF8Encoding(false));
        return path;
    }
}
