using System.Buffers;
using System.Text;

namespace Engine.Wire.Mechanisms;

/// <summary>
/// PLAIN client (RFC 24): HELLO(user name, password) out, WELCOME in, INITIATE(metadata) out,
/// READY(metadata) in. A refused client gets ERROR instead of WELCOME or READY (the session turns it into the failure).
/// </summary>
internal sealed class PlainClient(Metadata ours, string username, string password) : IMechanism
{
    internal const string MechanismName = "PLAIN";

    private bool _welcomed;

    public string Name => MechanismName;

    public bool AsServer => false;

    public void Start(IBufferWriter<byte> output)
    {
        // Both were checked to be at most 255 bytes when set (SocketOptions).
        byte[] user = Encoding.UTF8.GetBytes(username);
        byte[] pass = Encoding.UTF8.GetBytes(password);
        var data = new byte[1 + user.Length + 1 + pass.Length];
        data[0] = (byte)user.Length;
        user.CopyTo(data, 1);
        data[1 + user.Length] = (byte)pass.Length;
        pass.CopyTo(data, 2 + user.Length);
        output.Write(Commands.Build(MechanismCommands.Hello, data));
    }

    public Metadata? Process(ReadOnlySpan<byte> name, ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        if (!_welcomed)
        {
            MechanismCommands.Expect(name, MechanismCommands.Welcome);
            if (!data.IsEmpty)
            {
                throw new ProtocolViolationException(ProtocolError.MalformedCommand, $"WELCOME with {data.Length} bytes of data (PLAIN's is empty)");
            }

            _welcomed = true;
            output.Write(Commands.Build(MechanismCommands.Initiate, ours.ToArray()));
            return null;
        }

        return MechanismCommands.ExpectMetadata(name, data, Commands.Ready);
    }
}
