using System.Text;
using BatchRequest.Engine.Journal;
using BatchRequest.Model.Results;

namespace BatchRequest.Tests.Engine;

public sealed class JournalReaderTests : IDisposable
{
    private const string Run = """{"event":"run","time":"2025-01-01T00:00:00.0000000+00:00","batchId":"b1"}""";
    private const string Sending = """{"event":"sending","time":"2025-01-01T00:00:01.0000000+00:00","id":"a","fingerprint":"f","method":"POST","uri":"http://h/x?id=***","idempotencyKey":"k"}""";
    private const string Result = """{"event":"result","time":"2025-01-01T00:00:02.0000000+00:00","id":"a","fingerprint":"f","status":"Succeeded","statusCode":201,"attempts":2,"errorKind":"None","startTime":"2025-01-01T00:00:01.0000000+00:00","durationMs":1500.5}""";

    private readonly string _directory = Directory.CreateTempSubdirectory("batchrequest-journal-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Read_WholeLines_GivesEveryEntryWithItsFields()
    {
        var path = Write(Run + "\n" + Sending + "\n\n" + Result + "\n");

        var entries = JournalReader.Read(path).ToList();

        Assert.Equal([JournalEvent.Run, JournalEvent.Sending, JournalEvent.Result], entries.Select(e => e.Event));
        Assert.Equal("b1", entries[0].BatchId);
        Assert.Equal(("a", "k", "http://h/x?id=***"), (entries[1].Id, entries[1].IdempotencyKey, entries[1].Uri));
        var result = entries[2];
        Assert.Equal((BatchStatus.Succeeded, 201, 2, ErrorKind.None), (result.Status, result.StatusCode, result.Attempts, result.ErrorKind));
        Assert.Equal(TimeSpan.FromMilliseconds(1500.5), result.Duration);
        Assert.Equal(4, result.Line);
    }

    [Fact]
    public void Read_TornLastLine_IsSkippedAndReported()
    {
        var path = Write(Run + "\n" + Sending + "\n" + Result.Substring(0, 40));
        long? torn = null;

        var entries = JournalReader.Read(path, line => torn = line).ToList();

        Assert.Equal(2, entries.Count);
        Assert.Equal(3, torn);
    }

    [Theory]
    [InlineData("{\"event\":\"run\"")]
    [InlineData("[1, 2]")]
    [InlineData("{\"id\":\"a\"}")]
    [InlineData("{\"event\":\"result\",\"id\":\"a\",\"status\":\"Sideways\"}")]
    [InlineData("{\"event\":\"result\",\"id\":\"a\",\"statusCode\":\"200\"}")]
    public void Read_BadLineBeforeTheLast_ThrowsJournalMalformed(string bad)
    {
        var path = Write(Run + "\n" + bad + "\n" + Result + "\n");

        var exception = Assert.Throws<JournalException>(() => JournalReader.Read(path).ToList());

        Assert.Equal(JournalErrorIds.Malformed, exception.ErrorId);
    }

    [Fact]
    public void OpenForAppend_AfterATornLine_CutsItOffSoNewLinesStayWhole()
    {
        var path = Write(Run + "\n" + Sending + "\n" + Result.Substring(0, 40));

        using (var appender = NdjsonAppender.OpenForAppend(path))
        {
            appender.Append(new JournalEntry { Event = JournalEvent.Run, BatchId = "b1" }.WriteTo);
        }

        long? torn = null;
        var entries = JournalReader.Read(path, line => torn = line).ToList();
        Assert.Null(torn);
        Assert.Equal([JournalEvent.Run, JournalEvent.Sending, JournalEvent.Run], entries.Select(e => e.Event));
    }

    [Fact]
    public void OpenForAppend_WholeLastLineWithoutBreak_KeepsItAndAddsTheBreak()
    {
        var path = Write(Run + "\n" + Sending);

        using (var appender = NdjsonAppender.OpenForAppend(path))
        {
            appender.Append(new JournalEntry { Event = JournalEvent.Run, BatchId = "b1" }.WriteTo);
        }

        Assert.Equal(3, JournalReader.Read(path).Count());
        Assert.EndsWith("\n", File.ReadAllText(path), StringComparison.Ordinal);
    }

    [Fact]
    public void OpenForAppend_FileOfOneTornLine_StartsItAfresh()
    {
        var path = Write(Run.Substring(0, 10));

        using (var appender = NdjsonAppender.OpenForAppend(path))
        {
            appender.Append(new JournalEntry { Event = JournalEvent.Run, BatchId = "b2" }.WriteTo);
        }

        Assert.Equal("b2", Assert.Single(JournalReader.Read(path)).BatchId);
    }

    [Fact]
    public void Append_FromManyThreads_WritesOnlyWholeLines()
    {
        var path = Path.Combine(_directory, "parallel.ndjson");
        using (var appender = NdjsonAppender.OpenForAppend(path))
        {
            Parallel.For(0, 400, i => appender.Append(new JournalEntry { Event = JournalEvent.Sending, Id = $"r{i}" }.WriteTo));
        }

        var ids = JournalReader.Read(path).Select(e => e.Id).ToList();
        Assert.Equal(400, ids.Distinct().Count());
    }

    private string Write(string text)
    {
        var path = Path.Combine(_directory, $"{Guid.NewGuid():N}.ndjson");
        File.WriteAllText(path, text, new UTF8Encoding(false));
        return path;
    }
}
