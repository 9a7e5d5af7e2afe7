using System.Globalization;
using Engine.Benchmarks.Implementations;

namespace Engine.Benchmarks.Peers;

/// <summary>
/// One side of a REQ/REP round-trip run (libzmq's local_lat/remote_lat pair): <c>pong</c> binds,
/// prints <c>bound=&lt;endpoint&gt;</c> and echoes; <c>ping</c> connects, times each round trip and ends
/// with <c>rtt_us_p50=... rtt_us_p99=... rtt_us_p999=... rtt_us_mean=...</c>. For <c>raw</c> it is a
/// plain socket ping-pong with the same 2-byte framing.
/// </summary>
public static class LatencyPeer
{
    public static int Run(string side, PeerArguments a)
    {
        using IMessaging messaging = Messaging.Create(a.Impl);
        switch (side)
        {
            case "pong":
                Pong(messaging, a);
                return 0;
            case "ping":
                Ping(messaging, a);
                return 0;
            default:
                Console.Error.WriteLine($"lat: unknown side '{side}' (expected ping or pong)");
                return 2;
        }
    }

    private static void Pong(IMessaging messaging, PeerArguments a)
    {
        long served;
        ResourceUsage used;
        using (IReplier replier = messaging.BindRep(a.Endpoint, a.Size, out string bound))
        {
            Console.WriteLine($"bound={bound}");
            served = Runs.Pong(replier, a, out used);
        }

        Console.WriteLine($"served={served} {Runs.PerMessage(used, served)}");
    }

    private static void Ping(IMessaging messaging, PeerArguments a)
    {
        LatencyResult result;
        using (IRequester requester = messaging.ConnectReq(a.Endpoint, a.Size))
        {
            result = Runs.Ping(requester, a);
        }

        result.Print();
    }
}
