using System.Text;
using BatchRequest.Engine.Journal;
using BatchRequest.Engine.Requests;
using BatchRequest.Engine.Security;
using BatchRequest.Engine.Sending;
using BatchRequest.Model.Requests;
using BatchRequest.Model.Results;

namespace BatchRequest.Tests.Engine;

public sealed class JournalResumeTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("batchrequest-resume-").FullName;

    // How the run under test keys its records, as its sender would.
    private RecordIdentity _identity = new(null, false, string.Empty);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("Succeeded", "POST", false, BatchStatus.Skipped)]
    [InlineData("in flight", "POST", false, BatchStatus.OutcomeUnknown)]
    [InlineData("in flight", "PATCH", false, BatchStatus.OutcomeUnknown)]
    [InlineData("in flight", "POST", true, null)]
    [InlineData("in flight, sent without a key", "POST", true, BatchStatus.OutcomeUnknown)]
    [InlineData("in flight", "GET", false, null)]
    [InlineData("Canceled", "POST", false, BatchStatus.OutcomeUnknown)]
    [InlineData("OutcomeUnknown", "POST", false, BatchStatus.OutcomeUnknown)]
    [InlineData("OutcomeUnknown", "POST", true, null)]
    [InlineData("OutcomeUnknown, sent without a key", "POST", true, BatchStatus.OutcomeUnknown)]
    [InlineData("Failed", "POST", false, null)]
    [InlineData("Throttled", "POST", false, null)]
    [InlineData("NotSent", "POST", false, null)]
    [InlineData("never seen", "POST", false, null)]
    public void BeforeSend_Resumed_DecidesByWhatTheJournalSays(string journal, string method, bool keyed, BatchStatus? expected)
    {
        var record = Record("a", method);
        var lines = new List<string> { RunLine("b1") };
        var state = journal.Split(',')[0];

        // A keyed run journals the key it sent; the rerun may resend only under that same key.
        var sentKey = keyed && !journal.EndsWith("sent without a key", StringComparison.Ordinal) ? IdempotencyKeys.Derive("b1", record.Id) : null;
        if (state != "never seen")
        {
            lines.Add(SendingLine(record, sentKey));
        }

        if (state is not ("never seen" or "in flight"))
        {
            lines.Add(ResultLine(record, Enum.Parse<BatchStatus>(state)));
        }

        using var run = Resume(lines, keyed ? "Idempotency-Key" : null);

        var decided = run.BeforeSend(_identity.Prepare(record));

        Assert.Equal(expected, decided?.Outcome);
        Assert.Equal(0, decided?.Attempts ?? 0);
    }

    [Fact]
    public void BeforeSend_UnknownOnceThenFailedOnResend_StaysUnknownWithoutAKey()
    {
        var record = Record("a", "POST");
        var lines = new[]
        {
            RunLine("b1"),
            SendingLine(record), ResultLine(record, BatchStatus.OutcomeUnknown),
            SendingLine(record), ResultLine(record, BatchStatus.Failed, 500),
        };
        using var run = Resume(lines);

        Assert.Equal(BatchStatus.OutcomeUnknown, run.BeforeSend(_identity.Prepare(record))?.Outcome);
    }

    [Fact]
    public void BeforeSend_SucceededWithOtherContent_IsSkippedAndSaysItChanged()
    {
        var old = Record("a", "POST", body: "v1");
        var warnings = new List<string>();
        using var run = Resume([RunLine("b1"), SendingLine(old), ResultLine(old, BatchStatus.Succeeded, 201)], warn: warnings.Add);

        var decided = run.BeforeSend(_identity.Prepare(Record("a", "POST", body: "v2")));

        Assert.Equal(BatchStatus.Skipped, decided?.Outcome);
        Assert.NotNull(decided?.Error);
        Assert.Equal(201, decided?.StatusCode);
        Assert.Empty(warnings);
        Assert.Null(run.BeforeSend(_identity.Prepare(old))?.Error);
    }

    [Fact]
    public void BeforeSend_FailedWithOtherContent_IsSentAndWarnedAbout()
    {
        var old = Record("a", "GET", body: "v1");
        var warnings = new List<string>();
        using var run = Resume([RunLine("b1"), SendingLine(old), ResultLine(old, BatchStatus.Failed, 400)], warn: warnings.Add);

        Assert.Null(run.BeforeSend(_identity.Prepare(Record("a", "GET", body: "v2"))));
        Assert.Single(warnings);
    }

    [Fact]
    public void Open_ExistingJournalWithoutResume_IsRefused()
    {
        var path = Journal([RunLine("b1")]);

        var exception = Assert.Throws<JournalException>(() => DurableRun.Open(new DurableRunOptions { JournalPath = path }));

        Assert.Equal(JournalErrorIds.Exists, exception.ErrorId);
    }

    [Fact]
    public void Open_ResumeWithoutJournal_IsRefused()
    {
        var exception = Assert.Throws<JournalException>(() => DurableRun.Open(new DurableRunOptions { Resume = true }));

        Assert.Equal(JournalErrorIds.ResumeRequiresJournal, exception.ErrorId);
    }

    [Fact]
    public void Open_ResumeWithAnotherBatchId_IsRefused()
    {
        var path = Journal([RunLine("b1")]);

        var exception = Assert.Throws<JournalException>(
            () => DurableRun.Open(new DurableRunOptions { JournalPath = path, Resume = true, BatchId = "b2" }));

        Assert.Equal(JournalErrorIds.BatchIdMismatch, exception.ErrorId);
    }

    [Fact]
    public void Open_Resume_KeepsTheJournalsBatchIdAndANewJournalGetsItsOwn()
    {
        using var resumed = Resume([RunLine("b1")]);
        var fresh = Path.Combine(_directory, "fresh.ndjson");
        string first, second;
        using (var run = DurableRun.Open(new DurableRunOptions { JournalPath = fresh, Resume = true }))
        {
            first = run.BatchId;
        }

        using (var run = DurableRun.Open(new DurableRunOptions { JournalPath = fresh, Resume = true }))
        {
            second = run.BatchId;
        }

        Assert.Equal("b1", resumed.BatchId);
        Assert.Matches("^[0-9a-f]{32}$", first);
        Assert.NotEqual(first, second);
        Assert.Equal(string.Empty, DurableRun.Open(new DurableRunOptions()).BatchId);
    }

    [Fact]
    public void Open_JournalHeldByAnotherRun_IsRefusedUntilThatRunEnds()
    {
        var path = Journal([RunLine("b1")]);
        var options = new DurableRunOptions { JournalPath = path, Resume = true };

        using (DurableRun.Open(options))
        {
            var exception = Assert.Throws<JournalException>(() => DurableRun.Open(options));
            Assert.Equal(JournalErrorIds.InUse, exception.ErrorId);
        }

        Assert.False(File.Exists(path + ".lock"));
        using var afterwards = DurableRun.Open(options);
    }

    [Fact]
    public void Record_SentRecord_JournalsSendingAndResultWithTheKeyItWasSentWith()
    {
        var path = Path.Combine(_directory, "new.ndjson");
        var record = Record("a", "POST");
        using (var run = DurableRun.Open(new DurableRunOptions { JournalPath = path, BatchId = "b9" }))
        {
            var outgoing = new RecordIdentity("Idempotency-Key", false, run.BatchId).Prepare(record);
            run.Start();
            Assert.Null(run.BeforeSend(outgoing));
            run.Record(outgoing, new BatchResult(record, BatchStatus.Succeeded) { StatusCode = 201, Attempts = 1, StartTime = DateTimeOffset.UtcNow });
        }

        var entries = JournalReader.Read(path).ToList();

        Assert.Equal([JournalEvent.Run, JournalEvent.Sending, JournalEvent.Result], entries.Select(e => e.Event));
        Assert.Equal("b9", entries[0].BatchId);
        Assert.All(entries.Skip(1), e => Assert.Equal(IdempotencyKeys.Derive("b9", "a"), e.IdempotencyKey));
        Assert.All(entries.Skip(1), e => Assert.Equal(RecordFingerprint.Of(record), e.Fingerprint));
        Assert.Equal((BatchStatus.Succeeded, 201), (entries[2].Status, entries[2].StatusCode));
        Assert.DoesNotContain("secret", File.ReadAllText(path), StringComparison.Ordinal);
    }

    [Fact]
    public void Record_WithFailedPath_WritesOnlyWhatDidNotSucceedAndNoFileWhenAllDid()
    {
        var failed = Path.Combine(_directory, "failed.ndjson");
        File.WriteAllText(failed, "stale");
        var ok = Record("ok", "GET");
        var bad = Record("bad", "POST");
        using (var run = DurableRun.Open(new DurableRunOptions { FailedPath = failed }))
        {
            run.Start();
            Assert.False(File.Exists(failed));
            run.Record(_identity.Prepare(ok), new BatchResult(ok, BatchStatus.Succeeded) { Attempts = 1 });
            Assert.False(File.Exists(failed));
            run.Record(_identity.Prepare(bad), new BatchResult(bad, BatchStatus.OutcomeUnknown) { Attempts = 1 });
            run.Record(_identity.Prepare(ok), new BatchResult(ok, BatchStatus.Skipped));
        }

        var line = Assert.Single(File.ReadAllLines(failed));
        Assert.StartsWith("""{"id":"bad","method":"POST",""", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Record_WithFailedPath_LeavesSecretHeadersOutAndReadsBackAsTheSameRecord()
    {
        var failed = Path.Combine(_directory, "secret-failed.ndjson");
        var bad = new RequestRecord("bad", "POST", new Uri("http://127.0.0.1:9/orders?id=bad"))
        {
            Headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
            {
                ["Authorization"] = "Bearer s3cr3t-a",
                ["Proxy-Authorization"] = "Basic s3cr3t-p",
                ["Cookie"] = "session=s3cr3t-c",
                ["X-Api-Key"] = "s3cr3t-k",
                ["X-Custom-Secret"] = "s3cr3t-x",
                ["X-Tenant"] = "T1",
            },
            Body = "{}",
            ContentType = "application/json",
        };
        using (var run = DurableRun.Open(new DurableRunOptions { FailedPath = failed }, new Redactor(["X-Custom-Secret"])))
        {
            run.Start();
            run.Record(_identity.Prepare(bad), new BatchResult(bad, BatchStatus.Failed) { Attempts = 1 });
        }

        var text = File.ReadAllText(failed);
        Assert.DoesNotContain("s3cr3t", text, StringComparison.Ordinal);
        var again = Assert.Single(RequestFileReader.Read(failed, new RecordReadOptions()));
        Assert.Equal(("bad", "POST", bad.Uri, "{}"), (again.Id, again.Method, again.Uri, again.Body));
        Assert.Equal(["X-Tenant"], again.Headers.Keys);
        Assert.Equal("T1", again.Headers["X-Tenant"]);
    }

    [Fact]
    public void Record_FailedPathUnwritable_FaultsOnceAndNothingMoreIsSent()
    {
        var faults = new List<Exception>();
        var folder = Directory.CreateDirectory(Path.Combine(_directory, "gone")).FullName;
        using var run = DurableRun.Open(new DurableRunOptions { FailedPath = Path.Combine(folder, "failed.ndjson") }, onFault: faults.Add);
        run.Start();
        Directory.Delete(folder);

        run.Record(_identity.Prepare(Record("a", "GET")), new BatchResult(Record("a", "GET"), BatchStatus.Failed) { Attempts = 1 });
        run.Record(_identity.Prepare(Record("b", "GET")), new BatchResult(Record("b", "GET"), BatchStatus.Failed) { Attempts = 1 });
        var next = run.BeforeSend(_identity.Prepare(Record("c", "GET")));

        var fault = Assert.IsType<JournalException>(Assert.Single(faults));
        Assert.Equal(JournalErrorIds.Unwritable, fault.ErrorId);
        Assert.Same(fault, run.Fault);
        Assert.Equal(BatchStatus.NotSent, next?.Outcome);
    }

    [Theory]
    [InlineData("Succeeded", BatchStatus.Skipped, BatchStatus.Skipped)]
    [InlineData("in flight", BatchStatus.OutcomeUnknown, BatchStatus.OutcomeUnknown)]
    [InlineData("in flight", BatchStatus.NotSent, BatchStatus.OutcomeUnknown)]
    [InlineData("Failed", BatchStatus.NotSent, null)]
    [InlineData("never sent", BatchStatus.NotSent, null)]
    public void BeforeSend_ALaterRunsResultWithoutItsOwnSend_LeavesTheDecision(string before, BatchStatus later, BatchStatus? expected)
    {
        var record = Record("a", "POST");
        var lines = new List<string> { RunLine("b1") };
        if (before != "never sent")
        {
            lines.Add(SendingLine(record));
        }

        if (before is "Succeeded" or "Failed")
        {
            lines.Add(ResultLine(record, Enum.Parse<BatchStatus>(before)));
        }

        // The next run decided the record without sending it, as a resume or a stop does.
        lines.Add(RunLine("b1"));
        lines.Add(ResultLine(record, later, attempts: 0));
        using var run = Resume(lines);

        Assert.Equal(expected, run.BeforeSend(_identity.Prepare(record))?.Outcome);
    }

    [Fact]
    public void Record_ResultsDecidedWithoutSending_AreJournaledToo()
    {
        var done = Record("done", "POST");
        var unknown = Record("unknown", "POST");
        var path = Journal([RunLine("b1"), SendingLine(done), ResultLine(done, BatchStatus.Succeeded, 201), SendingLine(unknown)]);
        var stopped = Record("stopped", "GET");
        using (var run = DurableRun.Open(new DurableRunOptions { JournalPath = path, Resume = true }))
        {
            run.Start();
            foreach (var record in new[] { done, unknown })
            {
                var outgoing = _identity.Prepare(record);
                run.Record(outgoing, Assert.IsType<BatchResult>(run.BeforeSend(outgoing)));
            }

            // Queued when the batch stopped: never offered to BeforeSend.
            run.Record(_identity.Prepare(stopped), new BatchResult(stopped, BatchStatus.NotSent) { Kind = ErrorKind.Canceled });
        }

        var lastRun = JournalReader.Read(path).SkipWhile(entry => entry.Line < 5).ToList();

        Assert.Equal(JournalEvent.Run, lastRun[0].Event);
        Assert.Equal(
            [("done", BatchStatus.Skipped, 0), ("unknown", BatchStatus.OutcomeUnknown, 0), ("stopped", BatchStatus.NotSent, 0)],
            lastRun.Skip(1).Select(entry => (entry.Id!, entry.Status!.Value, entry.Attempts!.Value)));
        Assert.All(lastRun.Skip(1), entry => Assert.Equal(JournalEvent.Result, entry.Event));
    }

    [Fact]
    public void CheckSource_FailedPathIsTheRequestFile_IsRefusedBeforeAnythingIsRemoved()
    {
        var source = Path.Combine(_directory, "orders.ndjson");
        File.WriteAllText(source, "{}");
        using var run = DurableRun.Open(new DurableRunOptions { FailedPath = Path.Combine(_directory, ".", "orders.ndjson") });

        run.CheckSource(Path.Combine(_directory, "other.ndjson"));
        var exception = Assert.Throws<JournalException>(() => run.CheckSource(source));

        Assert.Equal(JournalErrorIds.FailedIsRequestFile, exception.ErrorId);
        Assert.Contains(source, exception.Message, StringComparison.Ordinal);
        Assert.Equal("{}", File.ReadAllText(source));
    }

    private DurableRun Resume(IEnumerable<string> lines, string? keyHeader = null, Action<string>? warn = null)
    {
        var run = DurableRun.Open(new DurableRunOptions { JournalPath = Journal(lines), Resume = true }, warn: warn);
        _identity = new RecordIdentity(keyHeader, false, run.BatchId);
        run.Start();
        return run;
    }

    private string Journal(IEnumerable<string> lines)
    {
        var path = Path.Combine(_directory, $"{Guid.NewGuid():N}.ndjson");
        File.WriteAllText(path, string.Join("\n", lines) + "\n", new UTF8Encoding(false));
        return path;
    }

    private static RequestRecord Record(string id, string method, string body = "{}") =>
        new(id, method, new Uri($"http://127.0.0.1:9/orders?id={id}"))
        {
            Headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["Authorization"] = "Bearer secret" },
            Body = body,
            ContentType = "application/json",
        };

    private static string RunLine(string batchId) => $$"""{"event":"run","time":"2025-01-01T00:00:00Z","batchId":"{{batchId}}"}""";

    private static string SendingLine(RequestRecord record, string? idempotencyKey = null) =>
        $$"""{"event":"sending","time":"2025-01-01T00:00:01Z","id":"{{record.Id}}","fingerprint":"{{RecordFingerprint.Of(record)}}","method":"{{record.Method}}"{{(idempotencyKey is null ? "" : $",\"idempotencyKey\":\"{idempotencyKey}\"")}}}""";

    private static string ResultLine(RequestRecord record, BatchStatus status, int? statusCode = null, int attempts = 1) =>
        $$"""{"event":"result","time":"2025-01-01T00:00:02Z","id":"{{record.Id}}","fingerprint":"{{RecordFingerprint.Of(record)}}","status":"{{status}}"{{(statusCode is { } code ? $",\"statusCode\":{code}" : "")}},"attempts":{{attempts}}}""";

    [Fact]
    public void BeforeSend_SendLeftOpenByAKillThenResentAndFailed_StaysUnknownWithoutAKey()
    {
        var record = Record("a", "POST");
        var key = IdempotencyKeys.Derive("b1", record.Id);
        var lines = new[]
        {
            RunLine("b1"),
            SendingLine(record, key),
            RunLine("b1"),
            SendingLine(record, key), ResultLine(record, BatchStatus.Failed, 500),
        };
        using var run = Resume(lines);

        Assert.Equal(BatchStatus.OutcomeUnknown, run.BeforeSend(_identity.Prepare(record))?.Outcome);
    }
}

