using Engine.Sockets;

namespace Butterfly.Roles;

/// <summary>
/// Second worker stage: pulls fair-queued from the outputs of both intermediates and pushes to
/// receive_replies.
/// </summary>
internal static class Component2
{
    internal static int Run(Arguments args)
    {
        IReadOnlyList<string> intermediates = args.List("from");
        string sink = args.Required("to");
        using StageControl control = StageControl.Listen();

        var input = new PullSocket(Relay.SocketOptions());
        var output = new PushSocket(Relay.SocketOptions());
        RelayStats stats;
        try
        {
            foreach (string endpoint in intermediates)
            {
                input.Connect(endpoint);
            }

            output.Connect(sink);
            Console.WriteLine("READY component2");
            stats = Relay.Run(input, output, Payload.Component2Stamp, control);
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
