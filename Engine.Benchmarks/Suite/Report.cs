using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Engine.Benchmarks.Suite;

/// <summary>
/// The suite's table (console and README markdown), the issue's targets checked against it, and
/// results.json. Ratios: for throughput rows msgs/s over the reference's msgs/s (higher is better);
/// for round-trip rows mean round trip over the reference's (lower is better).
/// </summary>
internal sealed class Report(IReadOnlyList<RowResult> rows, SuiteOptions options, MachineInfo machine, TimeSpan elapsed)
{
    private static readonly string[] References = ["libzmq", "raw", "netmq"];

    /// <summary>One progress line for a finished run.</summary>
    internal static string Describe(RowResult r)
    {
        string what = $"{r.Spec.Transport} {r.Spec.Pattern} {Size(r.Spec.Size)} {r.Spec.Impl}";
        if (r.Failed)
        {
            return $"{what}: FAILED {r.Error}";
        }

        string note = r.Note is null ? "" : $" (note: {r.Note})";

        return r.Spec.IsThroughput
            ? $"{what}: {Rate(r.MessagesPerSecond)} msgs/s, {Number(r.MegabytesPerSecond)} MB/s, {Number(r.CpuNsPerMessage)} ns CPU/msg, {Switches(r.SwitchesPerMessage)} switches/msg{note}"
            : $"{what}: p50 {Micro(r.RttP50)} us, p99 {Micro(r.RttP99)} us, mean {Micro(r.RttMean)} us, {Number(r.CpuNsPerMessage)} ns CPU/round trip, {Switches(r.SwitchesPerMessage)} switches/round trip{note}";
    }

    internal string Markdown()
    {
        var text = new StringBuilder();
        string mode = options.Quick ? "`--quick`" : "full";
        text.AppendLine(Invariant($"Measured {machine.Describe()}."));
        text.AppendLine(Invariant($"Mode {mode}: {(options.Repetitions == 1 ? "one run" : $"median of {options.Repetitions} runs")} per row, {options.Duration:0.##} s measured after {options.Warmup:0.##} s warm-up; suite took {elapsed.TotalSeconds:0} s."));
        text.AppendLine("tcp: sender and receiver in separate processes over 127.0.0.1; inproc: one process. Throughput = PUSH -> PULL, payload bytes only; round trip = REQ/REP (raw: socket ping-pong), microseconds.");
        text.AppendLine("CPU = user + system time of both sides' processes per message (per round trip); switches = their context switches per message (thread hand-offs and preemptions).");
        text.AppendLine("Ratios: throughput over the reference's (higher is better); round trip = mean over the reference's mean (lower is better).");
        text.AppendLine();
        var header = new[] { "transport", "pattern", "size", "impl", "msgs/s", "MB/s", "rtt p50 µs", "rtt p99 µs", "rtt mean µs", "CPU ns/msg", "switches/msg", "vs libzmq", "vs raw", "vs NetMQ" };
        var table = new List<string[]> { header };
        foreach (RowResult r in rows)
        {
            var cells = new List<string> { r.Spec.Transport, r.Spec.Pattern, Size(r.Spec.Size), r.Spec.Impl };
            if (r.Failed)
            {
                cells.Add("failed");
                cells.AddRange(Enumerable.Repeat("", header.Length - cells.Count));
            }
            else
            {
                cells.Add(r.Spec.IsThroughput ? Rate(r.MessagesPerSecond) : "—");
                cells.Add(r.Spec.IsThroughput ? Number(r.MegabytesPerSecond) : "—");
                cells.Add(r.Spec.IsThroughput ? "—" : Micro(r.RttP50));
                cells.Add(r.Spec.IsThroughput ? "—" : Micro(r.RttP99));
                cells.Add(r.Spec.IsThroughput ? "—" : Micro(r.RttMean));
                cells.Add(Number(r.CpuNsPerMessage));
                cells.Add(Switches(r.SwitchesPerMessage));
                cells.AddRange(References.Select(reference => reference == r.Spec.Impl ? "—" : Ratio(Compare(r, reference))));
            }

            table.Add(cells.ToArray());
        }

        AppendTable(text, table, numericColumns: 4);
        foreach (RowResult r in rows.Where(r => r.Note is not null))
        {
            text.AppendLine();
            text.AppendLine($"Note, {r.Spec.Transport} {r.Spec.Pattern} {Size(r.Spec.Size)} {r.Spec.Impl}: {r.Note}.");
        }

        text.AppendLine();
        text.AppendLine("Targets (issue 4), engine against the reference in this run:");
        text.AppendLine();
        var targets = new List<string[]> { new[] { "target", "engine", "met" } };
        targets.AddRange(Targets().Select(t => new[] { t.Name, t.Measured, t.Met }));
        AppendTable(text, targets, numericColumns: 1);
        return text.ToString();
    }

    internal void Write(string directory)
    {
        System.IO.Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "results.md"), Markdown());
        using FileStream file = File.Create(Path.Combine(directory, "results.json"));
        using var json = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true });
        json.WriteStartArray();
        foreach (RowResult r in rows)
        {
            json.WriteStartObject();
            json.WriteString("impl", r.Spec.Impl);
            json.WriteString("transport", r.Spec.Transport);
            json.WriteString("pattern", r.Spec.Pattern);
            json.WriteNumber("size", r.Spec.Size);
            WriteNumber(json, "msgs_per_s", r.MessagesPerSecond);
            WriteNumber(json, "mb_per_s", r.MegabytesPerSecond);
            WriteNumber(json, "rtt_us_p50", r.RttP50);
            WriteNumber(json, "rtt_us_p99", r.RttP99);
            WriteNumber(json, "rtt_us_p999", r.RttP999);
            WriteNumber(json, "rtt_us_mean", r.RttMean);
            WriteNumber(json, "cpu_ns_per_msg", r.CpuNsPerMessage);
            WriteNumber(json, "switches_per_msg", r.SwitchesPerMessage, digits: 5);
            WriteNumber(json, r.Spec.IsThroughput ? "cpu_ns_per_msg_send" : "cpu_ns_per_msg_ping", r.CpuSendNs);
            WriteNumber(json, r.Spec.IsThroughput ? "cpu_ns_per_msg_recv" : "cpu_ns_per_msg_pong", r.CpuReceiveNs);
            json.WriteNumber("runs", options.Repetitions);
            json.WriteString("date", machine.StartedUtc.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
            if (r.Error is not null)
            {
                json.WriteString("error", r.Error);
            }

            if (r.Note is not null)
            {
                json.WriteString("note", r.Note);
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    /// <summary>Engine over reference for a target; null when either row is missing or failed.</summary>
    private double? Compare(RowResult row, string reference)
    {
        RowResult? other = Find(row.Spec.For(reference));
        if (other is null || other.Failed)
        {
            return null;
        }

        return row.Spec.IsThroughput
            ? row.MessagesPerSecond / other.MessagesPerSecond
            : row.RttMean / other.RttMean;
    }

    private RowResult? Find(RowSpec spec) => rows.FirstOrDefault(r => r.Spec == spec);

    private IEnumerable<(string Name, string Measured, string Met)> Targets()
    {
        (string, string, string) Check(string name, RowSpec spec, string reference, Func<double, bool> met)
        {
            RowResult? engine = Find(spec);
            double? ratio = engine is null || engine.Failed ? null : Compare(engine, reference);
            return (name, Ratio(ratio), ratio is null ? "n/a" : met(ratio.Value) ? "yes" : "no");
        }

        foreach (int size in new[] { 16, 256 })
        {
            var spec = new RowSpec("engine", "tcp", RowSpec.Throughput, size);
            yield return Check($"tcp {Size(size)} throughput >= 1.5x libzmq", spec, "libzmq", r => r >= 1.5);
            yield return Check($"tcp {Size(size)} throughput >= 10x NetMQ", spec, "netmq", r => r >= 10);
        }

        foreach (int size in new[] { 4096, 65536 })
        {
            yield return Check($"tcp {Size(size)} bandwidth >= 0.8x raw", new RowSpec("engine", "tcp", RowSpec.Throughput, size), "raw", r => r >= 0.8);
        }

        yield return Check("tcp round trip 16 B <= 1.3x raw ping-pong (mean)", new RowSpec("engine", "tcp", RowSpec.RoundTrip, 16), "raw", r => r <= 1.3);
        yield return Check("the same without the reactor (engine-dotnet)", new RowSpec("engine-dotnet", "tcp", RowSpec.RoundTrip, 16), "raw", r => r <= 1.3);
        yield return Check("inproc 16 B throughput >= 4x libzmq inproc", new RowSpec("engine", "inproc", RowSpec.Throughput, 16), "libzmq", r => r >= 4);
        RowResult? inprocRtt = Find(new RowSpec("engine", "inproc", RowSpec.RoundTrip, 16));
        yield return inprocRtt is null || inprocRtt.Failed
            ? ("inproc round trip <= 10 µs (mean)", "n/a", "n/a")
            : ("inproc round trip <= 10 µs (mean)", $"{Micro(inprocRtt.RttMean)} µs", inprocRtt.RttMean <= 10 ? "yes" : "no");
    }

    /// <summary>A padded markdown table: readable as plain text on the console and rendered on GitHub.</summary>
    /// <param name="numericColumns">Columns from this index on hold numbers: right-aligned, so magnitudes line up.</param>
    private static void AppendTable(StringBuilder text, List<string[]> table, int numericColumns)
    {
        int[] widths = Enumerable.Range(0, table[0].Length).Select(c => table.Max(row => row[c].Length)).ToArray();
        for (int i = 0; i < table.Count; i++)
        {
            string[] row = table[i];
            text.AppendLine("| " + string.Join(" | ", row.Select((cell, c) => c >= numericColumns ? cell.PadLeft(widths[c]) : cell.PadRight(widths[c]))) + " |");
            if (i == 0)
            {
                text.AppendLine("|" + string.Join("|", widths.Select((w, c) => c >= numericColumns ? new string('-', w + 1) + ":" : new string('-', w + 2))) + "|");
            }
        }
    }

    private static void WriteNumber(Utf8JsonWriter json, string name, double? value, int digits = 2)
    {
        if (value is null || double.IsNaN(value.Value) || double.IsInfinity(value.Value))
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteNumber(name, Math.Round(value.Value, digits));
        }
    }

    private static string Size(int bytes) => bytes switch
    {
        >= 1024 when bytes % 1024 == 0 => $"{bytes / 1024} KiB",
        _ => $"{bytes} B",
    };

    private static string Rate(double? perSecond) => perSecond switch
    {
        null => "n/a",
        >= 1e6 => Invariant($"{perSecond.Value / 1e6:0.00} M"),
        >= 1e3 => Invariant($"{perSecond.Value / 1e3:0.0} k"),
        _ => Invariant($"{perSecond.Value:0}"),
    };

    private static string Number(double? value) => value switch
    {
        null => "n/a",
        >= 100 => Invariant($"{value.Value:0}"),
        _ => Invariant($"{value.Value:0.0}"),
    };

    private static string Switches(double? perMessage) => perMessage switch
    {
        null => "n/a",
        >= 10 => Invariant($"{perMessage.Value:0}"),
        >= 0.01 => Invariant($"{perMessage.Value:0.00}"),
        _ => Invariant($"{perMessage.Value:0.0000}"),
    };

    private static string Micro(double? microseconds) => microseconds is null ? "n/a" : Invariant($"{microseconds.Value:0.0}");

    private static string Ratio(double? ratio) => ratio is null ? "n/a" : Invariant($"{ratio.Value:0.00}x");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
