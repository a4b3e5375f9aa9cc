using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using BatchRequest.Engine.Common;
using BatchRequest.Engine.Resources;
using OxyPlot;
using OxyPlot.Annotations;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace BatchRequest.Engine.Report;

/// <summary>
/// The report's charts as OxyPlot models, exported to SVG fragments for inlining: the library's own exporter and its
/// own text measurer, in managed code, so a chart needs no font file, no native library and nothing outside the page.
/// </summary>
internal static partial class ReportCharts
{
    public const int Width = 960;
    private const int TimelineHeight = 300;
    private const int HistogramHeight = 280;

    // Runs marked on a timeline at most; more lines would hide the data.
    private const int MaxRunMarks = 20;

    private static readonly OxyColor Completions = OxyColor.FromRgb(0x1f, 0x77, 0xb4);
    private static readonly OxyColor Failures = OxyColor.FromRgb(0xd6, 0x27, 0x28);
    private static readonly OxyColor Retries = OxyColor.FromRgb(0xff, 0x7f, 0x0e);
    private static readonly OxyColor InFlight = OxyColor.FromRgb(0x2c, 0xa0, 0x2c);
    private static readonly OxyColor PauseFill = OxyColor.FromAColor(60, OxyColor.FromRgb(0x94, 0x67, 0xbd));
    private static readonly OxyColor[] LimitColors =
    {
        OxyColor.FromRgb(0x8c, 0x56, 0x4b), OxyColor.FromRgb(0xe3, 0x77, 0xc2), OxyColor.FromRgb(0x7f, 0x7f, 0x7f), OxyColor.FromRgb(0xbc, 0xbd, 0x22),
    };

    /// <summary>Completions, failures and retries per second over the batch.</summary>
    public static string Throughput(ReportData data)
    {
        var model = TimelineModel(data, Messages.ReportChartThroughput, Messages.ReportAxisPerSecond);
        model.Series.Add(Line(Messages.ReportSeriesCompletions, Completions, data.Timeline.Select(point => (point, point.PerSecond(point.Completions)))));
        model.Series.Add(Line(Messages.ReportSeriesFailures, Failures, data.Timeline.Select(point => (point, point.PerSecond(point.Failures)))));
        model.Series.Add(Line(Messages.ReportSeriesRetries, Retries, data.Timeline.Select(point => (point, point.PerSecond(point.Retries)))));
        return Svg(model, TimelineHeight, "throughput");
    }

    /// <summary>Records in flight, each host's adaptive limit, and the hosts' Retry-After pauses, over the batch.</summary>
    public static string Concurrency(ReportData data)
    {
        var model = TimelineModel(data, Messages.ReportChartConcurrency, Messages.ReportAxisRecords);
        model.Series.Add(Line(Messages.ReportSeriesInFlight, InFlight, data.Timeline.Select(point => (point, point.InFlight))));
        for (var host = 0; host < data.LimitHosts.Count; host++)
        {
            var line = host;
            var limit = new StairStepSeries
            {
                Title = Text.Format(Messages.ReportSeriesLimit, data.LimitHosts[line]),
                Color = LimitColors[line % LimitColors.Length],
                StrokeThickness = 1.5,
                VerticalStrokeThickness = 1.5,
            };
            limit.Points.AddRange(data.Timeline.Select(point => new DataPoint(X(point.Start), point.Limits[line])));
            model.Series.Add(limit);
        }

        // A band for each stretch of buckets in which a host was paused.
        foreach (var (from, to) in PausedStretches(data.Timeline))
        {
            model.Annotations.Add(new RectangleAnnotation
            {
                MinimumX = X(from),
                MaximumX = X(to),
                Fill = PauseFill,
                Layer = AnnotationLayer.BelowSeries,
            });
        }

        if (data.Pauses > 0)
        {
            // Annotations have no legend entry; an empty series of the band's colour gives them one.
            model.Series.Add(new AreaSeries { Title = Messages.ReportSeriesPaused, Fill = PauseFill, Color = PauseFill });
        }

        return Svg(model, TimelineHeight, "concurrency");
    }

    /// <summary>How many records took how long, on a logarithmic scale of milliseconds.</summary>
    public static string Latency(ReportData data)
    {
        var model = NewModel(Messages.ReportChartLatency);
        model.Axes.Add(new LogarithmicAxis { Position = AxisPosition.Bottom, Title = Messages.ReportAxisMilliseconds, MajorGridlineStyle = LineStyle.Dot });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = Messages.ReportAxisRecordCount, Minimum = 0, MajorGridlineStyle = LineStyle.Dot });
        var histogram = new HistogramSeries { FillColor = Completions, StrokeColor = OxyColors.White, StrokeThickness = 0.5 };
        foreach (var (from, to, count) in data.Latency)
        {
            // The first bin starts at zero, which a logarithmic axis cannot show: it starts at 1 µs instead.
            var start = Math.Max(from.TotalMilliseconds, 0.001);
            var end = to.TotalMilliseconds;
            histogram.Items.Add(new HistogramItem(start, end, count * (end - start), (int)Math.Min(count, int.MaxValue)));
        }

        model.Series.Add(histogram);
        return Svg(model, HistogramHeight, "latency");
    }

    private static PlotModel TimelineModel(ReportData data, string title, string yTitle)
    {
        var model = NewModel(title);
        model.Axes.Add(new DateTimeAxis
        {
            Position = AxisPosition.Bottom,
            Title = Messages.ReportAxisTime,
            // Tenths of a second where the whole batch took less than a minute, or every label would read the same.
            StringFormat = data.Timeline.Count > 0 && data.Timeline[^1].Start - data.Timeline[0].Start < TimeSpan.FromMinutes(1) ? "HH:mm:ss.f" : "HH:mm:ss",
            MajorGridlineStyle = LineStyle.Dot,
        });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = yTitle, Minimum = 0, MinimumRange = 1, MajorGridlineStyle = LineStyle.Dot });
        foreach (var run in data.Runs.Where(run => run.Start != DateTimeOffset.MinValue).Take(MaxRunMarks))
        {
            model.Annotations.Add(new LineAnnotation
            {
                Type = LineAnnotationType.Vertical,
                X = X(run.Start),
                Color = OxyColors.Gray,
                LineStyle = LineStyle.Dash,
                Text = Text.Format(Messages.ReportRunMark, run.Number),
                TextOrientation = AnnotationTextOrientation.Horizontal,
            });
        }

        return model;
    }

    private static PlotModel NewModel(string title)
    {
        var model = new PlotModel
        {
            Title = title,
            TitleFontSize = 14,
            DefaultFontSize = 11,
            Culture = CultureInfo.InvariantCulture,

            // The measurer knows Helvetica's widths, which Arial and its stand-ins share.
            DefaultFont = "Arial",
            Background = OxyColors.White,
        };
        model.Legends.Add(new Legend
        {
            LegendPosition = LegendPosition.TopRight,
            LegendPlacement = LegendPlacement.Inside,
            LegendBackground = OxyColor.FromAColor(220, OxyColors.White),
            LegendBorder = OxyColors.LightGray,
        });
        return model;
    }

    private static LineSeries Line(string title, OxyColor color, IEnumerable<(TimelinePoint Point, double Value)> values)
    {
        var series = new LineSeries { Title = title, Color = color, StrokeThickness = 1.5 };
        series.Points.AddRange(values.Select(value => new DataPoint(X(value.Point.Middle), value.Value)));
        return series;
    }

    private static IEnumerable<(DateTimeOffset From, DateTimeOffset To)> PausedStretches(IReadOnlyList<TimelinePoint> timeline)
    {
        DateTimeOffset? from = null;
        foreach (var point in timeline)
        {
            if (point.HostsPaused > 0)
            {
                from ??= point.Start;
            }
            else if (from is { } start)
            {
                yield return (start, point.Start);
                from = null;
            }
        }

        if (from is { } open)
        {
            var last = timeline[^1];
            yield return (open, last.Start + last.Span);
        }
    }

    private static double X(DateTimeOffset time) => DateTimeAxis.ToDouble(time.UtcDateTime);

    // Each export numbers its clip paths from 1: the chart's name keeps the ids of several charts in one page apart.
    // The XML declaration, which the exporter writes even for a fragment, has no place inside HTML.
    private static string Svg(PlotModel model, int height, string name)
    {
        var svg = new SvgExporter { Width = Width, Height = height, IsDocument = false }.ExportToString(model);
        return XmlDeclaration().Replace(svg, string.Empty)
            .Replace("id=\"clipPath", $"id=\"{name}-clip", StringComparison.Ordinal)
            .Replace("url(#clipPath", $"url(#{name}-clip", StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^\s*<\?xml[^>]*\?>\s*")]
    private static partial Regex XmlDeclaration();
}
