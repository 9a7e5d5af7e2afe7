using System.Diagnostics;
using Engine.Benchmarks.Implementations;

namespace Engine.Benchmarks.Peers;

/// <summary>
/// One side of a PUSH -> PULL throughput run, any implementation on either side (libzmq's
/// local_thr/remote_thr pair): the receiver binds, prints <c>bound=&lt;endpoint&gt;</c>, and ends with
/// <c>msgs_per_s=... mb_per_s=... cpu_ns_per_msg=...</c>; the sender connects and sends as fast as it can.
/// </summary>
public static class ThroughputPeer
{
    public static int Run(string side, PeerArguments a)
    {
        using IMessaging messaging = Messaging.Create(a.Impl);
        switch (side)
        {
            case "recv":
                Receive(messaging, a);
                return 0;
            case "send":
                Send(messaging, a);
                return 0;
            default:
                Console.Error.WriteLine($"thr: unknown side '{side}' (expected send or recv)");
                return 2;
        }
    }

    private static void Receive(IMessaging messaging, PeerArguments a)
    {
        ThroughputResult result;
        using (IMessageSource source = messaging.BindPull(a.Endpoint, a.Size, out string bound))
        {
            Console.WriteLine($"bound={bound}");
            result = Runs.Receive(source, a);
        }

        result.Print();
    }

    private static void Send(IMessaging messaging, PeerArguments a)
    {
        ResourceUsage usageStart = ResourceUsage.Now();
        var clock = Stopwatch.StartNew();
        long sent;
        using (IMessageSink sink = messaging.ConnectPush(a.Endpoint, a.Size))
        {
            sent = Runs.Send(sink, a);
        }

        // Closing lingers until everything is on the wire: that work belongs to the messages too.
        messaging.Dispose();
        Runs.PrintSender(sent, ResourceUsage.Now() - usageStart, clock.Elapsed.TotalSeconds);
    }
}
