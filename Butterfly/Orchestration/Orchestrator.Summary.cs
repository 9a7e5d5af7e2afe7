using Butterfly.Plotting;

namespace Butterfly.Orchestration;

/// <summary>The accounting at the end: every id sent is received once, intact, or the run fails.</summary>
internal sealed partial class Orchestrator
{
    private static readonly Dictionary<string, Rgb> StageColours = new(StringComparer.Ordinal)
    {
        ["send_requests"] = new(90, 90, 90),
        ["component1"] = new(31, 119, 180),
        ["intermediate1"] = new(44, 160, 44),
        ["intermediate2"] = new(214, 39, 40),
        ["component2"] = new(148, 103, 189),
        ["receive_replies"] = new(255, 127, 14),
    };

    /// <summary>Prints the report and the summary line, writes the plot; returns the exit code.</summary>
    private int Account(TimeSpan wallTime)
    {
        Dictionary<string, long> sentFigures = _sent.Task.IsCompletedSuccessfully ? _sent.Task.Result : new Dictionary<string, long>();
        Dictionary<string, long> result = _result ?? new Dictionary<string, long>();
        if (_result is null)
        {
            Fail("receive_replies did not report a result");
        }

        if (!_sent.Task.IsCompletedSuccessfully)
        {
            Fail("send_requests did not say how many it sent");
        }

        long sent = sentFigures.GetValueOrDefault("sent");
        long received = result.GetValueOrDefault("delivered");
        long lost = sent - received;
        long duplicates = result.GetValueOrDefault("duplicates_delivered");
        long corrupted = result.GetValueOrDefault("corrupted");
        long retried = sentFigures.GetValueOrDefault("retried");
        long rerouted = Math.Max(_scoreboard.Total("rerouted"), _narrator.Rerouted);
        if (result.GetValueOrDefault("max_id", -1) >= sent && sent > 0)
        {
            Fail($"receive_replies delivered id {result["max_id"]}, but only ids below {sent} were sent");
        }

        PrintStory(result);
        Console.WriteLine($"butterfly: receive_replies got {result.GetValueOrDefault("received")} frames: {received} delivered once, "
            + $"{result.GetValueOrDefault("filtered")} duplicates filtered (copies of retried requests whose first copy had only been slow), {corrupted} corrupted");
        Console.WriteLine($"butterfly: end-to-end delay p50={result.GetValueOrDefault("p50_delay_ms")} ms p99={result.GetValueOrDefault("p99_delay_ms")} ms "
            + $"worst={result.GetValueOrDefault("max_delay_ms")} ms (a request lost inside the killed intermediate2 arrives after its retry, --retry-after {_options.RetryAfter.TotalSeconds:0.#} s)");
        Console.WriteLine($"butterfly: {sentFigures.GetValueOrDefault("unacked")} requests unacknowledged at the end; {wallTime.TotalSeconds:0.0} s in all");
        WritePlot();
        foreach (string failure in _failures)
        {
            Console.Error.WriteLine($"butterfly: FAILED: {failure}");
        }

        Console.WriteLine($"butterfly: sent={sent} received={received} lost={lost} duplicates={duplicates} corrupted={corrupted} retried={retried} rerouted={rerouted}");
        bool clean = _failures.Count == 0 && sent > 0 && lost == 0 && duplicates == 0 && corrupted == 0;
        return clean ? 0 : 1;
    }

    /// <summary>What happened to intermediate2 and the drained workers, in numbers.</summary>
    private void PrintStory(Dictionary<string, long> result)
    {
        if (_frozenAt is { } frozen)
        {
            string dead = _declaredDeadAt is { } at ? $"declared dead by heartbeats {at - frozen:0.0} s later" : "never declared dead (no heartbeat event seen)";
            Console.WriteLine($"butterfly: intermediate2 frozen at {frozen:0.0} s, {dead}");
        }

        if (_movedServingAt is { } serving)
        {
            string first = _firstMovedTrafficAt is { } firstAt
                ? $"its first reply reached receive_replies {firstAt - serving:0.0} s later"
                : "no reply went through it";
            Console.WriteLine($"butterfly: intermediate2 moved to {_movedEndpoint} at {serving:0.0} s; {first}");
        }

        Console.WriteLine($"butterfly: replies through intermediate1={result.GetValueOrDefault("via1")} intermediate2={result.GetValueOrDefault("via2")} "
            + $"intermediate2-moved={result.GetValueOrDefault("via3")}");
        lock (_drainReports)
        {
            foreach (string report in _drainReports)
            {
                Console.WriteLine($"butterfly: drained {report}");
            }
        }
    }

    private void WritePlot()
    {
        IReadOnlyList<StageSnapshot> samples = _scoreboard.Samples;
        if (samples.Count < 2)
        {
            return;
        }

        var series = Scoreboard.Stages
            .Select(stage => new PlotSeries(stage, StageColours[stage], samples.Select(s => (s.Seconds, s.Rates.GetValueOrDefault(stage))).ToList()))
            .ToList();
        PlotEvent[] events;
        lock (_milestones)
        {
            events = _milestones.ToArray();
        }

        string title = $"butterfly: throughput per stage, {_options.Rate} requests/s, {_options.Workers} workers per side, scenario {_options.Steps.ToString().ToLowerInvariant()}";
        try
        {
            var delay = new PlotSeries("worst delay (ms)", new Rgb(0, 0, 0), samples.Select(s => (s.Seconds, (double)s.WorstDelayMs)).ToList());
            ThroughputPlot.Write(_options.PlotPath, title, series, delay, events, samples[^1].Seconds);
            Console.WriteLine($"butterfly: plot written to {_options.PlotPath}");
        }
        catch (IOException e)
        {
            // The plot is a by-product: a read-only directory must not turn a clean run into a failure.
            Console.Error.WriteLine($"butterfly: could not write the plot to {_options.PlotPath}: {e.Message}");
        }
    }
}
