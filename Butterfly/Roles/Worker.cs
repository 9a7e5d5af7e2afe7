using Engine;
using Engine.Directory;
using Engine.Sockets;

namespace Butterfly.Roles;

/// <summary>
/// component1 and component2: a PULL in, a PUSH out, the relay loop between, and a graceful drain
/// on SIGTERM or Ctrl+C (<see cref="GracefulShutdown"/>): upstream peers stop sending to this worker
/// and hand what they still had for it to the other workers, the worker relays everything it holds,
/// flushes, prints its drain reports and exits 0.
/// </summary>
internal static class Worker
{
    /// <summary>Runs one worker; <paramref name="wire"/> connects its input and output.</summary>
    internal static int Run(Arguments args, string role, byte stageBit, Action<PullSocket, PushSocket> wire)
    {
        int instance = args.Int("instance", 1);
        if (instance is < 1 or > 15)
        {
            // The instance goes into a 4-bit field of the payload.
            throw new ArgumentException($"--instance must be 1 to 15 (got {instance})");
        }

        TimeSpan drainTimeout = args.Seconds("drain-timeout", 10);
        using StageControl control = StageControl.Listen(onInterrupt: false);
        using GracefulShutdown shutdown = GracefulShutdown.OnSignals(drainTimeout);
        using DirectoryClient directory = Relay.DirectoryFrom(args);
        var stats = new RelayStats();
        using var reporter = new StageReporter(stats.ToString);
        var input = new PullSocket(Relay.SocketOptions(directory));
        var output = new PushSocket(Relay.SocketOptions(directory));
        try
        {
            reporter.Watch(input);
            reporter.Watch(output);
            wire(input, output);
            Console.WriteLine($"READY {role}");
            reporter.Start();
            Relay.Run(input, output, stageBit, (byte)instance, control, stats);
            if (!shutdown.ShutdownRequested.IsCancellationRequested)
            {
                reporter.Report();
                Console.WriteLine($"DONE {stats}");
                return 0;
            }

            // Told to STOP while draining (Ctrl+C reaches the whole process group): the orchestrator
            // is ending the run and kills stragglers after a few seconds, so wait only briefly.
            return ReportDrain(shutdown, control.Stopping ? TimeSpan.FromSeconds(2) : drainTimeout + TimeSpan.FromSeconds(5), reporter, stats);
        }
        finally
        {
            input.Dispose();
            output.Dispose();
        }
    }

    /// <summary>The input is drained; waits (bounded) for the outputs to flush and prints one DRAIN line per socket.</summary>
    private static int ReportDrain(GracefulShutdown shutdown, TimeSpan wait, StageReporter reporter, RelayStats stats)
    {
        Task<IReadOnlyList<DrainReport>> completion = shutdown.Completion;
        if (!completion.Wait(wait))
        {
            Console.Error.WriteLine($"the drain did not finish within {wait.TotalSeconds:0} s");
            return 1;
        }

        bool clean = true;
        foreach (DrainReport report in completion.Result)
        {
            Console.WriteLine($"DRAIN {report}");
            clean &= report.Completed && report.UndeliveredCount == 0;
        }

        reporter.Report();
        Console.WriteLine($"DONE drained {stats}");
        return clean ? 0 : 1;
    }
}
