using System.Buffers.Binary;
using Engine.Sockets;

namespace Engine.Benchmarks.Peers;

/// <summary>
/// A peer in its own process, for failure tests that need a real process to kill:
/// <c>testpeer pull --endpoint tcp://127.0.0.1:0 [--delay-us N]</c> binds a PULL, prints
/// <c>READY endpoint</c>, then prints the 8-byte id of every message it receives, one per line,
/// flushed at once (so a kill -9 loses nothing that was printed).
/// </summary>
public static class TestPeer
{
    public static int Run(ReadOnlySpan<string> args)
    {
        string endpoint = "tcp://127.0.0.1:0";
        int delayUs = 0;
        bool graceful = false;
        for (int i = 2; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--endpoint": endpoint = args[i + 1]; break;
                case "--delay-us": delayUs = int.Parse(args[i + 1]); break;
                case "--graceful": graceful = bool.Parse(args[i + 1]); break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        using var pull = new PullSocket(new SocketOptions { ReceiveBufferSize = 4096, ReceiveHighWatermark = 100 });
        Console.Out.Flush();
        string bound = pull.Bind(endpoint);
        var output = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
        output.WriteLine($"READY {bound}");

        // --graceful true: SIGTERM drains instead of killing (the one-line hookup applications use).
        using GracefulShutdown? shutdown = graceful ? GracefulShutdown.OnSignals(TimeSpan.FromSeconds(10)) : null;
        while (true)
        {
            if (!pull.TryReceive(out Msg frame, Timeout.InfiniteTimeSpan))
            {
                // Drained: everything that will ever arrive has been read.
                foreach (DrainReport report in shutdown!.Completion.GetAwaiter().GetResult())
                {
                    output.WriteLine($"DRAINED {report}");
                }

                return 0;
            }

            long id = frame.Length >= 8 ? BinaryPrimitives.ReadInt64LittleEndian(frame.Span) : -1;
            frame.Dispose();
            output.WriteLine(id);
            if (delayUs > 0)
            {
                Thread.Sleep(TimeSpan.FromMicroseconds(delayUs));
            }
        }
    }
}
