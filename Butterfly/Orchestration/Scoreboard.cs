using System.Globalization;

namespace Butterfly.Orchestration;

/// <summary>Rates and queue depths of every stage at one moment of the run.</summary>
internal sealed record StageSnapshot(
    double Seconds,
    IReadOnlyDictionary<string, long> Processed,
    IReadOnlyDictionary<string, double> Rates,
    IReadOnlyDictionary<string, long> Queued,
    long Outstanding,
    long Retried,
    long Rerouted,
    long WorstDelayMs);

/// <summary>
/// The latest <c>STAT</c> figures of every child, summed per stage, and the throughput series
/// sampled from them for the live view and the plot. Thread-safe: the children's line pumps write,
/// the sampler reads.
/// </summary>
internal sealed class Scoreboard
{
    /// <summary>The stages in the order of the pipeline (the moved intermediate2 counts as intermediate2).</summary>
    internal static readonly string[] Stages = ["send_requests", "component1", "intermediate1", "intermediate2", "component2", "receive_replies"];

    private readonly object _gate = new();
    private readonly Dictionary<string, Dictionary<string, long>> _figures = new(StringComparer.Ordinal);
    private readonly List<StageSnapshot> _samples = new();

    /// <summary>Rates are taken over this window: the children report four times a second, unsynchronised, so shorter windows jitter.</summary>
    private const double RateWindowSeconds = 1.0;

    /// <summary>The stage a child belongs to: its name without the instance (<c>component1#2</c>) or the move (<c>intermediate2@new</c>).</summary>
    internal static string StageOf(string childName) => childName.Split('#', '@')[0];

    internal IReadOnlyList<StageSnapshot> Samples
    {
        get
        {
            lock (_gate)
            {
                return _samples.ToArray();
            }
        }
    }

    /// <summary>Takes <c>STAT name=value ...</c> from a child; the figures are totals, so the latest line wins.</summary>
    internal void Update(string childName, string line)
    {
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string word in line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1))
        {
            string[] pair = word.Split('=', 2);
            if (pair.Length == 2 && long.TryParse(pair[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long value))
            {
                values[pair[0]] = value;
            }
        }

        lock (_gate)
        {
            if (values.TryGetValue("delay_ms", out long delay))
            {
                // The sink reports the worst delay of its last 250 ms: keep the worst until the next sample takes it.
                long pending = _figures.GetValueOrDefault(childName)?.GetValueOrDefault("window_delay_ms") ?? 0;
                values["window_delay_ms"] = Math.Max(delay, pending);
            }

            _figures[childName] = values;
        }
    }

    /// <summary>Sum of a figure over every child.</summary>
    internal long Total(string name)
    {
        lock (_gate)
        {
            return _figures.Values.Sum(v => v.GetValueOrDefault(name));
        }
    }

    /// <summary>Samples the totals, derives the rates over the last second, and records the snapshot.</summary>
    internal StageSnapshot Sample(double seconds)
    {
        lock (_gate)
        {
            var processed = new Dictionary<string, long>(StringComparer.Ordinal);
            var queued = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (string stage in Stages)
            {
                // The sink's throughput is what reached the application, without the filtered duplicates.
                string figure = stage == "receive_replies" ? "delivered" : "processed";
                processed[stage] = _figures.Where(f => StageOf(f.Key) == stage).Sum(f => f.Value.GetValueOrDefault(figure));
                queued[stage] = _figures.Where(f => StageOf(f.Key) == stage).Sum(f => f.Value.GetValueOrDefault("queued"));
            }

            StageSnapshot? earlier = _samples.LastOrDefault(s => s.Seconds <= seconds - RateWindowSeconds) ?? _samples.FirstOrDefault();
            double elapsed = earlier is null ? 0 : seconds - earlier.Seconds;
            var rates = Stages.ToDictionary(
                stage => stage,
                stage => earlier is null || elapsed <= 0 ? 0 : Math.Max(0, processed[stage] - earlier.Processed.GetValueOrDefault(stage)) / elapsed,
                StringComparer.Ordinal);

            long windowDelay = 0;
            foreach (Dictionary<string, long> values in _figures.Values)
            {
                windowDelay = Math.Max(windowDelay, values.GetValueOrDefault("window_delay_ms"));
                values["window_delay_ms"] = 0;
            }

            Dictionary<string, long>? sender = _figures.GetValueOrDefault("send_requests");
            var snapshot = new StageSnapshot(
                seconds,
                processed,
                rates,
                queued,
                sender?.GetValueOrDefault("outstanding") ?? 0,
                sender?.GetValueOrDefault("retried") ?? 0,
                _figures.Values.Sum(v => v.GetValueOrDefault("rerouted")),
                windowDelay);
            _samples.Add(snapshot);
            return snapshot;
        }
    }
}
