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
    private const int Bottom = 400;

    private static readonly Rgb Ink = new(40, 40, 40);
    private static readonly Rgb Grid = new(225, 225, 225);
    private static readonly Rgb Marker = new(200, 30, 30);

    internal static void Write(string path, string title, IReadOnlyList<PlotSeries> series, IReadOnlyList<PlotEvent> events, double endSeconds)
    {
        int keyRows = (events.Count + 1) / 2;
        int height = Bottom + 84 + (keyRows * (Canvas.TextHeight + 4)) + 12;
        var canvas = new Canvas(Width, height, Rgb.White);
        canvas.Text(Left, 6, title, Ink);

        double xMax = Math.Max(1, endSeconds);
        double yMax = NiceCeiling(series.SelectMany(s => s.Points).Select(p => p.Value).DefaultIfEmpty(1).Max() * 1.08);
        int X(double seconds) => Left + (int)Math.Round((Right - Left) * Math.Clamp(seconds / xMax, 0, 1));
        double Y(double value) => Bottom - ((Bottom - Top) * Math.Clamp(value / yMax, 0, 1));

        DrawAxes(canvas, xMax, yMax, X, Y);
        DrawEvents(canvas, events, X);
        foreach (PlotSeries line in series)
        {
            for (int i = 1; i < line.Points.Count; i++)
            {
                (double t0, double v0) = line.Points[i - 1];
                (double t1, double v1) = line.Points[i];
                canvas.Line(X(t0), Y(v0), X(t1), Y(v1), line.Colour);
            }
        }

        canvas.StrokeRectangle(Left, Top, Right - Left + 1, Bottom - Top + 1, Ink);
        DrawLegend(canvas, series, Bottom + 40);
        DrawEventKey(canvas, events, Bottom + 70);

        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            System.IO.Directory.CreateDirectory(directory);
        }

        using FileStream file = File.Create(path);
        canvas.WritePng(file);
    }

    private static void DrawAxes(Canvas canvas, double xMax, double yMax, Func<double, int> x, Func<double, double> y)
    {
        double yStep = NiceStep(yMax / 5);
        for (double value = 0; value <= yMax + (yStep / 2); value += yStep)
        {
            int row = (int)Math.Round(y(value));
            canvas.FillRectangle(Left + 1, row, Right - Left - 1, 1, Grid);
            string label = Compact(value);
            canvas.Text(Left - 8 - Canvas.TextWidth(label), row - (Canvas.TextHeight / 2), label, Ink);
        }

        double xStep = NiceStep(xMax / 12);
        for (double seconds = 0; seconds <= xMax + 1e-9; seconds += xStep)
        {
            int column = x(seconds);
            canvas.VerticalLine(column, Bottom, Bottom + 4, Ink);
            string label = seconds.ToString("0.##", CultureInfo.InvariantCulture);
            canvas.Text(column - (Canvas.TextWidth(label) / 2), Bottom + 8, label, Ink);
        }

        canvas.Text(8, Top - 18, "messages/s", Ink);
        const string XLabel = "seconds since GO";
        canvas.Text(Right - Canvas.TextWidth(XLabel), Bottom + 22, XLabel, Ink);
    }

    private static void DrawEvents(Canvas canvas, IReadOnlyList<PlotEvent> events, Func<double, int> x)
    {
        var lastNumberEnd = new Dictionary<int, int>();
        for (int i = 0; i < events.Count; i++)
        {
            int column = x(events[i].Seconds);
            canvas.VerticalLine(column, Top + 1, Bottom - 1, Marker, dash: 4);

            // Numbers of events close together go on separate rows so they stay readable.
            string number = (i + 1).ToString(CultureInfo.InvariantCulture);
            int row = 0;
            while (lastNumberEnd.TryGetValue(row, out int end) && end > column - (Canvas.TextWidth(number) / 2))
            {
                row++;
            }

            int left = column - (Canvas.TextWidth(number) / 2);
            int top = Top + 3 + (row * (Canvas.TextHeight + 2));
            canvas.FillRectangle(left - 2, top, Canvas.TextWidth(number) + 4, Canvas.TextHeight, Rgb.White);
            canvas.Text(left, top, number, Marker);
            lastNumberEnd[row] = left + Canvas.TextWidth(number) + 4;
        }
    }

    private static void DrawLegend(Canvas canvas, IReadOnlyList<PlotSeries> series, int top)
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
