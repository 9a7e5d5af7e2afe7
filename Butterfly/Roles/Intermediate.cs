using Engine.Sockets;

namespace Butterfly.Roles;

/// <summary>
/// The stable middle of the butterfly: binds an input PULL (for every component1) and an output
/// PUSH (for every component2), so the workers on either side can come and go.
/// </summary>
internal static class Intermediate
{
    internal static int Run(Arguments args)
    {
        using StageControl control = StageControl.Listen();
        var input = new PullSocket(Relay.SocketOptions());
        var output = new PushSocket(Relay.SocketOptions());
        RelayStats stats;
        try
        {
            // Port 0: the OS picks free ports and the orchestrator learns them from the READY line.
            string inputEndpoint = input.Bind("tcp://127.0.0.1:0");
            string outputEndpoint = output.Bind("tcp://127.0.0.1:0");
            Console.WriteLine($"READY intermediate {inputEndpoint} {outputEndpoint}");
            stats = Relay.Run(input, output, Payload.IntermediateStamp, control);
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
