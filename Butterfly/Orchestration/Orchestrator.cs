using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Butterfly;

/// <summary>What <c>Butterfly demo</c> was asked to do.</summary>
internal sealed record DemoOptions(int Messages, int BodySize, TimeSpan IdleTimeout, TimeSpan RunTimeout, TimeSpan StartupTimeout)
{
    internal static DemoOptions From(Arguments args) => new(
        args.Int("messages", 100_000),
        args.Int("size", Payload.DefaultBodySize),
        args.Seconds("idle-timeout", 10),
        args.Seconds("timeout", 120),
        args.Seconds("startup-timeout", 30));
}

/// <summary>
/// Starts every box of the butterfly as its own process, wires them together with the endpoints
/// they report, lets the requests flow, and prints one summary line.
/// </summary>
/// <remarks>
/// <para>Binders (both intermediates, send_requests, receive_replies) start first and print
/// <c>READY role endpoint...</c>; the workers are then started with those endpoints. Nobody sends
/// before everyone is READY and the orchestrator says GO.</para>
/// <para>No child outlives the run: every path ends in <see cref="StopAllAsync"/> (STOP, then kill
/// after a grace period), Ctrl+C and SIGTERM take that same path, process exit kills whatever is
/// left, and a child whose stdin closes (the orchestrator died) stops by itself.</para>
/// </remarks>
internal sealed class Orchestrator
{
    /// <summary>Instances of each worker stage (and of the intermediate): the two wings of the butterfly.</summary>
    private const int Width = 2;

    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);

    private readonly DemoOptions _options;
    private readonly List<ChildProcess> _children = new();
    private Counts _counts;
    private bool _reported;

    private Orchestrator(DemoOptions options)
    {
        _options = options;
    }

    internal static int Run(DemoOptions options)
    {
        var orchestrator = new Orchestrator(options);
        using var interrupted = new CancellationTokenSource();
        void OnCtrlC(object? sender, ConsoleCancelEventArgs e)
        {
            e.Cancel = true;
            interrupted.Cancel();
        }

        void OnExit(object? sender, EventArgs e) => orchestrator.KillAll();

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
            orchestrator.KillAll();
            Console.CancelKeyPress -= OnCtrlC;
            AppDomain.CurrentDomain.ProcessExit -= OnExit;
            orchestrator.DisposeChildren();
        }
    }

    private async Task<int> RunAsync(CancellationToken interrupted)
    {
        using var runDeadline = CancellationTokenSource.CreateLinkedTokenSource(interrupted);
        runDeadline.CancelAfter(_options.RunTimeout);
        var failures = new List<string>();
        var clock = Stopwatch.StartNew();
        var flowClock = new Stopwatch();
        try
        {
            ChildProcess receiver = await StartAllAsync(runDeadline.Token).ConfigureAwait(false);
            Console.WriteLine($"butterfly: {_children.Count} processes ready in {clock.Elapsed.TotalSeconds:0.0} s; sending {_options.Messages} requests of {_options.BodySize} bytes");
            flowClock.Start();
            foreach (ChildProcess child in Children())
            {
                child.Tell("GO");
            }

            await WatchReceiverAsync(receiver, flowClock, runDeadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            failures.Add(interrupted.IsCancellationRequested ? "interrupted" : $"the run took longer than {_options.RunTimeout.TotalSeconds:0} s (--timeout)");
        }
        catch (Exception e)
        {
            // Anything else (a child that never got ready, a hung receiver) ends the run the same way: stop all, report.
            failures.Add(e.Message);
        }
        finally
        {
            flowClock.Stop();
            await StopAllAsync().ConfigureAwait(false);
        }

        long sent = CollectReports(failures);
        Counts counts = _counts;
        if (!_reported && failures.Count == 0)
        {
            failures.Add("receive_replies did not report a result");
        }

        long lost = sent - counts.Distinct;
        foreach (string failure in failures)
        {
            Console.Error.WriteLine($"butterfly: FAILED: {failure}");
        }

        double seconds = Math.Max(counts.FlowMs is { } flowMs ? flowMs / 1000.0 : flowClock.Elapsed.TotalSeconds, 0.001);
        Console.WriteLine($"butterfly: {counts.Distinct} requests through the butterfly in {seconds:0.00} s ({counts.Distinct / seconds:0} msg/s), {clock.Elapsed.TotalSeconds:0.0} s in all");
        Console.WriteLine($"butterfly: sent={sent} received={counts.Received} lost={lost} duplicates={counts.Duplicates} corrupted={counts.Corrupted}");

        if (interrupted.IsCancellationRequested)
        {
            return 130; // the shell's code for "stopped by Ctrl+C"
        }

        bool clean = failures.Count == 0 && sent == _options.Messages && counts.Received == sent
            && lost == 0 && counts.Duplicates == 0 && counts.Corrupted == 0;
        return clean ? 0 : 1;
    }

    /// <summary>Starts the binders, then the workers with the binders' endpoints; returns receive_replies.</summary>
    private async Task<ChildProcess> StartAllAsync(CancellationToken cancellationToken)
    {
        TimeSpan ready = _options.StartupTimeout;
        string messages = _options.Messages.ToString(CultureInfo.InvariantCulture);
        string size = _options.BodySize.ToString(CultureInfo.InvariantCulture);
        string startup = Seconds(ready);

        ChildProcess[] intermediates = Enumerable.Range(1, Width).Select(i => Spawn($"intermediate#{i}", "intermediate")).ToArray();
        ChildProcess sender = Spawn("send_requests", "send_requests", "--messages", messages, "--size", size,
            "--consumers", Width.ToString(CultureInfo.InvariantCulture), "--startup-timeout", startup);
        ChildProcess receiver = Spawn("receive_replies", "receive_replies", "--messages", messages, "--size", size,
            "--idle-timeout", Seconds(_options.IdleTimeout), "--startup-timeout", startup);

        string[][] middle = await Task.WhenAll(intermediates.Select(c => c.WaitReadyAsync(ready, cancellationToken))).ConfigureAwait(false);
        string source = OneEndpoint(sender, await sender.WaitReadyAsync(ready, cancellationToken).ConfigureAwait(false));
        string sink = OneEndpoint(receiver, await receiver.WaitReadyAsync(ready, cancellationToken).ConfigureAwait(false));
        if (middle.Any(endpoints => endpoints.Length != 2))
        {
            throw new InvalidOperationException("an intermediate did not report both its input and output endpoint");
        }

        string inputs = string.Join(',', middle.Select(endpoints => endpoints[0]));
        string outputs = string.Join(',', middle.Select(endpoints => endpoints[1]));
        var workers = new List<ChildProcess>();
        for (int i = 1; i <= Width; i++)
        {
            workers.Add(Spawn($"component1#{i}", "component1", "--from", source, "--to", inputs));
            workers.Add(Spawn($"component2#{i}", "component2", "--from", outputs, "--to", sink));
        }

        await Task.WhenAll(workers.Select(c => c.WaitReadyAsync(ready, cancellationToken))).ConfigureAwait(false);
        return receiver;
    }

    /// <summary>Prints receive_replies' progress once a second until its RESULT line.</summary>
    private async Task WatchReceiverAsync(ChildProcess receiver, Stopwatch flowClock, CancellationToken cancellationToken)
    {
        // receive_replies prints at least once a second and gives up by itself after the idle
        // timeout, so a longer silence means it hangs.
        TimeSpan silence = _options.IdleTimeout + TimeSpan.FromSeconds(5);
        long previous = 0;
        while (await receiver.ReadLineAsync(silence, cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (line.StartsWith("PROGRESS ", StringComparison.Ordinal))
            {
                TakeCounts(line);
                Console.WriteLine($"butterfly: {flowClock.Elapsed.TotalSeconds,5:0.0} s received={_counts.Received} (+{_counts.Received - previous}/s)");
                previous = _counts.Received;
            }
            else if (line.StartsWith("RESULT ", StringComparison.Ordinal))
            {
                TakeCounts(line);
                return;
            }
        }

        throw new InvalidOperationException("receive_replies exited without a result");
    }

    /// <summary>Stops every child (STOP, then kill after the grace period), all at once.</summary>
    private Task StopAllAsync() => Task.WhenAll(Children().Select(c => c.StopAsync(StopGrace)));

    /// <summary>Reads the children's final lines (SENT, DONE) and notes any that failed; returns how many were sent.</summary>
    private long CollectReports(List<string> failures)
    {
        long? sent = null;
        var stages = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (ChildProcess child in Children())
        {
            foreach (string line in child.RemainingLines())
            {
                if (line.StartsWith("PROGRESS ", StringComparison.Ordinal) || line.StartsWith("RESULT ", StringComparison.Ordinal))
                {
                    // The run was cut short (Ctrl+C, timeout) while receive_replies still reported.
                    TakeCounts(line);
                }
                else if (line.StartsWith("SENT ", StringComparison.Ordinal))
                {
                    sent = long.Parse(line.AsSpan(5), CultureInfo.InvariantCulture);
                }
                else if (line.StartsWith("DONE ", StringComparison.Ordinal))
                {
                    string stage = child.Name.Split('#')[0];
                    if (!stages.TryGetValue(stage, out List<string>? list))
                    {
                        stages[stage] = list = new List<string>();
                    }

                    list.Add(line[5..].Replace("processed=", string.Empty, StringComparison.Ordinal));
                }
            }

            if (child.WasKilled)
            {
                failures.Add($"{child.Name} had to be killed");
            }
            else if (child.HasExited && child.ExitCode != 0)
            {
                failures.Add($"{child.Name} exited with code {child.ExitCode}");
            }
        }

        if (stages.Count > 0)
        {
            // Shows the load-balancing: how the requests split over the two instances of each stage.
            Console.WriteLine("butterfly: processed " + string.Join("; ", stages.Select(s => $"{s.Key} {string.Join(" | ", s.Value)}")));
        }

        if (sent is null)
        {
            failures.Add("send_requests did not say how many it sent");
        }

        return sent ?? 0;
    }

    /// <summary>Takes receive_replies' counts from <c>PROGRESS distinct received</c> or <c>RESULT name=value...</c>.</summary>
    private void TakeCounts(string line)
    {
        string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words[0] == "RESULT")
        {
            _counts = Counts.Parse(words);
            _reported = true;
        }
        else if (words.Length == 3)
        {
            _counts = _counts with
            {
                Distinct = long.Parse(words[1], CultureInfo.InvariantCulture),
                Received = long.Parse(words[2], CultureInfo.InvariantCulture),
            };
        }
    }

    private ChildProcess Spawn(string name, string role, params string[] arguments)
    {
        ChildProcess child = ChildProcess.Start(name, role, arguments);
        lock (_children)
        {
            _children.Add(child);
        }

        return child;
    }

    private ChildProcess[] Children()
    {
        lock (_children)
        {
            return _children.ToArray();
        }
    }

    /// <summary>The last resort, also from the process-exit handler: no child may outlive the orchestrator.</summary>
    private void KillAll()
    {
        foreach (ChildProcess child in Children())
        {
            child.Kill();
        }
    }

    private void DisposeChildren()
    {
        foreach (ChildProcess child in Children())
        {
            child.Dispose();
        }
    }

    private static string OneEndpoint(ChildProcess child, string[] endpoints) =>
        endpoints.Length == 1 ? endpoints[0] : throw new InvalidOperationException($"{child.Name} reported {endpoints.Length} endpoints instead of one");

    private static string Seconds(TimeSpan value) => value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>receive_replies' counts, from its PROGRESS and RESULT lines.</summary>
    private readonly record struct Counts(long Received, long Distinct, long Duplicates, long Corrupted, long? FlowMs = null)
    {
        internal static Counts Parse(string[] words)
        {
            var values = words.Skip(1).Select(w => w.Split('=', 2)).Where(kv => kv.Length == 2)
                .ToDictionary(kv => kv[0], kv => long.Parse(kv[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);
            return new Counts(values["received"], values["distinct"], values["duplicates"], values["corrupted"],
                values.TryGetValue("flow_ms", out long flowMs) ? flowMs : null);
        }
    }
}
