using System.Globalization;

namespace Butterfly.Plotting;

/// <summary>One line of the chart: a stage's throughput over time.</summary>
internal sealed record PlotSeries(string Name, Rgb Colour, IReadOnlyList<(double Seconds, double Value)> Points);

/// <summary>A moment of the scenario, drawn as a numbered dashed line and listed under the chart.</summary>
internal sealed record PlotEvent(double Seconds, string Label);

/// <summary>
/// The throughput-over-time chart of a demo run: one line per stage, the scenario's events as
/// numbered markers, so a reader sees the dip when intermediate2 freezes and the recovery.
/// </summary>
internal static class ThroughputPlot
{
    private const int Width = 1100;
    private const int Left = 78;
    private const int Right = Width - 24;
    private const int Top = 44;
    private const int Bottom = 380;

    /// <summary>The delay panel under the throughput panel.</summary>
    private const int DelayTop = Bottom + 40;
    private const int DelayBottom = DelayTop + 110;

    private static readonly Rgb Ink = new(40, 40, 40);
    private static readonly Rgb Grid = new(225, 225, 225);
    private static readonly Rgb Marker = new(200, 30, 30);

    /// <param name="delay">The worst end-to-end delay per sample (ms), drawn in a panel of its own under the throughput.</param>
    internal static void Write(string path, string title, IReadOnlyList<PlotSeries> series, PlotSeries delay, IReadOnlyList<PlotEvent> events, double endSeconds)
    {
        int keyRows = (events.Count + 1) / 2;
        int height = DelayBottom + 84 + (keyRows * (Canvas.TextHeight + 4)) + 12;
        var canvas = new Canvas(Width, height, Rgb.White);
        canvas.Text(Left, 6, title, Ink);

        double xMax = Math.Max(1, endSeconds);
        int X(double seconds) => Left + (int)Math.Round((Right - Left) * Math.Clamp(seconds / xMax, 0, 1));
        DrawPanel(canvas, Top, Bottom, "messages/s", series, X, events);
        DrawPanel(canvas, DelayTop, DelayBottom, "worst delay, ms", [delay], X, events);
        DrawTimeAxis(canvas, xMax, X);
        DrawLegend(canvas, [.. series, delay], DelayBottom + 40);
        DrawEventKey(canvas, events, DelayBottom + 64);

        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            System.IO.Directory.CreateDirectory(directory);
        }

        using FileStream file = File.Create(path);
        canvas.WritePng(file);
    }

    /// <summary>One chart area: grid, value labels, event markers, lines, frame.</summary>
    private static void DrawPanel(Canvas canvas, int top, int bottom, string unit, IReadOnlyList<PlotSeries> series, Func<double, int> x, IReadOnlyList<PlotEvent> events)
    {
        double yMax = NiceCeiling(series.SelectMany(s => s.Points).Select(p => p.Value).DefaultIfEmpty(1).Max() * 1.08);
        double Y(double value) => bottom - ((bottom - top) * Math.Clamp(value / yMax, 0, 1));
        double yStep = NiceStep(yMax / ((bottom - top) / 60.0));
        for (double value = 0; value <= yMax + (yStep / 2); value += yStep)
        {
            int row = (int)Math.Round(Y(value));
            canvas.FillRectangle(Left + 1, row, Right - Left - 1, 1, Grid);
            string label = Compact(value);
            canvas.Text(Left - 8 - Canvas.TextWidth(label), row - (Canvas.TextHeight / 2), label, Ink);
        }

        canvas.Text(8, top - 18, unit, Ink);
        DrawEvents(canvas, events, x, top, bottom, numbered: top == Top);
        foreach (PlotSeries line in series)
        {
            for (int i = 1; i < line.Points.Count; i++)
            {
                (double t0, double v0) = line.Points[i - 1];
                (double t1, double v1) = line.Points[i];
                canvas.Line(x(t0), Y(v0), x(t1), Y(v1), line.Colour);
            }
        }

        canvas.StrokeRectangle(Left, top, Right - Left + 1, bottom - top + 1, Ink);
    }

    private static void DrawTimeAxis(Canvas canvas, double xMax, Func<double, int> x)
    {
        double xStep = NiceStep(xMax / 12);
        for (double seconds = 0; seconds <= xMax + 1e-9; seconds += xStep)
        {
            int column = x(seconds);
            canvas.VerticalLine(column, DelayBottom, DelayBottom + 4, Ink);
            string label = seconds.ToString("0.##", CultureInfo.InvariantCulture);
            canvas.Text(column - (Canvas.TextWidth(label) / 2), DelayBottom + 8, label, Ink);
        }

        const string XLabel = "seconds since GO";
        canvas.Text(Right - Canvas.TextWidth(XLabel), DelayBottom + 22, XLabel, Ink);
    }

    private static void DrawEvents(Canvas canvas, IReadOnlyList<PlotEvent> events, Func<double, int> x, int top, int bottom, bool numbered)
    {
        var lastNumberEnd = new Dictionary<int, int>();
        for (int i = 0; i < events.Count; i++)
        {
            int column = x(events[i].Seconds);
            canvas.VerticalLine(column, top + 1, bottom - 1, Marker, dash: 4);
            if (!numbered)
            {
                continue;
            }

            // Numbers of events close together go on separate rows so they stay readable.
            string number = (i + 1).ToString(CultureInfo.InvariantCulture);
            int row = 0;
            while (lastNumberEnd.TryGetValue(row, out int end) && end > column - (Canvas.TextWidth(number) / 2))
            {
                row++;
            }

            int left = column - (Canvas.TextWidth(number) / 2);
            int numberTop = top + 3 + (row * (Canvas.TextHeight + 2));
            canvas.FillRectangle(left - 2, numberTop, Canvas.TextWidth(number) + 4, Canvas.TextHeight, Rgb.White);
            canvas.Text(left, numberTop, number, Marker);
            lastNumberEnd[row] = left + Canvas.TextWidth(number) + 4;
        }
    }

    private static void DrawLegend(Canvas canvas, IEnumerable<PlotSeries> series, int top)
    {
        int pen = Left;
        foreach (PlotSeries line in series)
        {
            canvas.FillRectangle(pen, top + (Canvas.TextHeight / 2) - 1, 22, 3, line.Colour);
            pen += 28;
            pen += canvas.Text(pen, top, line.Name, Ink) + 22;
        }
    }

    private static void DrawEventKey(Canvas canvas, IReadOnlyList<PlotEvent> events, int top)
    {
        int columnWidth = (Right - Left) / 2;
        int rows = (events.Count + 1) / 2;
        for (int i = 0; i < events.Count; i++)
        {
            int column = i / Math.Max(1, rows);
            int row = i % Math.Max(1, rows);
            int x = Left + (column * columnWidth);
            int y = top + (row * (Canvas.TextHeight + 4));
            string number = (i + 1).ToString(CultureInfo.InvariantCulture);
            canvas.Text(x, y, number, Marker);
            string text = $"{events[i].Seconds,5:0.0} s  {events[i].Label}";
            int room = (columnWidth - 30) / Canvas.TextWidth("x");
            canvas.Text(x + 24, y, text.Length > room ? text[..(room - 1)] + "~" : text, Ink);
        }
    }

    /// <summary>1, 2 or 5 times a power of ten, at least <paramref name="rough"/>.</summary>
    private static double NiceStep(double rough)
    {
        if (rough <= 0)
        {
            return 1;
        }

        double power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        foreach (double factor in new[] { 1.0, 2.0, 5.0, 10.0 })
        {
            if (factor * power >= rough)
            {
                return factor * power;
            }
        }

        return 10 * power;
    }

    private static double NiceCeiling(double value)
    {
        double step = NiceStep(value / 5);
        return Math.Max(step, Math.Ceiling(value / step) * step);
    }

    private static string Compact(double value) => value switch
    {
        >= 1_000_000 => (value / 1_000_000).ToString("0.#", CultureInfo.InvariantCulture) + "M",
        >= 1_000 => (value / 1_000).ToString("0.#", CultureInfo.InvariantCulture) + "k",
        _ => value.ToString("0", CultureInfo.InvariantCulture),
    };
}
