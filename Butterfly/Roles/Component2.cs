namespace Butterfly.Roles;

/// <summary>
/// Second worker stage: pulls, fair-queued, from every intermediate registered under
/// <c>intermediate-out</c> and pushes to receive_replies.
/// </summary>
internal static class Component2
{
    internal const string IntermediateOutput = "intermediate-out";

    internal static int Run(Arguments args)
    {
        string sink = args.Required("to");
        return Worker.Run(args, "component2", Payload.Component2Stamp, (input, output) =>
        {
            input.Connect("dir://" + IntermediateOutput);
            output.Connect(sink);
        });
    }
}
