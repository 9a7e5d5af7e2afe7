using System.Text;
using Engine.Sockets;
using Engine.Tests.Interop;

namespace Engine.Tests.Security;

/// <summary>
/// CURVE (RFC 26) between our sockets and with libzmq in both directions and both roles:
/// messages of several sizes (empty, 1, 255, 256, 70 000 bytes, multipart) arrive intact; a client
/// without the server's real key, or refused by the authenticator, gets nothing through.
/// </summary>
[TestFixture]
[Category("interop")]
[CancelAfter(60_000)]
public sealed class CurveTests
{
    private static readonly TimeSpan NothingArrives = TimeSpan.FromMilliseconds(300);
    private static readonly int[] Sizes = [0, 1, 255, 256, 70_000];

    private static readonly CurveKeyPair ServerKeys = CurveKeyPair.Generate();
    private static readonly CurveKeyPair ClientKeys = CurveKeyPair.Generate();

    private static SocketOptions Server(Authenticator? authenticator = null)
    {
        SocketOptions options = InteropSettings.EngineOptions();
        options.CurveServer = true;
        options.CurveSecretKey = ServerKeys.SecretKey;
        options.CurvePublicKey = ServerKeys.PublicKey;
        options.Authenticator = authenticator;
        return options;
    }

    private static SocketOptions Client(byte[]? serverKey = null)
    {
        SocketOptions options = InteropSettings.EngineOptions();
        options.CurveServerKey = serverKey ?? ServerKeys.PublicKey;
        options.CurvePublicKey = ClientKeys.PublicKey;
        options.CurveSecretKey = ClientKeys.SecretKey;
        return options;
    }

    private static byte[] Payload(int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static void SendAll(ISendSocket socket)
    {
        foreach (int size in Sizes)
        {
            socket.Send(Payload(size, size));
        }

        socket.SendMultipart(Payload(3, 1), Payload(300, 2), Payload(0, 3));
    }

    private static void ReceiveAll(Func<(byte[] Frame, bool More)> receive)
    {
        foreach (int size in Sizes)
        {
            (byte[] frame, bool more) = receive();
            Assert.That(frame, Is.EqualTo(Payload(size, size)), $"{size}-byte message");
            Assert.That(more, Is.False);
        }

        byte[][] expected = [Payload(3, 1), Payload(300, 2), Payload(0, 3)];
        for (int i = 0; i < expected.Length; i++)
        {
            (byte[] frame, bool more) = receive();
            Assert.That(frame, Is.EqualTo(expected[i]), $"part {i} of the multipart message");
            Assert.That(more, Is.EqualTo(i < expected.Length - 1));
        }
    }

    private static Func<(byte[], bool)> From(IReceiveSocket socket) => () => (socket.ReceiveBytes(out bool more), more);

    private static Func<(byte[], bool)> From(ZmqSocket socket) => () => (socket.Receive(out bool more), more);

    [Test]
    public void OurClientAndOurServerExchangeMessagesOfEverySizeBothWays()
    {
        using var pull = new PullSocket(Server());
        string toServer = pull.Bind(InteropSettings.OurBindAddress);
        using var push = new PushSocket(Client());
        push.Connect(toServer);
        SendAll(push);
        ReceiveAll(From(pull));

        using var serverPush = new PushSocket(Server());
        string fromServer = serverPush.Bind(InteropSettings.OurBindAddress);
        using var clientPull = new PullSocket(Client());
        clientPull.Connect(fromServer);
        SendAll(serverPush);
        ReceiveAll(From(clientPull));
    }

    [Test]
    public void AClientWithTheWrongServerKeyGetsNothingThrough()
    {
        using var pull = new PullSocket(Server());
        string endpoint = pull.Bind(InteropSettings.OurBindAddress);
        using var serverEvents = new MonitorRecorder(pull);
        using var push = new PushSocket(Client(CurveKeyPair.Generate().PublicKey));
        using var clientEvents = new MonitorRecorder(push);
        push.Connect(endpoint);
        push.TrySend("must not arrive"u8, TimeSpan.FromMilliseconds(100));

        MonitorEvent refused = serverEvents.WaitFor(MonitorEventKind.HandshakeFailed, 1);
        Assert.That(refused.Reason, Does.Contain("HELLO does not open"), refused.ToString());
        clientEvents.WaitFor(MonitorEventKind.HandshakeFailed, 1);
        Assert.That(pull.TryReceive(out Msg frame, NothingArrives), Is.False, "a client without the server's key got a message through");
        frame.Dispose();
        Assert.That(serverEvents.Count(MonitorEventKind.HandshakeSucceeded), Is.Zero);
    }

    [Test]
    public void TheAuthenticatorDecidesOnTheClientsPublicKey()
    {
        byte[]? seen = null;
        using var pull = new PullSocket(Server(request =>
        {
            seen = request.ClientPublicKey;
            return AuthenticationResult.Reject("key not on the list");
        }));
        string endpoint = pull.Bind(InteropSettings.OurBindAddress);
        using var push = new PushSocket(Client());
        using var clientEvents = new MonitorRecorder(push);
        push.Connect(endpoint);
        push.TrySend("must not arrive"u8, TimeSpan.FromMilliseconds(100));

        MonitorEvent refused = clientEvents.WaitFor(MonitorEventKind.HandshakeFailed, 1);
        Assert.That(refused.Reason, Does.Contain("key not on the list"), refused.ToString());
        Assert.That(seen, Is.EqualTo(ClientKeys.PublicKey));
        Assert.That(pull.TryReceive(out Msg frame, NothingArrives), Is.False);
        frame.Dispose();
    }

    [Test]
    public void KeysAreCheckedWhenSetAndZ85MatchesLibZmq()
    {
        var options = new SocketOptions();
        Assert.That(() => options.CurveServerKey = new byte[31], Throws.ArgumentException);
        Assert.That(() => options.CurveServerKey = Encoding.ASCII.GetBytes(new string('~', 40)), Throws.ArgumentException);

        (string publicZ85, string secretZ85) = LibZmqKeyPair();
        CurveKeyPair derived = CurveKeyPair.FromSecretKey(secretZ85);
        Assert.That(derived.PublicKeyZ85, Is.EqualTo(publicZ85), "our Z85 and key derivation agree with zmq_curve_keypair");
        options.CurveServerKey = Encoding.ASCII.GetBytes(publicZ85);
        Assert.That(options.CurveServerKey, Is.EqualTo(derived.PublicKey));
    }

    [Test]
    public void IncompleteOrContradictorySecurityOptionsFailAtConnect()
    {
        SocketOptions noSecret = Client();
        noSecret.CurveSecretKey = null;
        noSecret.CurvePublicKey = null;
        using var push = new PushSocket(noSecret);
        Assert.That(() => push.Connect("tcp://127.0.0.1:1"), Throws.InvalidOperationException.With.Message.Contains("CurveSecretKey"));

        SocketOptions mismatched = Client();
        mismatched.CurvePublicKey = ServerKeys.PublicKey;
        using var other = new PushSocket(mismatched);
        Assert.That(() => other.Connect("tcp://127.0.0.1:1"), Throws.InvalidOperationException.With.Message.Contains("not the public key"));

        SocketOptions both = Server();
        both.PlainUsername = "alice";
        using var pull = new PullSocket(both);
        Assert.That(() => pull.Bind(InteropSettings.OurBindAddress), Throws.InvalidOperationException.With.Message.Contains("one security role"));
    }

    [Test]
    public void OurClientTalksToALibZmqCurveServerBothWays()
    {
        using var context = new ZmqContext();
        using var zap = new LibZmqZapHandler(context, (_, _) => true);
        using ZmqSocket pull = LibZmqServer(context, LibZmq.ZMQ_PULL);
        using var push = new PushSocket(Client());
        using var events = new MonitorRecorder(push);
        push.Connect(pull.Bind(InteropSettings.LibZmqBindAddress));
        SendAll(push);
        Assert.That(pull.TryReceive(out byte[] first, out bool more), Is.True, () => events.Describe());
        Assert.That(first, Is.Empty);
        Assert.That(more, Is.False);
        ReceiveAll(From(pull), skipFirst: true);

        using ZmqSocket serverPush = LibZmqServer(context, LibZmq.ZMQ_PUSH);
        using var clientPull = new PullSocket(Client());
        clientPull.Connect(serverPush.Bind(InteropSettings.LibZmqBindAddress));
        foreach (int size in Sizes)
        {
            serverPush.Send(Payload(size, size));
        }

        serverPush.Send(Payload(3, 1), more: true);
        serverPush.Send(Payload(300, 2), more: true);
        serverPush.Send(Payload(0, 3));
        ReceiveAll(From(clientPull));
    }

    [Test]
    public void ALibZmqCurveClientTalksToOurServerBothWays()
    {
        using var context = new ZmqContext();
        using var pull = new PullSocket(Server());
        using var events = new MonitorRecorder(pull);
        using ZmqSocket push = LibZmqClient(context, LibZmq.ZMQ_PUSH, ServerKeys.PublicKey);
        push.Connect(pull.Bind(InteropSettings.OurBindAddress));
        foreach (int size in Sizes)
        {
            push.Send(Payload(size, size));
        }

        push.Send(Payload(3, 1), more: true);
        push.Send(Payload(300, 2), more: true);
        push.Send(Payload(0, 3));
        Assert.That(pull.TryReceive(out Msg probe, TimeSpan.FromSeconds(10)), Is.True, () => events.Describe());
        Assert.That(probe.Length, Is.Zero);
        probe.Dispose();
        ReceiveAll(From(pull), skipFirst: true);

        using var serverPush = new PushSocket(Server());
        using ZmqSocket clientPull = LibZmqClient(context, LibZmq.ZMQ_PULL, ServerKeys.PublicKey);
        clientPull.Connect(serverPush.Bind(InteropSettings.OurBindAddress));
        SendAll(serverPush);
        ReceiveAll(From(clientPull));
    }

    [Test]
    public void ALibZmqClientWithTheWrongServerKeyGetsNothingThrough()
    {
        using var context = new ZmqContext();
        using var pull = new PullSocket(Server());
        using var events = new MonitorRecorder(pull);
        using ZmqSocket push = LibZmqClient(context, LibZmq.ZMQ_PUSH, CurveKeyPair.Generate().PublicKey);
        push.Connect(pull.Bind(InteropSettings.OurBindAddress));
        push.TrySend("must not arrive"u8);

        MonitorEvent refused = events.WaitFor(MonitorEventKind.HandshakeFailed, 1);
        Assert.That(refused.Reason, Does.Contain("HELLO does not open"), refused.ToString());
        Assert.That(pull.TryReceive(out Msg frame, NothingArrives), Is.False);
        frame.Dispose();
    }

    private static void ReceiveAll(Func<(byte[] Frame, bool More)> receive, bool skipFirst)
    {
        // The first (empty) message was already checked by the caller, to report the monitor on failure.
        bool skipped = !skipFirst;
        ReceiveAll(() =>
        {
            if (!skipped)
            {
                skipped = true;
                return (Payload(0, 0), false);
            }

            return receive();
        });
    }

    private static ZmqSocket LibZmqServer(ZmqContext context, int type)
    {
        ZmqSocket socket = context.CreateSocket(type);
        socket.SetOption(LibZmq.ZMQ_CURVE_SERVER, 1);
        socket.SetOption(LibZmq.ZMQ_CURVE_SECRETKEY, ServerKeys.SecretKey);
        return socket;
    }

    private static ZmqSocket LibZmqClient(ZmqContext context, int type, byte[] serverKey)
    {
        ZmqSocket socket = context.CreateSocket(type);
        socket.SetOption(LibZmq.ZMQ_CURVE_SERVERKEY, serverKey);
        socket.SetOption(LibZmq.ZMQ_CURVE_PUBLICKEY, ClientKeys.PublicKey);
        socket.SetOption(LibZmq.ZMQ_CURVE_SECRETKEY, ClientKeys.SecretKey);
        return socket;
    }

    private static unsafe (string Public, string Secret) LibZmqKeyPair()
    {
        byte* publicKey = stackalloc byte[41];
        byte* secretKey = stackalloc byte[41];
        Assert.That(LibZmq.zmq_curve_keypair(publicKey, secretKey), Is.Zero, "libzmq was built without CURVE");
        return (new string((sbyte*)publicKey, 0, 40), new string((sbyte*)secretKey, 0, 40));
    }
}
