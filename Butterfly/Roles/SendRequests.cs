using Engine;
using Engine.Sockets;

namespace Butterfly.Roles;

/// <summary>
/// The source: binds a PUSH, and on GO sends <c>--messages</c> requests (id + pattern body +
/// checksum) round-robin to the component1 workers.
/// </summary>
internal static class SendRequests
{
    internal static int Run(Arguments args)
    {
        int messages = args.Int("messages", 100_000);
        int size = args.Int("size", Payload.DefaultBodySize);
        int consumers = args.Int("consumers", 2);
        TimeSpan startupTimeout = args.Seconds("startup-timeout", 30);
        TimeSpan stallTimeout = args.Seconds("stall-timeout", 10);
        using StageControl control = StageControl.Listen();

        var output = new PushSocket(Relay.SocketOptions());
        long sent = 0;
        try
        {
            string endpoint = output.Bind("tcp://127.0.0.1:0");

            // Counting handshakes starts before READY; the monitor buffers events, so none is missed.
            Task<bool> consumersUp = WaitForHandshakesAsync(output, consumers, control.StopToken);
            Console.WriteLine($"READY send_requests {endpoint}");
            if (!control.WaitForGo(startupTimeout))
            {
                Console.Error.WriteLine(control.Stopping ? "stopped before GO" : $"no GO within {startupTimeout.TotalSeconds:0} s");
                return 1;
            }

            // A bound PUSH sends only to peers already connected: starting before both component1
            // workers are up would hand the first burst to one of them. Not fatal, so only warned.
            if (!consumersUp.Wait(startupTimeout))
            {
                Console.Error.WriteLine($"fewer than {consumers} component1 workers connected within {startupTimeout.TotalSeconds:0} s; sending anyway");
            }

            sent = SendAll(output, messages, size, stallTimeout, control);
        }
        finally
        {
            // Printed on every way out, so the orchestrator always learns how many were really sent.
            Console.WriteLine($"SENT {sent}");
        }

        // Closing now could cut off requests still queued for component1; hold the socket until
        // the orchestrator has the result. The bound is only a backstop: a vanished orchestrator
        // closes our stdin, which stops us at once.
        control.WaitForStop(TimeSpan.FromMinutes(10));
        output.Dispose();
        return sent == messages ? 0 : 1;
    }

    private static long SendAll(PushSocket output, int messages, int size, TimeSpan stallTimeout, StageControl control)
    {
        int frameSize = Payload.FrameSize(size);
        for (int id = 0; id < messages; id++)
        {
            Msg request = Msg.Allocate(frameSize);
            Payload.Write(request.WritableSpan, (ulong)id);
            long stalledSince = Environment.TickCount64;
            while (!output.TrySend(ref request, Relay.Poll))
            {
                if (control.Stopping || Environment.TickCount64 - stalledSince > (long)stallTimeout.TotalMilliseconds)
                {
                    request.Dispose();
                    if (!control.Stopping)
                    {
                        Console.Error.WriteLine($"no room to send request {id} for {stallTimeout.TotalSeconds:0} s; giving up");
                    }

                    return id;
                }
            }
        }

        return messages;
    }

    private static async Task<bool> WaitForHandshakesAsync(MessageSocket socket, int count, CancellationToken cancellationToken)
    {
        int up = 0;
        try
        {
            await foreach (MonitorEvent e in socket.MonitorAsync(cancellationToken).ConfigureAwait(false))
            {
                if (e.Kind == MonitorEventKind.HandshakeSucceeded && ++up >= count)
                {
                    return true;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        return false;
    }
}
