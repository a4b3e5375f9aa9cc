using System.Text;
using System.Text.Json;
using BatchRequest.Engine.Admission;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Journal;
using BatchRequest.Engine.Report;
using BatchRequest.Model.Results;
using Microsoft.Extensions.Time.Testing;

namespace BatchRequest.Tests.Engine;

/// <summary>The journal's lines for reports, and what a report folds from a journal.</summary>
public sealed class BatchReportTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 2, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Directory.CreateTempSubdirectory("batchrequest-report-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void HostPauseGate_Pause_TellsOnlyPausesItMadeLonger()
    {
        var clock = new FakeTimeProvider(T0);
        var told = new List<(string Host, DateTimeOffset Until)>();
        var gate = new HostPauseGate(clock, (host, until) => told.Add((host, until)));

        gate.Pause("api:443", TimeSpan.FromSeconds(5));
        gate.Pause("api:443", TimeSpan.FromSeconds(2));
        gate.Pause("api:443", TimeSpan.FromSeconds(8));

        Assert.Equal([("api:443", T0.AddSeconds(5)), ("api:443", T0.AddSeconds(8))], told);
    }

    [Fact]
    public void Read_LineOfAKindNotKnown_IsSkipped()
    {
        var path = Write(
            """{"event":"run","time":"2026-01-01T02:00:00.0000000+00:00","batchId":"b"}""",
            """{"event":"checkpoint","time":"2026-01-01T02:00:01.0000000+00:00","whatever":[1,2]}""",
            """{"event":"sending","time":"2026-01-01T02:00:02.0000000+00:00","id":"a"}""");

        var entries = JournalReader.Read(path).ToList();

        Assert.Equal([JournalEvent.Run, JournalEvent.Sending], entries.Select(entry => entry.Event));
        Assert.Equal(3, entries[1].Line);
    }

    [Fact]
    public void WriteThenRead_ReportLines_KeepTheirFields()
    {
        var path = WriteEntries(
            new JournalEntry { Event = JournalEvent.Retry, Time = T0, Id = "a", Attempts = 2, Delay = TimeSpan.FromMilliseconds(250) },
            new JournalEntry { Event = JournalEvent.Pause, Time = T0, Host = "api:443", ResumeAt = T0.AddSeconds(3) },
            new JournalEntry { Event = JournalEvent.Limit, Time = T0, Host = "api:443", PreviousLimit = 10, Limit = 7 });

        var entries = JournalReader.Read(path).ToList();

        Assert.Equal(("a", 2, TimeSpan.FromMilliseconds(250)), (entries[0].Id, entries[0].Attempts, entries[0].Delay));
        Assert.Equal(("api:443", T0.AddSeconds(3)), (entries[1].Host, entries[1].ResumeAt));
        Assert.Equal((10, 7), (entries[2].PreviousLimit, entries[2].Limit));
    }

    [Fact]
    public void Resume_RetryLineAfterAnOpenSend_StillCountsTheSendAsInFlight()
    {
        var path = WriteEntries(
            new JournalEntry { Event = JournalEvent.Run, Time = T0, BatchId = "b" },
            new JournalEntry { Event = JournalEvent.Sending, Time = T0, Id = "a", Method = "POST" },
            new JournalEntry { Event = JournalEvent.Retry, Time = T0, Id = "a", Attempts = 2 });

        var history = JournalHistory.Load(path).Of("a")!;

        Assert.True(history.MayHaveReachedServer);
        Assert.Null(history.LastResult);
    }

    [Fact]
    public void RedactedUri_UserInfoAndQuery_AreLeftOutAndMasked()
    {
        Assert.Equal("https://h.example:8443/a/b?token=***&***", RedactedUri.Of(new Uri("https://user:pass@h.example:8443/a/b?token=t0p&bare")));
    }

    [Fact]
    public void Report_KilledAndResumed_GivesEachRecordItsFinalOutcomeAndEachRunItsOwn()
    {
        var builder = new ReportBuilder();
        foreach (var entry in new[]
        {
            Run(0), Sending("a", 1), Result("a", 2, BatchStatus.Failed, 503, attempts: 3), Sending("b", 2), Result("b", 3, BatchStatus.Succeeded, 200),
            Sending("c", 3), Run(60), Sending("a", 61), Result("a", 62, BatchStatus.Succeeded, 200),
        })
        {
            builder.Add(entry);
        }

        var report = Snapshot(builder);

        Assert.Equal(3, report.Records);
        Assert.Equal([("OutcomeUnknown", 1L), ("Succeeded", 2L)], report.ByStatus.OrderBy(pair => pair.Status));
        Assert.Equal([(200, 2L)], report.ByStatusCode);
        Assert.Equal(1, report.NoOutcome);
        Assert.Equal(2, report.Retries);
        Assert.Equal([(1, 3L, 1L), (2, 1L, 0L)], report.Runs.Select(run => (run.Number, run.Sent, run.InFlightAtEnd)));
        var tables = report.Tables.ToDictionary(table => table.Status);
        Assert.Empty(tables["Failed"].Rows);
        Assert.Equal(0, tables["Failed"].Total);
        Assert.Equal("c", Assert.Single(tables["OutcomeUnknown"].Rows).Id);

        // The two runs' running time, not the minute between them.
        Assert.Equal(TimeSpan.FromSeconds(5), report.Elapsed);
    }

    [Fact]
    public void Report_ResultLinesOfARunThatDidNotSend_CountInThatRunAndLeaveTheFinalOutcome()
    {
        var builder = new ReportBuilder();
        foreach (var entry in new[]
        {
            Run(0), Sending("a", 1), Result("a", 2, BatchStatus.Succeeded, 200), Sending("b", 2), Result("b", 3, BatchStatus.Failed, 500), Sending("c", 3),
            Run(60), NotSent("a", 61, BatchStatus.Skipped), NotSent("b", 61, BatchStatus.NotSent), NotSent("c", 61, BatchStatus.OutcomeUnknown), NotSent("d", 61, BatchStatus.NotSent),
        })
        {
            builder.Add(entry);
        }

        var report = Snapshot(builder);

        Assert.Equal(4, report.Records);
        Assert.Equal([("Failed", 1L), ("NotSent", 1L), ("OutcomeUnknown", 1L), ("Succeeded", 1L)], report.ByStatus.OrderBy(pair => pair.Status));
        Assert.Equal(1, report.NoOutcome);
        var second = report.Runs[1];
        Assert.Equal(0, second.Sent);
        Assert.Equal([("NotSent", 2L), ("OutcomeUnknown", 1L), ("Skipped", 1L)], second.ByStatus.OrderBy(pair => pair.Key.ToString()).Select(pair => (pair.Key.ToString(), pair.Value)));
        Assert.Equal("c", Assert.Single(report.Tables.Single(table => table.Status == "OutcomeUnknown").Rows).Id);
    }

    [Fact]
    public void Report_ManyFailures_ListsTheFirstRowsAndCountsAll()
    {
        var builder = new ReportBuilder();
        builder.Add(Run(0));
        for (var i = 0; i < 500; i++)
        {
            builder.Add(Sending($"r{i}", 1));
            builder.Add(Result($"r{i}", 1 + (i * 0.01), BatchStatus.Failed, 500, durationMs: i));
        }

        var report = Snapshot(builder);
        var failed = report.Tables.Single(table => table.Status == "Failed");

        Assert.Equal(ReportBuilder.MaxRows, failed.Rows.Count);
        Assert.Equal(500, failed.Total);
        Assert.Equal("r0", failed.Rows[0].Id);
        Assert.Equal(ReportBuilder.SlowestCount, report.Slowest.Count);
        Assert.Equal(TimeSpan.FromMilliseconds(499), report.Slowest[0].Duration);
    }

    [Fact]
    public void Timeline_LongBatch_KeepsItsBucketsAndEveryCount()
    {
        var timeline = new Timeline();
        timeline.Begin(T0);
        for (var second = 0; second < 100_000; second += 7)
        {
            timeline.Completion(T0.AddSeconds(second), failed: second % 2 == 0);
        }

        var points = timeline.Points();

        Assert.InRange(points.Count, Timeline.Capacity / 2, Timeline.Capacity);
        Assert.Equal((100_000 + 6) / 7, points.Sum(point => point.Completions));
        // 100 ms doubled until 512 buckets cover 100,000 s.
        Assert.Equal(TimeSpan.FromMilliseconds(100 * 2048), timeline.BucketWidth);
        Assert.True(points.Zip(points.Skip(1)).All(pair => pair.Second.Start - pair.First.Start == timeline.BucketWidth));
    }

    [Fact]
    public void Timeline_RecordInFlightAcrossBuckets_IsSpreadByTime()
    {
        var timeline = new Timeline();
        timeline.Begin(T0);
        timeline.InFlight(T0.AddMilliseconds(50), T0.AddMilliseconds(250));
        timeline.Completion(T0.AddMilliseconds(300), failed: false);

        var points = timeline.Points();

        Assert.Equal([0.5, 1.0, 0.5, 0.0], points.Take(4).Select(point => Math.Round(point.InFlight, 3)));
    }

    [Fact]
    public void WriteHtml_Journal_IsOnePageWithThreeChartsAndNoOutsideReference()
    {
        var builder = new ReportBuilder();
        builder.Add(Run(0));
        builder.Add(new JournalEntry { Event = JournalEvent.Limit, Time = T0.AddSeconds(1), Host = "api:443", PreviousLimit = 10, Limit = 8 });
        builder.Add(new JournalEntry { Event = JournalEvent.Pause, Time = T0.AddSeconds(1), Host = "api:443", ResumeAt = T0.AddSeconds(2) });
        builder.Add(Sending("<a&b>", 1));
        builder.Add(Result("<a&b>", 3, BatchStatus.Throttled, 429, attempts: 4));
        var html = new StringWriter();

        builder.WriteHtml(html, "night.ndjson", T0);

        var text = html.ToString();
        Assert.Equal(3, text.Split("<svg").Length - 1);
        Assert.DoesNotContain("<?xml", text);
        Assert.DoesNotContain("<a&b>", text);
        Assert.Contains("&lt;a&amp;b&gt;", text);
        Assert.DoesNotMatch(@"(?i)\b(src|href)\s*=|url\(\s*[^#\s]", text);
        Assert.Equal(text.Split("id=\"").Length - 1, text.Split("id=\"").Skip(1).Select(rest => rest[..rest.IndexOf('"')]).Distinct().Count());
    }

    private static ReportData Snapshot(ReportBuilder builder)
    {
        builder.WriteHtml(StreamWriter.Null, "test", T0);
        return builder.Snapshot("test", T0);
    }

    private static JournalEntry Run(double seconds) => new() { Event = JournalEvent.Run, Time = T0.AddSeconds(seconds), BatchId = "b" };

    private static JournalEntry Sending(string id, double seconds) =>
        new() { Event = JournalEvent.Sending, Time = T0.AddSeconds(seconds), Id = id, Method = "POST", Uri = $"http://api/{id}?key=***" };

    // A result a run decided without sending: no attempt, no times.
    private static JournalEntry NotSent(string id, double seconds, BatchStatus status) =>
        new() { Event = JournalEvent.Result, Time = T0.AddSeconds(seconds), Id = id, Method = "POST", Uri = $"http://api/{id}", Status = status, Attempts = 0 };

    private static JournalEntry Result(string id, double seconds, BatchStatus status, int code, int attempts = 1, double durationMs = 500) => new()
    {
        Event = JournalEvent.Result,
        Time = T0.AddSeconds(seconds),
        Id = id,
        Method = "POST",
        Uri = $"http://api/{id}",
        Status = status,
        StatusCode = code,
        Attempts = attempts,
        ErrorKind = status == BatchStatus.Succeeded ? ErrorKind.None : ErrorKind.HttpStatus,
        StartTime = T0.AddSeconds(seconds).AddMilliseconds(-durationMs),
        Duration = TimeSpan.FromMilliseconds(durationMs),
    };

    private string Write(params string[] lines)
    {
        var path = Path.Combine(_directory, Guid.NewGuid().ToString("N") + ".ndjson");
        File.WriteAllText(path, string.Join("\n", lines) + "\n", new UTF8Encoding(false));
        return path;
    }

    private string WriteEntries(params JournalEntry[] entries)
    {
        var lines = entries.Select(entry =>
        {
            var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer))
            {
                entry.WriteTo(json);
            }

            return Encoding.UTF8.GetString(buffer.ToArray());
        });
        return Write(lines.ToArray());
    }
}
