using Engine.Benchmarks.Peers;

namespace Engine.Benchmarks;

/// <summary>
/// Entry point. Peer mode runs one side of a measurement so each side can be any implementation:
/// <c>thr send|recv --impl engine --endpoint tcp://127.0.0.1:5555 --size 16 --count 1000000</c>.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length >= 2 && args[0] == "testpeer")
        {
            return TestPeer.Run(args);
        }

        if (args.Length >= 2 && args[0] == "thr")
        {
            return ThroughputPeer.Run(args[1], PeerArguments.Parse(args.AsSpan(2)));
        }

        Console.Error.WriteLine("usage: Engine.Benchmarks thr send|recv --impl engine --endpoint tcp://127.0.0.1:5555 --size 16 --count 1000000");
        return 2;
    }
}
