using System.Diagnostics;
using System.Globalization;
using Engine.Benchmarks.Implementations;

namespace Engine.Benchmarks.Suite;

/// <summary>
/// <c>bench [--quick]</c>: every implementation side by side in one run, so that ratios compare
/// numbers taken on the same machine under the same load. Over tcp the sender and the receiver are
/// separate processes (this program in peer mode); inproc rows run both sides in one child process.
/// Rows are interleaved by implementation and, with repetitions, the whole list is run again, so
/// that a burst of load from elsewhere hits every implementation alike.
/// </summary>
internal static class SuiteRunner
{
    internal static readonly int[] ThroughputSizes = [16, 256, 4096, 65536];

    /// <summary>Process start-up (runtime, JIT, binding) on a busy two-core machine takes seconds at worst.</summary>
    private static readonly TimeSpan StartupLimit = TimeSpan.FromSeconds(60);

    internal static int Run(SuiteOptions options)
    {
        List<RowSpec> rows = Plan(options.Implementations);
        MachineInfo machine = MachineInfo.Capture();
        double perRun = options.Warmup + options.Duration + 0.8;
        Console.WriteLine($"bench: {rows.Count} rows x {options.Repetitions} run(s), {options.Duration:0.##} s measured after {options.Warmup:0.##} s warm-up each (about {rows.Count * options.Repetitions * perRun:0} s)");
        Console.WriteLine($"bench: {machine.Describe()}");

        var runs = rows.ToDictionary(r => r, _ => new List<RowResult>());
        var total = Stopwatch.StartNew();
        for (int repetition = 1; repetition <= options.Repetitions; repetition++)
        {
            for (int i = 0; i < rows.Count; i++)
            {
                RowSpec spec = rows[i];
                RowResult result = RunRow(spec, options);
                runs[spec].Add(result);
                Console.WriteLine($"[{repetition}/{options.Repetitions} {i + 1,2}/{rows.Count}] {Report.Describe(result)}");
            }
        }

        machine = machine.WithEndLoad();
        var results = rows.Select(r => RowResult.Median(r, runs[r])).ToList();
        var report = new Report(results, options, machine, total.Elapsed);
        Console.WriteLine();
        Console.WriteLine(report.Markdown());
        string directory = options.OutputDirectory ?? RepositoryPaths.BenchArtifacts;
        report.Write(directory);
        Console.WriteLine($"bench: wrote {Path.Combine(directory, "results.json")} and results.md in {total.Elapsed.TotalSeconds:0} s");
        return results.Any(r => r.Failed) ? 1 : 0;
    }

    /// <summary>The rows: tcp throughput for every size, tcp round trip, then inproc (no raw there), implementations interleaved.</summary>
    internal static List<RowSpec> Plan(IReadOnlyList<string> implementations)
    {
        var rows = new List<RowSpec>();
        foreach (int size in ThroughputSizes)
        {
            rows.AddRange(implementations.Select(impl => new RowSpec(impl, "tcp", RowSpec.Throughput, size)));
        }

        rows.AddRange(implementations.Select(impl => new RowSpec(impl, "tcp", RowSpec.RoundTrip, 16)));
        if (implementations.Contains("engine"))
        {
            // The same engine waiting through .NET's socket engine (what non-Linux systems get):
            // what the reactor buys, measured in the same run.
            rows.Add(new RowSpec("engine-dotnet", "tcp", RowSpec.Throughput, 16));
            rows.Add(new RowSpec("engine-dotnet", "tcp", RowSpec.RoundTrip, 16));
        }

        rows.AddRange(implementations.Where(i => i != "raw").Select(impl => new RowSpec(impl, "inproc", RowSpec.Throughput, 16)));
        rows.AddRange(implementations.Where(i => i != "raw").Select(impl => new RowSpec(impl, "inproc", RowSpec.RoundTrip, 16)));
        return rows;
    }

    private static RowResult RunRow(RowSpec spec, SuiteOptions options)
    {
        var limit = Stopwatch.StartNew();
        TimeSpan rowLimit = StartupLimit + TimeSpan.FromSeconds(options.Warmup + options.Duration) + Messaging.Timeout;
        try
        {
            return spec.Transport == "inproc"
                ? RunInproc(spec, options, () => rowLimit - limit.Elapsed)
                : spec.IsThroughput
                    ? RunTcpThroughput(spec, options, () => rowLimit - limit.Elapsed)
                    : RunTcpRoundTrip(spec, options, () => rowLimit - limit.Elapsed);
        }
        catch (Exception e) when (e is RowFailedException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return new RowResult(spec, Error: e.Message);
        }
    }

    private static RowResult RunTcpThroughput(RowSpec spec, SuiteOptions options, Func<TimeSpan> left)
    {
        using ChildProcess receiver = ChildProcess.Start(
            "thr", "recv", "--impl", spec.Impl, "--endpoint", "tcp://127.0.0.1:0", "--size", Text(spec.Size), "--count", "0", "--warmup", Text(options.Warmup));
        string bound = receiver.WaitForValue("bound", StartupLimit) ?? throw RowFailedException.From(receiver, "did not bind");
        using ChildProcess sender = ChildProcess.Start(
            "thr", "send", "--impl", spec.Impl, "--endpoint", bound, "--size", Text(spec.Size), "--duration", Text(options.Warmup + options.Duration));
        Finish(receiver, left());
        Finish(sender, left());
        double? receiveCpu = receiver.Number("cpu_ns_per_msg");
        double? sendCpu = sender.Number("cpu_ns_per_msg");
        return new RowResult(
            spec,
            MessagesPerSecond: receiver.Number("msgs_per_s") ?? throw RowFailedException.From(receiver, "printed no msgs_per_s"),
            MegabytesPerSecond: receiver.Number("mb_per_s"),
            CpuNsPerMessage: receiveCpu + sendCpu,
            CpuSendNs: sendCpu,
            CpuReceiveNs: receiveCpu,
            SwitchesPerMessage: receiver.Number("switches_per_msg") + sender.Number("switches_per_msg"),
            Note: receiver.Text("ended_by") == "idle" ? $"the end marker never arrived: the sender's close lost its last messages ({sender.Text("sent")} sent, the receiver stopped when nothing more came)" : null);
    }

    private static RowResult RunTcpRoundTrip(RowSpec spec, SuiteOptions options, Func<TimeSpan> left)
    {
        using ChildProcess ponger = ChildProcess.Start(
            "lat", "pong", "--impl", spec.Impl, "--endpoint", "tcp://127.0.0.1:0", "--size", Text(spec.Size));
        string bound = ponger.WaitForValue("bound", StartupLimit) ?? throw RowFailedException.From(ponger, "did not bind");
        using ChildProcess pinger = ChildProcess.Start(
            "lat", "ping", "--impl", spec.Impl, "--endpoint", bound, "--size", Text(spec.Size),
            "--duration", Text(options.Warmup + options.Duration), "--warmup", Text(options.Warmup));
        Finish(pinger, left());
        Finish(ponger, left());
        double? pingCpu = pinger.Number("cpu_ns_per_msg");
        double? pongCpu = ponger.Number("cpu_ns_per_msg");
        return RoundTripResult(spec, pinger) with
        {
            CpuNsPerMessage = pingCpu + pongCpu,
            CpuSendNs = pingCpu,
            CpuReceiveNs = pongCpu,
            SwitchesPerMessage = pinger.Number("switches_per_msg") + ponger.Number("switches_per_msg"),
        };
    }

    private static RowResult RunInproc(RowSpec spec, SuiteOptions options, Func<TimeSpan> left)
    {
        using ChildProcess run = ChildProcess.Start(
            "inproc", spec.IsThroughput ? "thr" : "lat", "--impl", spec.Impl, "--size", Text(spec.Size),
            "--duration", Text(options.Warmup + options.Duration), "--warmup", Text(options.Warmup));
        Finish(run, left());
        if (!spec.IsThroughput)
        {
            return RoundTripResult(spec, run) with { CpuNsPerMessage = run.Number("cpu_ns_per_msg"), SwitchesPerMessage = run.Number("switches_per_msg") };
        }

        return new RowResult(
            spec,
            MessagesPerSecond: run.Number("msgs_per_s") ?? throw RowFailedException.From(run, "printed no msgs_per_s"),
            MegabytesPerSecond: run.Number("mb_per_s"),
            CpuNsPerMessage: run.Number("cpu_ns_per_msg"),
            SwitchesPerMessage: run.Number("switches_per_msg"));
    }

    private static RowResult RoundTripResult(RowSpec spec, ChildProcess pinger) => new(
        spec,
        RttP50: pinger.Number("rtt_us_p50") ?? throw RowFailedException.From(pinger, "printed no rtt_us_p50"),
        RttP99: pinger.Number("rtt_us_p99"),
        RttP999: pinger.Number("rtt_us_p999"),
        RttMean: pinger.Number("rtt_us_mean"));

    private static void Finish(ChildProcess child, TimeSpan left)
    {
        if (!child.WaitForExit(left > TimeSpan.Zero ? left : TimeSpan.Zero))
        {
            throw RowFailedException.From(child, "timed out");
        }

        if (child.ExitCode != 0)
        {
            throw RowFailedException.From(child, $"exited with {child.ExitCode}");
        }
    }

    private static string Text(double value) => value.ToString(CultureInfo.InvariantCulture);

    private sealed class RowFailedException(string message) : Exception(message)
    {
        internal static RowFailedException From(ChildProcess child, string what)
        {
            string errors = child.ErrorTail;
            return new RowFailedException($"'{child.CommandLine}' {what}{(errors.Length > 0 ? ": " + errors : "")}");
        }
    }
}
