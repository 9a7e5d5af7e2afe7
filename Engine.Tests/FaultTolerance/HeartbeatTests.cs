using System.Diagnostics;
using Engine.Sockets;
using Engine.Tests.Infrastructure;

namespace Engine.Tests.FaultTolerance;

[TestFixture]
[CancelAfter(60_000)]
public class HeartbeatTests
{
    private static async Task<MonitorEvent?> FirstAsync(MessageSocket socket, MonitorEventKind kind, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await foreach (MonitorEvent e in socket.MonitorAsync(cancel.Token))
            {
                if (e.Kind == kind)
                {
                    return e;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        return null;
    }

    [Test]
    public void APeerThatGoesSilentIsDeclaredDeadWithinIntervalPlusTimeout()
    {
        using var frozen = new RawZmtpPeer();
        var interval = TimeSpan.FromMilliseconds(200);
        var timeout = TimeSpan.FromMilliseconds(400);
        using var push = new PushSocket(new SocketOptions { HeartbeatInterval = interval, HeartbeatTimeout = timeout, ReconnectInterval = TimeSpan.FromSeconds(5), ReconnectIntervalMax = TimeSpan.FromSeconds(5) });
        Task<MonitorEvent?> dead = FirstAsync(push, MonitorEventKind.PeerDead, TimeSpan.FromSeconds(20));
        push.Connect(frozen.Endpoint);
        frozen.AcceptAndHandshake("PULL", TimeSpan.FromSeconds(10));
        push.WaitForConnected(1);
        var clock = Stopwatch.StartNew();

        // The raw peer now answers nothing: no PONG, no FIN, no RST (a hung or unplugged host).
        MonitorEvent? verdict = dead.Result;
        clock.Stop();
        Assert.That(verdict, Is.Not.Null, "peer declared dead");
        Assert.That(verdict!.Value.Reason, Does.Contain("heartbeat"));
        Assert.That(clock.Elapsed, Is.LessThan(interval + timeout + TimeSpan.FromMilliseconds(500)), "detected within interval + timeout (plus scheduling slack)");
        Assert.That(push.ConnectedCount, Is.Zero);
    }

    [Test]
    public void TwoEnginesWithHeartbeatsStayConnectedWhileIdle()
    {
        var beat = new SocketOptions { HeartbeatInterval = TimeSpan.FromMilliseconds(50), HeartbeatTimeout = TimeSpan.FromMilliseconds(150), HeartbeatTtl = TimeSpan.FromMilliseconds(300), ReceiveTimeout = TimeSpan.FromSeconds(5) };
        using var pull = new PullSocket(beat);
        string endpoint = pull.Bind("tcp://127.0.0.1:0");
        using var push = new PushSocket(new SocketOptions { HeartbeatInterval = TimeSpan.FromMilliseconds(50), HeartbeatTimeout = TimeSpan.FromMilliseconds(150), HeartbeatTtl = TimeSpan.FromMilliseconds(300) });
        push.Connect(endpoint);
        pull.WaitForConnected(1);
        Task<MonitorEvent?> dropped = FirstAsync(pull, MonitorEventKind.Disconnected, TimeSpan.FromMilliseconds(1200));
        Assert.That(dropped.Result, Is.Null, "idle for 8x the timeout, heartbeats kept the connection");
        push.Send("still here"u8);
        Assert.That(pull.ReceiveString(), Is.EqualTo("still here"));
    }

    [Test]
    public void AHandshakeThatNeverCompletesIsDroppedAfterTheHandshakeTimeout()
    {
        using var pull = new PullSocket(new SocketOptions { HandshakeTimeout = TimeSpan.FromMilliseconds(300) });
        string endpoint = pull.Bind("tcp://127.0.0.1:0");
        Task<MonitorEvent?> failed = FirstAsync(pull, MonitorEventKind.HandshakeFailed, TimeSpan.FromSeconds(10));
        var uri = new Uri(endpoint.Replace("tcp://", "http://"));
        using var mute = new System.Net.Sockets.TcpClient();
        mute.Connect(uri.Host, uri.Port);
        MonitorEvent? verdict = failed.Result;
        Assert.That(verdict, Is.Not.Null);
        Assert.That(verdict!.Value.Reason, Does.Contain("handshake not completed within 300 ms"));
    }
}
