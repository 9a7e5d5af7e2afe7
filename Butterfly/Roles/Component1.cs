using Engine.Sockets;

namespace Butterfly.Roles;

/// <summary>
/// First worker stage: pulls requests from send_requests and pushes them, load-balanced, to the
/// inputs of both intermediates.
/// </summary>
internal static class Component1
{
    internal static int Run(Arguments args)
    {
        string source = args.Required("from");
        IReadOnlyList<string> intermediates = args.List("to");
        using StageControl control = StageControl.Listen();

        var input = new PullSocket(Relay.SocketOptions());
        var output = new PushSocket(Relay.SocketOptions());
        RelayStats stats;
        try
        {
            input.Connect(source);
            foreach (string endpoint in intermediates)
            {
                // Connect queues for each peer before it is up, so the round-robin covers both
                // intermediates from the first message on.
                output.Connect(endpoint);
            }

            Console.WriteLine("READY component1");
            stats = Relay.Run(input, output, Payload.Component1Stamp, control);
        }
        finally
        {
            input.Dispose();
            output.Dispose();
        }

        Console.WriteLine($"DONE {stats}");
        return 0;
    }
}
