using System.Buffers;

namespace Engine.Wire.Mechanisms;

/// <summary>NULL (RFC 23): READY both ways, no authentication, no encryption.</summary>
internal sealed class NullMechanism(Metadata ours) : IMechanism
{
    internal const string MechanismName = "NULL";

    public string Name => MechanismName;

    public bool AsServer => false;

    public void Start(IBufferWriter<byte> output) => output.Write(Commands.BuildReady(ours));

    public Metadata? Process(ReadOnlySpan<byte> name, ReadOnlySpan<byte> data, IBufferWriter<byte> output) =>
        MechanismCommands.ExpectMetadata(name, data, Commands.Ready);
}
