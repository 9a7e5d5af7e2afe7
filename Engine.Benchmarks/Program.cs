using System.Globalization;
using Engine.Benchmarks.Peers;

namespace Engine.Benchmarks;

/// <summary>
/// Entry point. Peer mode runs one side of a measurement so each side can be any implementation;
/// <c>bench</c> runs the whole side-by-side suite; <c>micro</c> runs the BenchmarkDotNet micro-benchmarks.
/// </summary>
public static class Program
{
    private const string Usage = """
        usage: Engine.Benchmarks <verb> ...
          bench [--quick] [--reps N] [--duration S] [--warmup S] [--impl a,b] [--out DIR]
                                       the side-by-side suite (engine, libzmq, netmq, raw); writes DIR/results.json and results.md
          thr recv|send --impl engine|netmq|libzmq|raw --endpoint tcp://127.0.0.1:PORT --size 16 [--count N | --duration S] [--warmup S]
                                       one side of PUSH -> PULL throughput; the receiver binds (port 0 is fine) and prints bound=<endpoint>
          lat pong|ping --impl ... --endpoint ... --size 16 [--count N | --duration S] [--warmup S]
                                       one side of REQ/REP round trips; pong binds, ping prints rtt_us_p50=... rtt_us_p99=...
          inproc thr|lat --impl engine|netmq|libzmq --size 16 [--count N | --duration S] [--warmup S]
                                       both sides in this process over inproc://
          allocs [--transport tcp|inproc] [--size 16] [--count N]
                                       our PUSH -> PULL in one process: bytes allocated per message in steady state, by type
          micro [BenchmarkDotNet options, e.g. --filter *Pipe*]
                                       micro-benchmarks with the memory diagnoser
        """;

    public static int Main(string[] args)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        if (args.Length >= 2 && args[0] == "testpeer")
        {
            return TestPeer.Run(args);
        }

        try
        {
            return args switch
            {
                ["thr", string side, ..] => ThroughputPeer.Run(side, PeerArguments.Parse(args.AsSpan(2))),
                ["lat", string side, ..] => LatencyPeer.Run(side, PeerArguments.Parse(args.AsSpan(2))),
                ["inproc", string pattern, ..] => InprocRun.Run(pattern, PeerArguments.Parse(args.AsSpan(2))),
                ["bench", ..] => RunSuite(args.AsSpan(1)),
                ["allocs", ..] => AllocationProfile.Run(args.AsSpan(1)),
                ["micro", ..] => RunMicro(args[1..]),
                _ => PrintUsage(),
            };
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return PrintUsage();
        }
    }

    private static int PrintUsage()
    {
        Console.Error.WriteLine(Usage);
        return 2;
    }

    // Separate methods so that a peer process never loads the suite's or BenchmarkDotNet's assemblies.
    private static int RunSuite(ReadOnlySpan<string> args) => Suite.SuiteRunner.Run(Suite.SuiteOptions.Parse(args));

    private static int RunMicro(string[] args) => Micro.MicroBenchmarks.Run(args);
}
