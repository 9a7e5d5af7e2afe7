using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Butterfly.Orchestration;

/// <summary>
/// <c>Butterfly demo</c>: starts every box of the butterfly as its own process (two directory
/// servers, two intermediates, the source, the sink, N workers on each side), lets requests flow,
/// plays the failure timeline, and accounts for every request.
/// </summary>
/// <remarks>
/// <para>No child outlives the run: every path ends in <see cref="Cluster.StopAllAsync"/> (STOP,
/// then kill after a grace period); Ctrl+C and SIGTERM take that same path; process exit kills
/// whatever is left and removes the network namespace; a child whose stdin closes (the orchestrator
/// died) stops by itself. Every wait is bounded.</para>
/// </remarks>
internal sealed partial class Orchestrator
{
    private readonly DemoOptions _options;
    private readonly Cluster _cluster;
    private readonly Scoreboard _scoreboard = new();
    private readonly Narrator _narrator = new();
    private readonly LiveView _view;
    private readonly Stopwatch _clock = new();
    private readonly List<string> _failures = new();
    private NewServer? _newServer;
    private string _directories = string.Empty;
    private string _phase = "warming up";

    private Orchestrator(DemoOptions options)
    {
        _options = options;
        _cluster = new Cluster(OnLine, OnExit, OnError);
        _view = new LiveView(options.Duration.TotalSeconds);
    }

    /// <summary>Seconds since GO (0 before it).</summary>
    private double Now => _clock.Elapsed.TotalSeconds;

    internal static int Run(DemoOptions options)
    {
        var orchestrator = new Orchestrator(options);
        using var interrupted = new CancellationTokenSource();
        void OnCtrlC(object? sender, ConsoleCancelEventArgs e)
        {
            e.Cancel = true;
            interrupted.Cancel();
        }

        void OnExit(object? sender, EventArgs e) => orchestrator.CleanUp();

        Console.CancelKeyPress += OnCtrlC;
        AppDomain.CurrentDomain.ProcessExit += OnExit;
        using PosixSignalRegistration onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            interrupted.Cancel();
        });
        try
        {
            return orchestrator.RunAsync(interrupted.Token).GetAwaiter().GetResult();
        }
        finally
        {
            orchestrator.CleanUp();
            Console.CancelKeyPress -= OnCtrlC;
            AppDomain.CurrentDomain.ProcessExit -= OnExit;
            orchestrator._cluster.Dispose();
        }
    }

    private async Task<int> RunAsync(CancellationToken interrupted)
    {
        using var runDeadline = CancellationTokenSource.CreateLinkedTokenSource(interrupted);
        runDeadline.CancelAfter(_options.RunTimeout);
        var startup = Stopwatch.StartNew();
        PrintPlan();
        using var sampling = new CancellationTokenSource();
        Task sampler = Task.CompletedTask;
        try
        {
            if (_options.Steps.HasFlag(ScenarioSteps.Move))
            {
                _newServer = _options.UseNamespace ? NewServer.Prepare() : NewServer.Loopback("--namespace no");
                _view.Line(0, $"new server for intermediate2: {_newServer.Description}");
            }

            await StartAllAsync(runDeadline.Token).ConfigureAwait(false);
            _view.Line(0, $"{_cluster.Children.Count} processes ready in {startup.Elapsed.TotalSeconds:0.0} s; GO");
            _clock.Start();
            _cluster.TellAll("GO");
            sampler = SampleAsync(sampling.Token);
            await PlayTimelineAsync(runDeadline.Token).ConfigureAwait(false);
            await FlushAsync(runDeadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Fail(interrupted.IsCancellationRequested ? "interrupted" : $"the run took longer than {_options.RunTimeout.TotalSeconds:0} s (--timeout)");
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            // A child that never got ready, a hung source: stop all, report.
            Fail(e.Message);
        }
        finally
        {
            _phase = "stopping";
            _stopping = true;
            _cluster.TellAll("STOP");
            await _cluster.StopAllAsync().ConfigureAwait(false);
            sampling.Cancel();
            await sampler.ConfigureAwait(false);
            _view.Finish();
            CleanUp();
        }

        int exitCode = Account(startup.Elapsed);
        return interrupted.IsCancellationRequested ? 130 : exitCode; // 130: the shell's code for "stopped by Ctrl+C"
    }

    private void PrintPlan()
    {
        string steps = _options.Steps == ScenarioSteps.None ? "none" : _options.Steps.ToString().ToLowerInvariant().Replace(" ", string.Empty, StringComparison.Ordinal);
        Console.WriteLine(
            $"butterfly: send_requests -> {_options.Workers} x component1 -> {{intermediate1, intermediate2}} -> {_options.Workers} x component2 -> receive_replies, 2 directory servers;"
            + $" {_options.Rate} requests/s of {_options.BodySize} B for {_options.Duration.TotalSeconds:0} s; scenario {steps}; seed {_options.Seed}");
    }

    /// <summary>Directory servers first, then the binders (intermediates, source, sink), then the workers, each told where the others are.</summary>
    private async Task StartAllAsync(CancellationToken cancellationToken)
    {
        TimeSpan ready = _options.StartupTimeout;
        string directoryHost = _newServer?.DirectoryHost ?? "127.0.0.1";
        ChildProcess[] directories = Enumerable.Range(1, 2)
            .Select(i => _cluster.Spawn($"directory#{i}", "directory", "--bind", $"tcp://{directoryHost}:0", "--stdin-eof", "stop"))
            .ToArray();
        string[][] directoryEndpoints = await Task.WhenAll(directories.Select(d => _cluster.ReadyAsync(d, ready, cancellationToken))).ConfigureAwait(false);
        _directories = string.Join(',', directoryEndpoints.Select(e => e[0]));

        ChildProcess first = SpawnIntermediate("intermediate1", Array.Empty<string>(), "127.0.0.1", 1);
        _intermediate2 = SpawnIntermediate("intermediate2", Array.Empty<string>(), "127.0.0.1", 2);
        ChildProcess sender = _cluster.Spawn("send_requests", "send_requests", "--size", Text(_options.BodySize), "--rate", Text(_options.Rate),
            "--retry-after", Text(_options.RetryAfter.TotalSeconds), "--startup-timeout", Text(ready.TotalSeconds));
        await NameIntermediateAsync(first, "intermediate1", cancellationToken).ConfigureAwait(false);
        await NameIntermediateAsync(_intermediate2, "intermediate2", cancellationToken).ConfigureAwait(false);
        string[] source = await _cluster.ReadyAsync(sender, ready, cancellationToken).ConfigureAwait(false);
        _narrator.Name(source[0], "send_requests");
        ChildProcess receiver = _cluster.Spawn("receive_replies", "receive_replies", "--size", Text(_options.BodySize), "--acks", source[1],
            "--watch-tag", Text(MovedTag));
        string sink = (await _cluster.ReadyAsync(receiver, ready, cancellationToken).ConfigureAwait(false))[0];
        _narrator.Name(sink, "receive_replies");

        var workers = new List<ChildProcess>();
        for (int i = 1; i <= _options.Workers; i++)
        {
            workers.Add(_cluster.Spawn($"component1#{i}", "component1", "--from", source[0], "--directory", _directories, "--instance", Text(i)));
            workers.Add(_cluster.Spawn($"component2#{i}", "component2", "--to", sink, "--directory", _directories, "--instance", Text(i)));
        }

        await Task.WhenAll(workers.Select(w => _cluster.ReadyAsync(w, ready, cancellationToken))).ConfigureAwait(false);
    }

    private ChildProcess SpawnIntermediate(string name, IReadOnlyList<string> wrapper, string host, int tag) =>
        _cluster.Spawn(name, wrapper, "intermediate", "--directory", _directories, "--host", host, "--tag", Text(tag));

    /// <summary>Waits for an intermediate's READY and names its endpoints, so events about them say which it is.</summary>
    private async Task<string[]> NameIntermediateAsync(ChildProcess intermediate, string name, CancellationToken cancellationToken)
    {
        string[] endpoints = await _cluster.ReadyAsync(intermediate, _options.StartupTimeout, cancellationToken).ConfigureAwait(false);
        if (endpoints.Length != 2)
        {
            throw new InvalidOperationException($"{intermediate.Name} did not report both its input and output endpoint");
        }

        _narrator.Name(endpoints[0], name);
        _narrator.Name(endpoints[1], name);
        return endpoints;
    }

    /// <summary>Four times a second: the rates for the live view (and the plot, from the recorded samples).</summary>
    private async Task SampleAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                _view.Status(_scoreboard.Sample(Now), _phase);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Fail(string failure)
    {
        lock (_failures)
        {
            _failures.Add(failure);
        }
    }

    /// <summary>Kills what is left and removes the namespace; safe to call more than once, from any thread.</summary>
    private void CleanUp()
    {
        _cluster.KillAll();
        _newServer?.Dispose();
    }

    private static string Text(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
