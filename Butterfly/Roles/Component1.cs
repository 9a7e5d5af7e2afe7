namespace Butterfly.Roles;

/// <summary>
/// First worker stage: pulls requests from send_requests and pushes them, load-balanced, to every
/// intermediate registered under <c>intermediate-in</c>, following the name as intermediates come,
/// die and move.
/// </summary>
internal static class Component1
{
    internal const string IntermediateInput = "intermediate-in";

    internal static int Run(Arguments args)
    {
        string source = args.Required("from");
        return Worker.Run(args, "component1", Payload.Component1Stamp, (input, output) =>
        {
            input.Connect(source);
            output.Connect("dir://" + IntermediateInput);
        });
    }
}
