namespace Engine.Benchmarks.Suite;

/// <summary>What one row of the suite measures.</summary>
/// <param name="Transport">tcp or inproc.</param>
/// <param name="Pattern">push-pull (throughput) or req-rep (round trip).</param>
internal sealed record RowSpec(string Impl, string Transport, string Pattern, int Size)
{
    internal const string Throughput = "push-pull";
    internal const string RoundTrip = "req-rep";

    internal bool IsThroughput => Pattern == Throughput;

    /// <summary>The same row for another implementation (the reference of a ratio).</summary>
    internal RowSpec For(string impl) => this with { Impl = impl };
}

/// <summary>One run of one row. Throughput fields are null for round-trip rows and the other way round.</summary>
/// <param name="CpuNsPerMessage">Process CPU (user + system) of both sides per message, or per round trip.</param>
/// <param name="Note">Something odd about a run that still counts, e.g. a sender that lost its last messages at close.</param>
/// <param name="SwitchesPerMessage">Context switches of both sides' processes per message (per round trip): thread hand-offs show up here.</param>
internal sealed record RowResult(
    RowSpec Spec,
    double? MessagesPerSecond = null,
    double? MegabytesPerSecond = null,
    double? RttP50 = null,
    double? RttP99 = null,
    double? RttP999 = null,
    double? RttMean = null,
    double? CpuNsPerMessage = null,
    double? CpuSendNs = null,
    double? CpuReceiveNs = null,
    double? SwitchesPerMessage = null,
    string? Error = null,
    string? Note = null)
{
    internal bool Failed => Error is not null;

    /// <summary>Each metric's median over the runs that succeeded (or the first failure when none did).</summary>
    internal static RowResult Median(RowSpec spec, IReadOnlyList<RowResult> runs)
    {
        var good = runs.Where(r => !r.Failed).ToList();
        if (good.Count == 0)
        {
            return runs.Count > 0 ? runs[0] : new RowResult(spec, Error: "not run");
        }

        double? Of(Func<RowResult, double?> metric)
        {
            var values = good.Select(metric).Where(v => v.HasValue).Select(v => v!.Value).Order().ToList();
            if (values.Count == 0)
            {
                return null;
            }

            int middle = values.Count / 2;
            return values.Count % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
        }

        return new RowResult(
            spec,
            Of(r => r.MessagesPerSecond),
            Of(r => r.MegabytesPerSecond),
            Of(r => r.RttP50),
            Of(r => r.RttP99),
            Of(r => r.RttP999),
            Of(r => r.RttMean),
            Of(r => r.CpuNsPerMessage),
            Of(r => r.CpuSendNs),
            Of(r => r.CpuReceiveNs),
            Of(r => r.SwitchesPerMessage),
            Note: good.Select(r => r.Note).FirstOrDefault(n => n is not null));
    }
}
