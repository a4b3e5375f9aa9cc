using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Resources;

namespace BatchRequest.Engine.Report;

/// <summary>
/// Writes a report as one HTML page that opens offline: its style inline, its charts inline SVG, no script, and no
/// reference to any other file or address. Every text from the source is HTML-encoded.
/// </summary>
internal static class ReportPage
{
    private const string Style = """
        body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:24px;color:#222;max-width:1000px}
        h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
        .meta{color:#666;font-size:13px}table{border-collapse:collapse;font-size:13px;margin:8px 0}
        th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}th{background:#f4f4f4}
        td.n{text-align:right;font-variant-numeric:tabular-nums}.uri{word-break:break-all}.more{color:#666;font-size:13px}
        .chart{margin:12px 0}.chart svg{display:block;max-width:100%;height:auto}
        """;

    public static void Write(TextWriter html, ReportData data)
    {
        html.Write("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        html.Write($"<title>{E(Text.Format(Messages.ReportTitle, data.Source))}</title>\n<style>{Style}</style>\n</head>\n<body>\n");
        html.Write($"<h1>{E(Text.Format(Messages.ReportTitle, data.Source))}</h1>\n");
        html.Write($"<p class=\"meta\">{E(Text.Format(Messages.ReportGenerated, Time(data.Generated)))}</p>\n");
        WriteSummary(html, data);
        WriteRuns(html, data);

        html.Write($"<h2>{E(Messages.ReportTimelineHeading)}</h2>\n");
        if (data.Timeline.Count == 0)
        {
            html.Write($"<p>{E(Messages.ReportNothingToDraw)}</p>\n");
        }
        else
        {
            html.Write($"<p class=\"meta\">{E(Text.Format(Messages.ReportBucketWidth, Seconds(data.BucketWidth)))}</p>\n");
            Chart(html, "throughput", ReportCharts.Throughput(data));
            Chart(html, "concurrency", ReportCharts.Concurrency(data));
        }

        html.Write($"<h2>{E(Messages.ReportLatencyHeading)}</h2>\n");
        if (data.Latency.Count == 0)
        {
            html.Write($"<p>{E(Messages.ReportNothingToDraw)}</p>\n");
        }
        else
        {
            Chart(html, "latency", ReportCharts.Latency(data));
        }

        foreach (var table in data.Tables)
        {
            html.Write($"<h2>{E(Text.Format(Messages.ReportRecordsHeading, table.Status, table.Total))}</h2>\n");
            WriteRecords(html, table.Rows, table.Total, withDuration: false);
        }

        html.Write($"<h2>{E(Text.Format(Messages.ReportSlowestHeading, data.Slowest.Count))}</h2>\n");
        WriteRecords(html, data.Slowest, data.Slowest.Count, withDuration: true);
        html.Write("</body>\n</html>\n");
    }

    private static void WriteSummary(TextWriter html, ReportData data)
    {
        html.Write($"<h2>{E(Messages.ReportSummaryHeading)}</h2>\n<table id=\"summary\">\n");
        Pair(html, "records", Messages.ReportRecords, Count(data.Records));
        foreach (var (status, count) in data.ByStatus)
        {
            Pair(html, "status-" + status, Text.Format(Messages.ReportStatus, status), Count(count));
        }

        if (data.NoOutcome > 0)
        {
            Pair(html, "no-outcome", Messages.ReportNoOutcomeCount, Count(data.NoOutcome));
        }

        foreach (var (code, count) in data.ByStatusCode)
        {
            Pair(html, "code-" + code.ToString(CultureInfo.InvariantCulture), Text.Format(Messages.ReportStatusCode, code), Count(count));
        }

        Pair(html, "results", Messages.ReportResults, Count(data.Results));
        Pair(html, "retries", Messages.ReportRetries, Count(data.Retries));
        Pair(html, "elapsed", Messages.ReportElapsed, Seconds(data.Elapsed));
        Pair(html, "rate", Messages.ReportRate, data.RecordsPerSecond.ToString("N1", CultureInfo.InvariantCulture));
        Pair(html, "p50", Messages.ReportP50, Milliseconds(data.P50));
        Pair(html, "p95", Messages.ReportP95, Milliseconds(data.P95));
        Pair(html, "p99", Messages.ReportP99, Milliseconds(data.P99));
        Pair(html, "pauses", Messages.ReportPauses, Count(data.Pauses));
        Pair(html, "paused", Messages.ReportPausedTotal, Seconds(data.PausedTotal));
        if (data.LimitChanges > 0)
        {
            Pair(html, "limit-changes", Messages.ReportLimit, Count(data.LimitChanges));
            Pair(html, "limit-range", Messages.ReportLimitRange, Text.Format(Messages.ReportLimitRangeValue, data.LimitLowest, data.LimitHighest));
        }

        html.Write("</table>\n");
    }

    private static void WriteRuns(TextWriter html, ReportData data)
    {
        html.Write($"<h2>{E(Text.Format(Messages.ReportRunsHeading, data.RunCount))}</h2>\n<table id=\"runs\">\n<tr>");
        foreach (var heading in new[] { Messages.ReportColumnRun, Messages.ReportColumnStart, Messages.ReportColumnDuration, Messages.ReportColumnSent, Messages.ReportColumnOutcomes, Messages.ReportColumnInFlightAtEnd })
        {
            html.Write($"<th>{E(heading)}</th>");
        }

        html.Write("</tr>\n");
        foreach (var run in data.Runs)
        {
            var outcomes = string.Join(", ", run.ByStatus.OrderBy(pair => pair.Key).Select(pair => $"{pair.Key} {Count(pair.Value)}"));
            html.Write($"<tr class=\"run\" data-run=\"{run.Number}\"><td class=\"n\">{run.Number}</td><td>{E(run.Start == DateTimeOffset.MinValue ? string.Empty : Time(run.Start))}</td>");
            html.Write($"<td class=\"n\">{E(Seconds(run.Duration))}</td><td class=\"n\">{Count(run.Sent)}</td><td>{E(outcomes)}</td><td class=\"n\">{Count(run.InFlightAtEnd)}</td></tr>\n");
        }

        html.Write("</table>\n");
        More(html, data.RunCount - data.Runs.Count);
    }

    private static void WriteRecords(TextWriter html, IReadOnlyList<ReportRow> rows, long total, bool withDuration)
    {
        if (rows.Count == 0)
        {
            html.Write($"<p>{E(Messages.ReportNone)}</p>\n");
            return;
        }

        html.Write("<table class=\"records\">\n<tr>");
        var headings = new List<string> { Messages.ReportColumnId, Messages.ReportColumnMethod, Messages.ReportColumnUri, Messages.ReportColumnStatusCode, Messages.ReportColumnError, Messages.ReportColumnRun };
        if (withDuration)
        {
            headings.Insert(3, Messages.ReportColumnDuration);
            headings.Insert(3, Messages.ReportColumnStatus);
        }

        foreach (var heading in headings)
        {
            html.Write($"<th>{E(heading)}</th>");
        }

        html.Write("</tr>\n");
        foreach (var row in rows)
        {
            html.Write($"<tr class=\"record\"><td>{E(row.Id)}</td><td>{E(row.Method)}</td><td class=\"uri\">{E(row.Uri)}</td>");
            if (withDuration)
            {
                html.Write($"<td>{E(row.Status.ToString())}</td><td class=\"n\">{E(row.Duration is { } took ? Milliseconds(took) : string.Empty)}</td>");
            }

            html.Write($"<td class=\"n\">{row.StatusCode?.ToString(CultureInfo.InvariantCulture)}</td><td>{E(row.Error)}</td><td class=\"n\">{row.Run}</td></tr>\n");
        }

        html.Write("</table>\n");
        More(html, total - rows.Count);
    }

    private static void Chart(TextWriter html, string name, string svg) =>
        html.Write($"<div class=\"chart\" id=\"chart-{name}\">\n{svg}\n</div>\n");

    private static void Pair(TextWriter html, string key, string label, string value) =>
        html.Write($"<tr data-key=\"{E(key)}\"><th>{E(label)}</th><td class=\"n\">{E(value)}</td></tr>\n");

    private static void More(TextWriter html, long rest)
    {
        if (rest > 0)
        {
            html.Write($"<p class=\"more\">{E(Text.Format(Messages.ReportMore, Count(rest)))}</p>\n");
        }
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string Count(long count) => count.ToString("N0", CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("N1", CultureInfo.InvariantCulture) + " s";

    private static string Milliseconds(TimeSpan span) => span.TotalMilliseconds.ToString("N1", CultureInfo.InvariantCulture) + " ms";

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
}
