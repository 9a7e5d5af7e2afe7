using Engine.Sockets;
using Engine.Tests.Interop;
using NetMQ;
using NetMQPull = NetMQ.Sockets.PullSocket;
using NetMQPush = NetMQ.Sockets.PushSocket;

namespace Engine.Tests.Security;

/// <summary>
/// CURVE with NetMQ 4 (its managed CurveZMQ) in both roles, and Linger under CURVE: a socket
/// closed right after its sends still delivers them, because the filter reports a flush only once
/// the boxes are on the wire.
/// </summary>
[TestFixture]
[Category("interop")]
[CancelAfter(60_000)]
public sealed class CurveNetMQAndLingerTests
{
    private static readonly CurveKeyPair ServerKeys = CurveKeyPair.Generate();
    private static readonly CurveKeyPair ClientKeys = CurveKeyPair.Generate();

    [OneTimeTearDown]
    public void CleanupNetMQ() => NetMQConfig.Cleanup(block: false);

    private static SocketOptions Server()
    {
        SocketOptions options = InteropSettings.EngineOptions();
        options.CurveServer = true;
        options.CurveSecretKey = ServerKeys.SecretKey;
        options.CurvePublicKey = ServerKeys.PublicKey;
        return options;
    }

    private static SocketOptions Client()
    {
        SocketOptions options = InteropSettings.EngineOptions();
        options.CurveServerKey = ServerKeys.PublicKey;
        options.CurvePublicKey = ClientKeys.PublicKey;
        options.CurveSecretKey = ClientKeys.SecretKey;
        return options;
    }

    [Test]
    public void ANetMQCurveClientReachesOurServer()
    {
        using var pull = new PullSocket(Server());
        string endpoint = pull.Bind(InteropSettings.OurBindAddress);
        using var push = new NetMQPush();
        push.Options.Linger = TimeSpan.Zero;
        push.Options.CurveServerKey = ServerKeys.PublicKey;
        push.Options.CurveCertificate = new NetMQCertificate(ClientKeys.SecretKey, ClientKeys.PublicKey);
        push.Connect(endpoint);

        push.SendMoreFrame("part").SendFrame(new byte[1000]);
        List<byte[]> message = pull.ReceiveMultipart();
        Assert.That(message[0], Is.EqualTo("part"u8.ToArray()));
        Assert.That(message[1], Has.Length.EqualTo(1000));
    }

    [Test]
    public void OurCurveClientReachesANetMQServer()
    {
        using var pull = new NetMQPull();
        pull.Options.Linger = TimeSpan.Zero;
        pull.Options.CurveServer = true;
        pull.Options.CurveCertificate = new NetMQCertificate(ServerKeys.SecretKey, ServerKeys.PublicKey);
        int port = pull.BindRandomPort("tcp://127.0.0.1");
        using var push = new PushSocket(Client());
        push.Connect($"tcp://127.0.0.1:{port}");

        push.SendMultipart("part"u8.ToArray(), new byte[1000]);
        Assert.That(pull.TryReceiveFrameBytes(InteropSettings.OperationTimeout, out byte[]? first, out bool more), Is.True, "NetMQ received nothing");
        Assert.That(first, Is.EqualTo("part"u8.ToArray()));
        Assert.That(more, Is.True);
        Assert.That(pull.TryReceiveFrameBytes(InteropSettings.OperationTimeout, out byte[]? second, out more), Is.True);
        Assert.That(second, Has.Length.EqualTo(1000));
        Assert.That(more, Is.False);
    }

    [Test]
    public void MessagesSentJustBeforeCloseStillArrive()
    {
        const int Count = 2000;
        using var pull = new PullSocket(Server());
        string endpoint = pull.Bind(InteropSettings.OurBindAddress);
        using (var push = new PushSocket(Client()))
        {
            push.Connect(endpoint);
            push.Send("first"u8);
            Assert.That(pull.ReceiveString(), Is.EqualTo("first"));
            for (int i = 0; i < Count; i++)
            {
                push.Send(BitConverter.GetBytes(i));
            }
        }

        for (int i = 0; i < Count; i++)
        {
            Assert.That(BitConverter.ToInt32(pull.ReceiveBytes()), Is.EqualTo(i), $"message {i} after close");
        }
    }
}
