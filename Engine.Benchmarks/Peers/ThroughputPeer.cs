using System.Diagnostics;
using Engine.Sockets;

namespace Engine.Benchmarks.Peers;

/// <summary>libzmq's local_thr/remote_thr pair: the receiver binds, the sender connects and sends as fast as it can.</summary>
public static class ThroughputPeer
{
    public static int Run(string side, PeerArguments a)
    {
        if (a.Impl != "engine")
        {
            Console.Error.WriteLine($"impl {a.Impl} not available yet");
            return 2;
        }

        return side == "recv" ? Receive(a) : Send(a);
    }

    private static int Receive(PeerArguments a)
    {
        using var pull = new PullSocket(new SocketOptions { ReceiveTimeout = TimeSpan.FromSeconds(30) });
        string bound = pull.Bind(a.Endpoint);
        Console.WriteLine($"bound={bound}");
        Msg first = pull.Receive();
        first.Dispose();
        var clock = Stopwatch.StartNew();
        TimeSpan cpuStart = Process.GetCurrentProcess().TotalProcessorTime;
        for (long i = 1; i < a.Count; i++)
        {
            Msg frame = pull.Receive();
            frame.Dispose();
        }

        clock.Stop();
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuStart;
        double seconds = clock.Elapsed.TotalSeconds;
        double rate = (a.Count - 1) / seconds;
        Console.WriteLine($"msgs_per_s={rate:0} mb_per_s={rate * a.Size / 1e6:0.0} cpu_ns_per_msg={cpu.TotalNanoseconds / (a.Count - 1):0}");
        return 0;
    }

    private static int Send(PeerArguments a)
    {
        using var push = new PushSocket(new SocketOptions { Linger = TimeSpan.FromSeconds(30) });
        push.Connect(a.Endpoint);
        for (long i = 0; i < a.Count; i++)
        {
            Msg frame = Msg.Allocate(a.Size);
            push.Send(ref frame);
        }

        return 0;
    }
}
