namespace Butterfly.Orchestration;

/// <summary>The failures the scenario inflicts; <c>--scenario all</c> is every one, in timeline order.</summary>
[Flags]
internal enum ScenarioSteps
{
    None = 0,

    /// <summary>SIGSTOP intermediate2 (and SIGCONT it later unless it is killed).</summary>
    Freeze = 1,

    /// <summary>kill -9 intermediate2.</summary>
    Kill = 2,

    /// <summary>Start intermediate2 again at a new address (implies the kill).</summary>
    Move = 4,

    /// <summary>SIGTERM one component1 and one component2: they drain and exit 0.</summary>
    Drain = 8,

    All = Freeze | Kill | Move | Drain,
}

/// <summary>What <c>Butterfly demo</c> was asked to do.</summary>
internal sealed record DemoOptions(
    TimeSpan Duration,
    int Workers,
    int Rate,
    ScenarioSteps Steps,
    int Seed,
    int BodySize,
    TimeSpan RetryAfter,
    TimeSpan RunTimeout,
    TimeSpan StartupTimeout,
    string PlotPath,
    bool UseNamespace)
{
    internal static DemoOptions From(Arguments args)
    {
        ScenarioSteps steps = ParseSteps(args.Optional("scenario", "all"));
        if (steps.HasFlag(ScenarioSteps.Move))
        {
            steps |= ScenarioSteps.Kill;
        }

        int workers = args.Int("workers", 2);
        if (workers is < 1 or > 15)
        {
            throw new ArgumentException($"--workers must be 1 to 15 (got {workers})");
        }

        if (workers < 2 && steps.HasFlag(ScenarioSteps.Drain))
        {
            throw new ArgumentException("draining a worker needs --workers 2 or more, so the rest carry the load");
        }

        TimeSpan duration = args.Seconds("duration", 60);
        if (duration < TimeSpan.FromSeconds(8))
        {
            throw new ArgumentException("--duration must be 8 s or more: each step needs a few heartbeats to show");
        }

        return new DemoOptions(
            duration,
            workers,
            Math.Max(1, args.Int("rate", 20_000)),
            steps,
            args.Int("seed", 1),
            args.Int("size", Payload.DefaultBodySize),
            args.Seconds("retry-after", 2),
            args.Seconds("timeout", duration.TotalSeconds + 90),
            args.Seconds("startup-timeout", 30),
            args.Optional("plot", Path.Combine("artifacts", "butterfly.png")),
            args.Optional("namespace", "auto") != "no");
    }

    private static ScenarioSteps ParseSteps(string text)
    {
        ScenarioSteps steps = ScenarioSteps.None;
        foreach (string name in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            steps |= name switch
            {
                "all" => ScenarioSteps.All,
                "none" => ScenarioSteps.None,
                "freeze" => ScenarioSteps.Freeze,
                "kill" => ScenarioSteps.Kill,
                "move" => ScenarioSteps.Move,
                "drain" => ScenarioSteps.Drain,
                _ => throw new ArgumentException($"--scenario takes all, freeze, kill, move, drain or a comma list of them (got '{name}')"),
            };
        }

        return steps;
    }
}
