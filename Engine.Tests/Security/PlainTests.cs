using Engine.Sockets;
using Engine.Tests.Interop;

namespace Engine.Tests.Security;

// NetMQ 4 has no PLAIN mechanism (it speaks NULL and CURVE only), so there is no NetMQ PLAIN test.

/// <summary>
/// PLAIN (RFC 24) between our sockets and with libzmq in both directions: good credentials carry
/// messages; bad ones get nothing through and fail the handshake with the authenticator's reason.
/// </summary>
[TestFixture]
[Category("interop")]
[CancelAfter(60_000)]
public sealed class PlainTests
{
    private static readonly TimeSpan NothingArrives = TimeSpan.FromMilliseconds(300);

    private static AuthenticationResult OnlyAlice(AuthenticationRequest request) =>
        request is { Mechanism: "PLAIN", Username: "alice", Password: "s3cret" }
            ? AuthenticationResult.Accept()
            : AuthenticationResult.Reject($"unknown user or wrong password for '{request.Username}'");

    private static SocketOptions Server()
    {
        SocketOptions options = InteropSettings.EngineOptions();
        options.PlainServer = true;
        options.Authenticator = OnlyAlice;
        return options;
    }

    private static SocketOptions Client(string user, string password)
    {
        SocketOptions options = InteropSettings.EngineOptions();
        options.PlainUsername = user;
        options.PlainPassword = password;
        return options;
    }

    [Test]
    public void OurClientWithGoodCredentialsReachesOurServer()
    {
        using var pull = new PullSocket(Server());
        string endpoint = pull.Bind(InteropSettings.OurBindAddress);
        using var push = new PushSocket(Client("alice", "s3cret"));
        push.Connect(endpoint);

        push.SendMultipart("key"u8.ToArray(), new byte[300]);
        List<byte[]> message = pull.ReceiveMultipart();
        Assert.That(message, Has.Count.EqualTo(2));
        Assert.That(message[1], Has.Length.EqualTo(300));
    }

    [Test]
    public void OurClientWithAWrongPasswordGetsNothingThroughAndIsToldWhy()
    {
        using var pull = new PullSocket(Server());
        string endpoint = pull.Bind(InteropSettings.OurBindAddress);
        using var serverEvents = new MonitorRecorder(pull);
        using var push = new PushSocket(Client("alice", "guess"));
        using var clientEvents = new MonitorRecorder(push);
        push.Connect(endpoint);
        push.TrySend("must not arrive"u8, TimeSpan.FromMilliseconds(100));

        MonitorEvent refused = clientEvents.WaitFor(MonitorEventKind.HandshakeFailed, 1);
        Assert.That(refused.Reason, Does.Contain("wrong password"), refused.ToString());
        MonitorEvent serverSide = serverEvents.WaitFor(MonitorEventKind.HandshakeFailed, 1);
        Assert.That(serverSide.Reason, Does.Contain("authentication failed"), serverSide.ToString());
        Assert.That(pull.TryReceive(out Msg frame, NothingArrives), Is.False, "a refused client's message arrived");
        frame.Dispose();
        Assert.That(serverEvents.Count(MonitorEventKind.HandshakeSucceeded), Is.Zero);
    }

    [Test]
    public void APlainServerWithoutAnAuthenticatorRefusesEveryone()
    {
        SocketOptions options = Server();
        options.Authenticator = null;
        using var pull = new PullSocket(options);
        string endpoint = pull.Bind(InteropSettings.OurBindAddress);
        using var push = new PushSocket(Client("alice", "s3cret"));
        using var clientEvents = new MonitorRecorder(push);
        push.Connect(endpoint);

        MonitorEvent refused = clientEvents.WaitFor(MonitorEventKind.HandshakeFailed, 1);
        Assert.That(refused.Reason, Does.Contain("no authenticator"), refused.ToString());
    }

    [Test]
    public void AnAuthenticatorThatThrowsRefuses()
    {
        SocketOptions options = Server();
        options.Authenticator = _ => throw new InvalidOperationException("bug");
        using var pull = new PullSocket(options);
        string endpoint = pull.Bind(InteropSettings.OurBindAddress);
        using var push = new PushSocket(Client("alice", "s3cret"));
        using var clientEvents = new MonitorRecorder(push);
        push.Connect(endpoint);

        MonitorEvent refused = clientEvents.WaitFor(MonitorEventKind.HandshakeFailed, 1);
        Assert.That(refused.Reason, Does.Contain("authenticator failed"), refused.ToString());
    }

    [Test]
    public void ANullClientAtAPlainServerFailsWithAMechanismMismatch()
    {
        using var pull = new PullSocket(Server());
        string endpoint = pull.Bind(InteropSettings.OurBindAddress);
        using var serverEvents = new MonitorRecorder(pull);
        using var push = new PushSocket(InteropSettings.EngineOptions());
        using var clientEvents = new MonitorRecorder(push);
        push.Connect(endpoint);

        MonitorEvent server = serverEvents.WaitFor(MonitorEventKind.HandshakeFailed, 1);
        Assert.That(server.Reason, Does.Contain("peer wants NULL, we use PLAIN"), server.ToString());
        MonitorEvent client = clientEvents.WaitFor(MonitorEventKind.HandshakeFailed, 1);
        Assert.That(client.Reason, Does.Contain("PLAIN"), client.ToString());
    }

    [Test]
    public void TwoPlainClientsRefuseEachOther()
    {
        using var pull = new PullSocket(Client("bob", "x"));
        string endpoint = pull.Bind(InteropSettings.OurBindAddress);
        using var serverEvents = new MonitorRecorder(pull);
        using var push = new PushSocket(Client("alice", "s3cret"));
        push.Connect(endpoint);

        // libzmq sends as-server 0 whatever its role, so the greeting cannot tell; the first command does.
        MonitorEvent failed = serverEvents.WaitFor(MonitorEventKind.HandshakeFailed, 1);
        Assert.That(failed.Reason, Does.Contain("expected WELCOME, got HELLO"), failed.ToString());
    }

    [Test]
    public void TwoPlainServersRefuseEachOtherAtTheGreeting()
    {
        using var pull = new PullSocket(Server());
        string endpoint = pull.Bind(InteropSettings.OurBindAddress);
        using var serverEvents = new MonitorRecorder(pull);
        using var push = new PushSocket(Server());
        push.Connect(endpoint);

        MonitorEvent failed = serverEvents.WaitFor(MonitorEventKind.HandshakeFailed, 1);
        Assert.That(failed.Reason, Does.Contain("both peers are PLAIN servers"), failed.ToString());
    }

    [Test]
    public void CredentialsLongerThan255BytesAreRefusedWhenSet()
    {
        var options = new SocketOptions();
        Assert.That(() => options.PlainUsername = new string('u', 256), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => options.PlainPassword = new string('é', 128), Throws.InstanceOf<ArgumentOutOfRangeException>());
        options.PlainPassword = new string('p', 255);
        Assert.That(options.PlainPassword, Has.Length.EqualTo(255));
    }

    [Test]
    public void OurClientReachesALibZmqPlainServer()
    {
        using var context = new ZmqContext();
        using var zap = new LibZmqZapHandler(context, AliceOnly);
        using ZmqSocket pull = context.CreateSocket(LibZmq.ZMQ_PULL);
        pull.SetOption(LibZmq.ZMQ_PLAIN_SERVER, 1);
        string endpoint = pull.Bind(InteropSettings.LibZmqBindAddress);
        using var push = new PushSocket(Client("alice", "s3cret"));
        using var events = new MonitorRecorder(push);
        push.Connect(endpoint);

        push.SendMultipart("one"u8.ToArray(), new byte[1000]);
        Assert.That(pull.TryReceive(out byte[] first, out bool more), Is.True, () => events.Describe());
        Assert.That(first, Is.EqualTo("one"u8.ToArray()));
        Assert.That(more, Is.True);
        Assert.That(pull.Receive(out more), Has.Length.EqualTo(1000));
        Assert.That(more, Is.False);
    }

    [Test]
    public void ALibZmqPlainServerRefusingOurClientGetsNothingThrough()
    {
        using var context = new ZmqContext();
        using var zap = new LibZmqZapHandler(context, AliceOnly);
        using ZmqSocket pull = context.CreateSocket(LibZmq.ZMQ_PULL);
        pull.SetOption(LibZmq.ZMQ_PLAIN_SERVER, 1);
        pull.SetOption(LibZmq.ZMQ_RCVTIMEO, (int)NothingArrives.TotalMilliseconds);
        string endpoint = pull.Bind(InteropSettings.LibZmqBindAddress);
        using var push = new PushSocket(Client("alice", "guess"));
        using var events = new MonitorRecorder(push);
        push.Connect(endpoint);
        push.TrySend("must not arrive"u8, TimeSpan.FromMilliseconds(100));

        // libzmq answers a ZAP refusal with ERROR carrying the status code.
        MonitorEvent refused = events.WaitFor(MonitorEventKind.HandshakeFailed, 1);
        Assert.That(refused.Reason, Does.Contain("400"), refused.ToString());
        Assert.That(pull.TryReceive(out _, out _), Is.False, "libzmq delivered a refused client's message");
    }

    private static bool AliceOnly(string mechanism, IReadOnlyList<byte[]> credentials) =>
        mechanism == "PLAIN" && credentials.Count == 2
        && credentials[0].AsSpan().SequenceEqual("alice"u8) && credentials[1].AsSpan().SequenceEqual("s3cret"u8);

    [Test]
    public void ALibZmqPlainClientReachesOurServer()
    {
        using var pull = new PullSocket(Server());
        string endpoint = pull.Bind(InteropSettings.OurBindAddress);
        using var context = new ZmqContext();
        using ZmqSocket push = context.CreateSocket(LibZmq.ZMQ_PUSH);
        push.SetOption(LibZmq.ZMQ_PLAIN_USERNAME, "alice");
        push.SetOption(LibZmq.ZMQ_PLAIN_PASSWORD, "s3cret");
        push.Connect(endpoint);

        push.Send("from libzmq"u8, more: true);
        push.Send(new byte[500]);
        List<byte[]> message = pull.ReceiveMultipart();
        Assert.That(message[0], Is.EqualTo("from libzmq"u8.ToArray()));
        Assert.That(message[1], Has.Length.EqualTo(500));
    }

    [Test]
    public void ALibZmqPlainClientWithAWrongPasswordGetsNothingThrough()
    {
        using var pull = new PullSocket(Server());
        string endpoint = pull.Bind(InteropSettings.OurBindAddress);
        using var serverEvents = new MonitorRecorder(pull);
        using var context = new ZmqContext();
        using ZmqSocket push = context.CreateSocket(LibZmq.ZMQ_PUSH);
        push.SetOption(LibZmq.ZMQ_PLAIN_USERNAME, "alice");
        push.SetOption(LibZmq.ZMQ_PLAIN_PASSWORD, "wrong");
        push.Connect(endpoint);
        push.TrySend("must not arrive"u8);

        MonitorEvent refused = serverEvents.WaitFor(MonitorEventKind.HandshakeFailed, 1);
        Assert.That(refused.Reason, Does.Contain("wrong password"), refused.ToString());
        Assert.That(pull.TryReceive(out Msg frame, NothingArrives), Is.False, "a refused libzmq client's message arrived");
        frame.Dispose();
    }
}
