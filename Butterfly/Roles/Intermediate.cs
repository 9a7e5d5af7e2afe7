using Engine.Directory;
using Engine.Sockets;

namespace Butterfly.Roles;

/// <summary>
/// The middle of the butterfly: binds an input PULL and an output PUSH on <c>--host</c> (ports from
/// the OS) and registers them in the directory as <c>intermediate-in</c> and <c>intermediate-out</c>,
/// so the workers on either side find it wherever it runs.
/// </summary>
internal static class Intermediate
{
    /// <summary>
    /// A dead intermediate's entry leaves the directory one lease after its last renewal; short, so
    /// the workers stop reconnecting to a killed one soon. Renewed every lease/3.
    /// </summary>
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(3);

    internal static int Run(Arguments args)
    {
        string host = args.Optional("host", "127.0.0.1");
        int tag = args.Int("tag", 1);
        using StageControl control = StageControl.Listen();
        using DirectoryClient directory = Relay.DirectoryFrom(args);
        var stats = new RelayStats();
        using var reporter = new StageReporter(stats.ToString);
        var input = new PullSocket(Relay.SocketOptions(directory));
        var output = new PushSocket(Relay.SocketOptions(directory));
        try
        {
            reporter.Watch(input);
            reporter.Watch(output);
            string inputEndpoint = input.Bind($"tcp://{host}:0", registerAs: Component1.IntermediateInput, Lease);
            string outputEndpoint = output.Bind($"tcp://{host}:0", registerAs: Component2.IntermediateOutput, Lease);
            Console.WriteLine($"READY intermediate {inputEndpoint} {outputEndpoint}");
            reporter.Start();
            Relay.Run(input, output, Payload.IntermediateStamp, (byte)tag, control, stats);
        }
        finally
        {
            input.Dispose();
            output.Dispose();
        }

        reporter.Report();
        Console.WriteLine($"DONE {stats}");
        return 0;
    }
}
