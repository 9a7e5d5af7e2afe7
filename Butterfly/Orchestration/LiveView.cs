using System.Globalization;
using System.Text;

namespace Butterfly.Orchestration;

/// <summary>
/// The console while the demo runs. On a terminal: events scroll by and a status block at the
/// bottom (progress bar over the scenario, throughput and queue depth per stage) is redrawn in
/// place. Otherwise (CI, a pipe): plain timestamped lines, one status line per second.
/// </summary>
internal sealed class LiveView
{
    private const int BarWidth = 36;

    private static readonly (string Stage, string Label)[] Columns =
    [
        ("send_requests", "send"), ("component1", "c1"), ("intermediate1", "int1"), ("intermediate2", "int2"), ("component2", "c2"), ("receive_replies", "recv"),
    ];

    private readonly object _gate = new();
    private readonly bool _terminal;
    private readonly double _scenarioSeconds;
    private string[] _block = Array.Empty<string>();
    private long _lastPlainStatus = -1;

    internal LiveView(double scenarioSeconds, bool? terminal = null)
    {
        _scenarioSeconds = scenarioSeconds;
        _terminal = terminal ?? !Console.IsOutputRedirected;
    }

    /// <summary>An event, stamped with the scenario time. The tests look for these lines: <c>event: ...</c>.</summary>
    internal void Event(double seconds, string text) => Line(seconds, "event: " + text);

    /// <summary>Any other line worth keeping in the log.</summary>
    internal void Line(double seconds, string text)
    {
        string stamped = string.Create(CultureInfo.InvariantCulture, $"[{seconds,6:0.0} s] {text}");
        lock (_gate)
        {
            if (_terminal)
            {
                Erase();
                Console.Out.WriteLine(stamped);
                Draw();
            }
            else
            {
                Console.Out.WriteLine(stamped);
            }
        }
    }

    /// <summary>The latest figures: redrawn in place on a terminal, a plain line once a second otherwise.</summary>
    internal void Status(StageSnapshot snapshot, string phase)
    {
        string rates = "rate/s  " + string.Join("  ", Columns.Select(c => $"{c.Label} {Compact(snapshot.Rates.GetValueOrDefault(c.Stage))}"));
        string queues = "queued  " + string.Join("  ", Columns.Select(c => $"{c.Label} {Compact(snapshot.Queued.GetValueOrDefault(c.Stage))}"))
            + $"  | unacked {Compact(snapshot.Outstanding)}  retried {snapshot.Retried}  rerouted {snapshot.Rerouted}  worst delay {snapshot.WorstDelayMs} ms";
        lock (_gate)
        {
            if (_terminal)
            {
                Erase();
                _block = [Progress(snapshot.Seconds, phase), rates, queues];
                Draw();
                return;
            }

            long second = (long)snapshot.Seconds;
            if (second != _lastPlainStatus)
            {
                _lastPlainStatus = second;
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{snapshot.Seconds,6:0.0} s] {rates} | {queues}"));
            }
        }
    }

    /// <summary>Leaves the status block on screen as the last thing the run drew before the summary.</summary>
    internal void Finish()
    {
        lock (_gate)
        {
            _block = Array.Empty<string>();
        }
    }

    private string Progress(double seconds, string phase)
    {
        double fraction = Math.Clamp(seconds / Math.Max(0.001, _scenarioSeconds), 0, 1);
        int filled = (int)Math.Round(fraction * BarWidth);
        var bar = new StringBuilder();
        bar.Append('[').Append('#', filled).Append('.', BarWidth - filled).Append(']');
        return string.Create(CultureInfo.InvariantCulture, $"{bar} {seconds,5:0.0}/{_scenarioSeconds:0} s  {phase}");
    }

    private void Draw()
    {
        foreach (string line in _block)
        {
            Console.Out.WriteLine(Fit(line));
        }

        Console.Out.Flush();
    }

    // Cursor up over the block, then clear to the end of the screen (ANSI; every terminal emulator in use has it).
    private void Erase()
    {
        if (_block.Length > 0)
        {
            Console.Out.Write($"\u001b[{_block.Length}F\u001b[J");
        }
    }

    /// <summary>Lines longer than the window would wrap and break the in-place redraw.</summary>
    private static string Fit(string line)
    {
        int width;
        try
        {
            width = Console.WindowWidth;
        }
        catch (IOException)
        {
            width = 120;
        }

        return width > 10 && line.Length >= width ? line[..(width - 1)] : line;
    }

    internal static string Compact(double value) => value switch
    {
        >= 1_000_000 => (value / 1_000_000).ToString("0.0", CultureInfo.InvariantCulture) + "M",
        >= 10_000 => (value / 1_000).ToString("0", CultureInfo.InvariantCulture) + "k",
        >= 1_000 => (value / 1_000).ToString("0.0", CultureInfo.InvariantCulture) + "k",
        _ => value.ToString("0", CultureInfo.InvariantCulture),
    };
}
