using Engine.Sockets;
using Engine.Tests.Infrastructure;
using Engine.Tests.Interop;

namespace Engine.Tests.FaultTolerance;

/// <summary>ZMTP heartbeats between us and libzmq (ZMQ_HEARTBEAT_IVL/TIMEOUT/TTL), both directions.</summary>
[TestFixture]
[Category("interop")]
[CancelAfter(60_000)]
public class HeartbeatInteropTests
{
    private const int ZmqHeartbeatInterval = 75;
    private const int ZmqHeartbeatTtl = 76;
    private const int ZmqHeartbeatTimeout = 77;
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(200);

    private static SocketOptions Beating() => new()
    {
        HeartbeatInterval = TimeSpan.FromMilliseconds(60),
        HeartbeatTimeout = Timeout,
        HeartbeatTtl = TimeSpan.FromMilliseconds(400),
        ReceiveTimeout = TimeSpan.FromSeconds(10),
    };

    private static void Beat(ZmqSocket socket)
    {
        socket.SetOption(ZmqHeartbeatInterval, 60);
        socket.SetOption(ZmqHeartbeatTimeout, (int)Timeout.TotalMilliseconds);
        socket.SetOption(ZmqHeartbeatTtl, 400);
    }

    /// <summary>Idles for three heartbeat timeouts; a dead-peer verdict on either side would disconnect.</summary>
    private static void IdleForThreeTimeouts(MonitorRecorder ours)
    {
        var until = DateTime.UtcNow + (3 * Timeout) + TimeSpan.FromMilliseconds(300);
        while (DateTime.UtcNow < until)
        {
            Assert.That(ours.Count(MonitorEventKind.Disconnected) + ours.Count(MonitorEventKind.PeerDead), Is.Zero, ours.Describe());
            Thread.Yield();
        }
    }

    [Test]
    public void LibzmqPushWithHeartbeatsToOurPullStaysConnectedWhileIdle()
    {
        using var pull = new PullSocket(Beating());
        using var events = new MonitorRecorder(pull);
        string endpoint = pull.Bind("tcp://127.0.0.1:0");
        using var context = new ZmqContext();
        using var push = context.CreateSocket(LibZmq.ZMQ_PUSH);
        Beat(push);
        push.Connect(endpoint);
        push.Send("first"u8);
        Assert.That(pull.ReceiveString(), Is.EqualTo("first"));

        IdleForThreeTimeouts(events);
        push.Send("after idle"u8);
        Assert.That(pull.ReceiveString(), Is.EqualTo("after idle"));
        Assert.That(events.Count(MonitorEventKind.HandshakeSucceeded), Is.EqualTo(1), "same connection, never re-made: " + events.Describe());
    }

    [Test]
    public void OurPushWithHeartbeatsToALibzmqPullStaysConnectedWhileIdle()
    {
        using var context = new ZmqContext();
        using var pull = context.CreateSocket(LibZmq.ZMQ_PULL);
        Beat(pull);
        string endpoint = pull.Bind("tcp://127.0.0.1:0");
        using var push = new PushSocket(Beating());
        using var events = new MonitorRecorder(push);
        push.Connect(endpoint);
        push.Send("first"u8);
        Assert.That(pull.Receive(out _), Is.EqualTo("first"u8.ToArray()));

        IdleForThreeTimeouts(events);
        push.Send("after idle"u8);
        Assert.That(pull.Receive(out _), Is.EqualTo("after idle"u8.ToArray()));
        Assert.That(events.Count(MonitorEventKind.HandshakeSucceeded), Is.EqualTo(1), "same connection, never re-made: " + events.Describe());
    }
}
