using Butterfly.Plotting;

namespace Butterfly.Orchestration;

/// <summary>The failure timeline: freeze, kill, move intermediate2, drain two workers, stop the source.</summary>
internal sealed partial class Orchestrator
{
    /// <summary>The payload tag of the moved intermediate2 (intermediate1 is 1, the first intermediate2 is 2).</summary>
    private const int MovedTag = 3;

    /// <summary>When each step happens, as a fraction of <c>--duration</c>.</summary>
    private const double FreezeAt = 0.15;
    private const double KillAt = 0.33;
    private const double MoveAt = 0.45;
    private const double DrainAt = 0.65;
    private const double StopSourceAt = 0.9;

    /// <summary>After the source stops: how long retries may take to get every id acknowledged.</summary>
    private static readonly TimeSpan FlushTimeout = TimeSpan.FromSeconds(20);

    private readonly List<PlotEvent> _milestones = new();
    private readonly TaskCompletionSource<Dictionary<string, long>> _sent = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ChildProcess? _intermediate2;
    private string? _movedEndpoint;
    private double? _frozenAt;
    private double? _declaredDeadAt;
    private double? _movedServingAt;
    private double? _firstMovedTrafficAt;
    private volatile bool _stopping;
    private volatile bool _flushing;

    private async Task PlayTimelineAsync(CancellationToken cancellationToken)
    {
        double duration = _options.Duration.TotalSeconds;
        ScenarioSteps steps = _options.Steps;
        if (steps.HasFlag(ScenarioSteps.Freeze))
        {
            await UntilAsync(FreezeAt * duration, cancellationToken).ConfigureAwait(false);
            Freeze();
        }

        if (steps.HasFlag(ScenarioSteps.Kill))
        {
            await UntilAsync(KillAt * duration, cancellationToken).ConfigureAwait(false);
            if (_frozenAt is not null)
            {
                // Show the silent failure being detected before the loud one: on a loaded machine the
                // heartbeat verdict can come later than the planned kill.
                await UntilDeclaredDeadAsync(TimeSpan.FromSeconds(15), cancellationToken).ConfigureAwait(false);
            }

            await KillAsync().ConfigureAwait(false);
        }
        else if (steps.HasFlag(ScenarioSteps.Freeze))
        {
            await UntilAsync(KillAt * duration, cancellationToken).ConfigureAwait(false);
            Signal(_intermediate2!, Signals.Continue, "thawed (SIGCONT): it renews its lease and the workers take it back", "intermediate2 thawed");
            _phase = "intermediate2 thawed";
        }

        if (steps.HasFlag(ScenarioSteps.Move))
        {
            await UntilAsync(MoveAt * duration, cancellationToken).ConfigureAwait(false);
            await MoveAsync(cancellationToken).ConfigureAwait(false);
        }

        if (steps.HasFlag(ScenarioSteps.Drain))
        {
            await UntilAsync(DrainAt * duration, cancellationToken).ConfigureAwait(false);
            DrainWorkers();
        }

        await UntilAsync(StopSourceAt * duration, cancellationToken).ConfigureAwait(false);
        _flushing = true; // from here on, connections closing are the shutdown, not news
        _cluster.Children.FirstOrDefault(c => c.Name == "send_requests")?.Tell("FINISH");
        _phase = "source stopped, flushing";
        Milestone("source stopped", "source stopped: no new requests; what is unacknowledged is retried until every id is acknowledged");
    }

    /// <summary>Waits for the source's SENT line: every id acknowledged, or the flush timeout passed.</summary>
    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        TimeSpan bound = FlushTimeout + TimeSpan.FromSeconds(10);
        try
        {
            await _sent.Task.WaitAsync(bound, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"send_requests did not finish flushing within {bound.TotalSeconds:0} s");
        }
    }

    private async Task UntilDeclaredDeadAsync(TimeSpan limit, CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (_declaredDeadAt is null && clock.Elapsed < limit)
        {
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    private void Freeze()
    {
        ChildProcess target = _intermediate2!;
        if (Signal(target, Signals.Stop, $"frozen pid={target.Pid} (SIGSTOP: no FIN, no RST; its kernel still accepts and acknowledges TCP)", "intermediate2 frozen (SIGSTOP)"))
        {
            _frozenAt = Now;
            _phase = "intermediate2 frozen";
        }
    }

    private async Task KillAsync()
    {
        ChildProcess target = _intermediate2!;
        target.KilledByScenario = true;
        if (Signal(target, Signals.Kill, $"killed (kill -9 pid={target.Pid}); what it had read but not passed on is recovered by the source's retries", "intermediate2 killed (kill -9)"))
        {
            _phase = "intermediate2 dead";
            if (!await target.WaitForExitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false))
            {
                Fail("intermediate2 did not die within 5 s of SIGKILL");
            }
        }
    }

    /// <summary>Starts intermediate2 again on the new server; the workers find it through the directory, without restart.</summary>
    private async Task MoveAsync(CancellationToken cancellationToken)
    {
        NewServer server = _newServer!;
        double startedAt = Now;
        _phase = "intermediate2 moving";
        ChildProcess moved = SpawnIntermediate("intermediate2@new", server.Wrapper, server.Host, MovedTag);
        _intermediate2 = moved;
        string[] endpoints = await NameIntermediateAsync(moved, "intermediate2 (moved)", cancellationToken).ConfigureAwait(false);
        _movedEndpoint = endpoints[0];
        _movedServingAt = Now;
        _phase = "intermediate2 moved";
        Milestone(
            $"intermediate2 serving at {endpoints[0]}",
            $"intermediate2 serving at {endpoints[0]} (output {endpoints[1]}), pid={moved.Pid}, started in {Now - startedAt:0.0} s on {server.Description}; registered in the directory");
    }

    /// <summary>SIGTERM to one component1 and one component2 (picked with the seed): they drain and exit 0.</summary>
    private void DrainWorkers()
    {
        var random = new Random(_options.Seed);
        _phase = "workers draining";
        foreach (string stage in new[] { "component1", "component2" })
        {
            string name = $"{stage}#{random.Next(1, _options.Workers + 1)}";
            ChildProcess? worker = _cluster.Children.FirstOrDefault(c => c.Name == name);
            if (worker is null)
            {
                continue;
            }

            lock (_draining)
            {
                _draining.Add(name);
            }

            Signal(worker, Signals.Terminate, "draining (SIGTERM): its upstream re-routes what it queued for it; it relays the rest, flushes and exits", $"{name} drain (SIGTERM)", name);
        }
    }

    /// <summary>Sends a signal and says so; false (and a failure) when it could not be sent.</summary>
    private bool Signal(ChildProcess child, int signal, string what, string milestone, string subject = "intermediate2")
    {
        if (!Signals.Send(child.Pid, signal, out string? error))
        {
            Fail($"could not signal {child.Name}: {error}");
            return false;
        }

        Milestone(milestone, $"{subject} {what}");
        return true;
    }

    /// <summary>An event for the log that is also marked on the plot.</summary>
    private void Milestone(string label, string text)
    {
        double now = Now;
        lock (_milestones)
        {
            _milestones.Add(new PlotEvent(now, label));
        }

        _view.Event(now, text);
    }

    private async Task UntilAsync(double seconds, CancellationToken cancellationToken)
    {
        double wait = seconds - Now;
        if (wait > 0)
        {
            await Task.Delay(TimeSpan.FromSeconds(wait), cancellationToken).ConfigureAwait(false);
        }
    }
}
