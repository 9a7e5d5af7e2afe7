using System.Globalization;
using Engine.Benchmarks.Implementations;

namespace Engine.Benchmarks.Suite;

/// <summary>How long and how often the suite measures each row.</summary>
/// <param name="Duration">Measured seconds per row (after the warm-up).</param>
/// <param name="Warmup">Unmeasured seconds at the start of each row (JIT tiers, pools, kernel buffers).</param>
/// <param name="Repetitions">Runs per row; the report shows each metric's median.</param>
internal sealed record SuiteOptions(bool Quick, double Duration, double Warmup, int Repetitions, IReadOnlyList<string> Implementations, string? OutputDirectory)
{
    internal static SuiteOptions Parse(ReadOnlySpan<string> arguments)
    {
        string[] args = arguments.ToArray();
        bool quick = false;
        double? duration = null;
        double? warmup = null;
        int? repetitions = null;
        IReadOnlyList<string> implementations = Messaging.Names;
        string? output = null;
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--quick": quick = true; break;
                case "--duration": duration = double.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--warmup": warmup = double.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--reps": repetitions = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--impl": implementations = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries); break;
                case "--out": output = Value(); break;
                default: throw new ArgumentException($"bench: unknown option {args[i]}");
            }
        }

        foreach (string name in implementations)
        {
            if (!Messaging.Names.Contains(name))
            {
                throw new ArgumentException($"bench: unknown implementation '{name}' (expected {string.Join(", ", Messaging.Names)})");
            }
        }

        // Quick: 26 rows x (0.75 s warm-up + 1 s measured + about 0.7 s of process start-up) stays
        // well under two minutes on two busy cores. Full: three 3-second runs per row, medians.
        return new SuiteOptions(
            quick,
            duration ?? (quick ? 1.0 : 3.0),
            warmup ?? (quick ? 0.75 : 1.0),
            repetitions ?? (quick ? 1 : 3),
            implementations,
            output);
    }
}
