using Engine.Benchmarks.Implementations;

namespace Engine.Benchmarks.Peers;

/// <summary>
/// Both sides in one process over <c>inproc://</c> (engine, libzmq, NetMQ): <c>inproc thr</c> prints
/// the receiver's line, <c>inproc lat</c> the pinger's. The other side runs on a dedicated thread;
/// CPU is the whole process's, so it covers both sides.
/// </summary>
public static class InprocRun
{
    public static int Run(string pattern, PeerArguments a)
    {
        if (a.Impl == "raw")
        {
            Console.Error.WriteLine("inproc: the raw baseline is a tcp socket; there is nothing to run in-process");
            return 2;
        }

        using IMessaging messaging = Messaging.Create(a.Impl);
        string endpoint = $"inproc://bench-{pattern}-{Environment.ProcessId}";
        switch (pattern)
        {
            case "thr":
                Throughput(messaging, a with { Endpoint = endpoint });
                return 0;
            case "lat":
                Latency(messaging, a with { Endpoint = endpoint });
                return 0;
            default:
                Console.Error.WriteLine($"inproc: unknown pattern '{pattern}' (expected thr or lat)");
                return 2;
        }
    }

    private static void Throughput(IMessaging messaging, PeerArguments a)
    {
        ThroughputResult result;
        using (IMessageSource source = messaging.BindPull(a.Endpoint, a.Size, out string bound))
        {
            IMessageSink sink = messaging.ConnectPush(bound, a.Size);
            Exception? failure = null;
            var sender = new Thread(() =>
            {
                try
                {
                    Runs.Send(sink, a);
                    sink.Dispose();
                }
                catch (Exception e)
                {
                    failure = e;
                }
            })
            { IsBackground = true, Name = "inproc sender" };
            sender.Start();
            result = Runs.Receive(source, a);
            if (!sender.Join(Messaging.Linger) || failure is not null)
            {
                throw new InvalidOperationException("the inproc sender failed or did not finish", failure);
            }
        }

        result.Print();
    }

    private static void Latency(IMessaging messaging, PeerArguments a)
    {
        LatencyResult result;
        using (IReplier replier = messaging.BindRep(a.Endpoint, a.Size, out string bound))
        {
            Exception? failure = null;
            var ponger = new Thread(() =>
            {
                try
                {
                    Runs.Pong(replier, a with { Count = 0 }, out _);
                }
                catch (Exception e)
                {
                    failure = e;
                }
            })
            { IsBackground = true, Name = "inproc ponger" };
            ponger.Start();
            using (IRequester requester = messaging.ConnectReq(bound, a.Size))
            {
                result = Runs.Ping(requester, a);
            }

            if (!ponger.Join(Messaging.Timeout) || failure is not null)
            {
                throw new InvalidOperationException("the inproc ponger failed or did not finish", failure);
            }
        }

        result.Print();
    }
}
