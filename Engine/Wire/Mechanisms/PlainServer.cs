using System.Buffers;
using System.Text;

namespace Engine.Wire.Mechanisms;

/// <summary>
/// PLAIN server (RFC 24): HELLO in, the authenticator decides, WELCOME (or ERROR with its reason)
/// out, INITIATE(metadata) in, READY(metadata) out. Sends nothing before the client's HELLO.
/// </summary>
internal sealed class PlainServer(Metadata ours, Authenticator? authenticator, string peerAddress) : IMechanism
{
    private bool _helloAccepted;

    public string Name => PlainClient.MechanismName;

    public bool AsServer => true;

    public void Start(IBufferWriter<byte> output)
    {
    }

    public Metadata? Process(ReadOnlySpan<byte> name, ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        if (!_helloAccepted)
        {
            MechanismCommands.Expect(name, MechanismCommands.Hello);
            (string username, string password) = ParseHello(data);
            MechanismCommands.Authenticate(authenticator, new AuthenticationRequest("PLAIN", peerAddress, username, password, null), acceptWithoutAuthenticator: false);
            _helloAccepted = true;
            output.Write(Commands.Build(MechanismCommands.Welcome, default));
            return null;
        }

        Metadata peer = MechanismCommands.ExpectMetadata(name, data, MechanismCommands.Initiate);
        output.Write(Commands.BuildReady(ours));
        return peer;
    }

    private static (string Username, string Password) ParseHello(ReadOnlySpan<byte> data)
    {
        // username-size(1) username password-size(1) password, and nothing after.
        if (data.Length >= 1 && data.Length >= 2 + data[0])
        {
            int userLength = data[0];
            int passLength = data[1 + userLength];
            if (data.Length == 2 + userLength + passLength)
            {
                return (Encoding.UTF8.GetString(data.Slice(1, userLength)), Encoding.UTF8.GetString(data.Slice(2 + userLength, passLength)));
            }
        }

        throw new ProtocolViolationException(ProtocolError.MalformedCommand, $"PLAIN HELLO of {data.Length} bytes does not match its length fields");
    }
}
