using System.Text;
using BatchRequest.Engine.Requests;
using BatchRequest.Model.Requests;

namespace BatchRequest.Tests.Engine;

public sealed class RequestBatchReaderTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("batchrequest-batch-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Validate_ProblemsInSeveralFiles_ReportsEachWithFileRecordAndPosition()
    {
        var first = Write("a.json", """[ { "id": "x", "uri": "http://h/1" }, { "method": "GET" } ]""");
        var second = Write("b.ndjson", "{\"id\":\"x\",\"uri\":\"http://h/2\"}\n{\"uri\":\"ftp://h/\"}\n");
        var problems = new List<RequestFileException>();

        var count = new RequestBatchReader([first, second], new RecordReadOptions()).Validate(problems.Add, limit: 100);

        Assert.Equal(3, count);
        Assert.Equal([RequestErrorIds.MissingUri, RequestErrorIds.DuplicateId, RequestErrorIds.InvalidUri], problems.Select(p => p.ErrorId));
        Assert.Equal(("a.json", 2L, 1L, 39L), (Path.GetFileName(problems[0].Position.File), problems[0].Position.RecordNumber, problems[0].Position.Line, problems[0].Position.Column));
        Assert.Equal(("b.ndjson", 1L), (Path.GetFileName(problems[1].Position.File), problems[1].Position.RecordNumber));
        Assert.Contains("id 'x'", problems[1].Message);
    }

    [Fact]
    public void Validate_ManyProblems_StopsAtTheLimit()
    {
        var file = Write("many.ndjson", string.Concat(Enumerable.Repeat("{\"method\":\"GET\"}\n", 500)));
        var reported = 0;
        Assert.Equal(100, new RequestBatchReader([file], new RecordReadOptions()).Validate(_ => reported++, limit: 100));
        Assert.Equal(100, reported);
    }

    [Fact]
    public void Read_DuplicateId_IsAProblemAndTheFirstRecordStays()
    {
        var file = Write("dup.ndjson", "{\"id\":\"a\",\"uri\":\"http://h/1\"}\n{\"id\":\"a\",\"uri\":\"http://h/2\"}\n");
        var entries = new RequestBatchReader([file], new RecordReadOptions()).Read().ToList();
        Assert.Equal("http://h/1", entries[0].Record?.Uri.AbsoluteUri);
        Assert.Equal((RequestErrorIds.DuplicateId, 2L), (entries[1].Problem?.ErrorId, entries[1].Problem?.Position.Line));
    }

    [Fact]
    public void Read_EveryPartition_TogetherCoverEachRecordOnce()
    {
        var file = Write("all.ndjson", string.Concat(Enumerable.Range(1, 400).Select(i => $"{{\"uri\":\"http://h/{i}\"}}\n")));
        var seen = new List<string>();
        for (var k = 1; k <= 8; k++)
        {
            seen.AddRange(new RequestBatchReader([file], new RecordReadOptions(), new RequestPartition(k, 8)).Read().Select(e => e.Id));
        }

        Assert.Equal(Enumerable.Range(1, 400).Select(i => $"all.ndjson#{i}").Order(), seen.Order());
    }

    [Theory]
    [InlineData("order-1", 8, 5)]
    [InlineData("order-2", 8, 4)]
    [InlineData("café", 3, 2)]
    public void Partition_Contains_IsAStableFunctionOfTheId(string id, int count, int expected)
    {
        // The first 8 bytes of SHA-256 of the UTF-8 id, big-endian, modulo n, plus 1 (checked with another SHA-256
        // implementation); fixed here so that machines running different builds always agree.
        var index = Enumerable.Range(1, count).Single(k => new RequestPartition(k, count).Contains(id));
        Assert.Equal(expected, index);
    }

    [Theory]
    [InlineData("3/8", 3, 8)]
    [InlineData(" 1 / 1 ", 1, 1)]
    public void Partition_Parse_ReadsKOfN(string text, int index, int count)
    {
        var partition = RequestPartition.Parse(text);
        Assert.Equal((index, count), (partition.Index, partition.Count));
    }

    [Theory]
    [InlineData("0/8")]
    [InlineData("9/8")]
    [InlineData("3")]
    [InlineData("3/")]
    [InlineData("a/b")]
    [InlineData("-1/8")]
    [InlineData("1/70000")]
    public void Partition_Parse_RejectsAnythingElseWithTheSyntaxInTheMessage(string text)
    {
        var error = Assert.Throws<FormatException>(() => RequestPartition.Parse(text));
        Assert.Contains("k/n", error.Message);
    }

    [Fact]
    public void IdDigestSet_ManyIds_FindsEveryRepeatAndNothingElse()
    {
        var set = new IdDigestSet();
        Assert.All(Enumerable.Range(0, 50_000), i => Assert.True(set.Add(IdDigest.Of($"id-{i}"))));
        Assert.All(Enumerable.Range(0, 50_000), i => Assert.False(set.Add(IdDigest.Of($"id-{i}"))));
        Assert.True(set.Add(IdDigest.Of("id-50000")));
    }

    [Fact]
    public void IdDigestSet_DigestsThatAllStartAtTheLastSlot_WrapAroundAndSurviveGrowth()
    {
        // One table (high bits 0), every first probe at its last slot: the probes wrap to the start, and the table
        // grows twice (16, 24, 36 slots) with its digests moved, none lost and none doubled.
        var set = new IdDigestSet();
        var digests = Enumerable.Range(1, 25).Select(i => new IdDigest(0, 0xFFFF_FFFF_0000_0000UL | (ulong)i)).ToArray();
        Assert.All(digests, digest => Assert.True(set.Add(digest)));
        Assert.All(digests, digest => Assert.False(set.Add(digest)));
        Assert.True(set.Add(new IdDigest(0, 0xFFFF_FFFF_0000_0000UL | 26)));
    }

    [Fact]
    public void Read_FileChangedAfterValidation_Stops()
    {
        var file = Write("moving.json", """[ { "uri": "http://h/1" } ]""");
        var batch = new RequestBatchReader([file], new RecordReadOptions());
        Assert.Equal(0, batch.Validate(_ => { }, 100));
        File.AppendAllText(file, "\n");

        var error = Assert.Throws<RequestFileException>(() => batch.Read().ToList());

        Assert.Equal(RequestErrorIds.FileChanged, error.ErrorId);
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, content, new UTF8Encoding(false));
        return path;
    }
}
