using System.Net;
using System.Net.Sockets;
using Engine.Sockets;
using Engine.Tests.Infrastructure;
using Engine.Tests.Interop;

namespace Engine.Tests.FaultTolerance;

[TestFixture]
[CancelAfter(60_000)]
public class ConnectionBehaviourTests
{
    private static int DeadPort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    [Test]
    public void ASelfConnectionIsDroppedAtOnceSoTheRealPeerCanBindThePortAndBeReached()
    {
        int port = DeadPort();
        using var push = new PushSocket(new SocketOptions { ReconnectInterval = TimeSpan.FromMilliseconds(20), ReconnectIntervalMax = TimeSpan.FromMilliseconds(50) });
        using var events = new MonitorRecorder(push);
        int attempts = 0;
        push.ConnectSocketFactory = target =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, ProtocolType.Tcp);
            if (Interlocked.Increment(ref attempts) == 1)
            {
                // Source port = destination port on loopback: the kernel joins the socket to itself.
                socket.Bind(new IPEndPoint(IPAddress.Loopback, ((IPEndPoint)target).Port));
            }

            return socket;
        };

        push.Connect($"tcp://127.0.0.1:{port}");
        MonitorEvent retried = events.WaitFor(MonitorEventKind.ConnectRetried, 1);
        Assert.That(retried.Reason, Does.Contain("connected to itself"), events.Describe());

        // The port was let go at once: the real peer binds it and is reached.
        using var pull = new PullSocket(new SocketOptions { ReceiveTimeout = TimeSpan.FromSeconds(10) });
        pull.Bind($"tcp://127.0.0.1:{port}");
        pull.WaitForConnected(1);
        push.Send("reached"u8);
        Assert.That(pull.ReceiveString(), Is.EqualTo("reached"));
    }

    [Test]
    public void HelloGoesToEachNewConnectionAndDisconnectMessageTellsTheApplication()
    {
        int port = DeadPort();
        string endpoint = $"tcp://127.0.0.1:{port}";
        using var push = new PushSocket(new SocketOptions { HelloMessage = "hello"u8.ToArray(), ReconnectInterval = TimeSpan.FromMilliseconds(20), ReconnectIntervalMax = TimeSpan.FromMilliseconds(50) });
        push.Connect(endpoint);
        for (int round = 0; round < 2; round++)
        {
            using var pull = new PullSocket(new SocketOptions { ReceiveTimeout = TimeSpan.FromSeconds(10), DisconnectMessage = "gone"u8.ToArray() });
            pull.Bind(endpoint);
            Assert.That(pull.ReceiveString(), Is.EqualTo("hello"), $"hello on connection {round + 1}");
        }

        using var watcher = new PullSocket(new SocketOptions { ReceiveTimeout = TimeSpan.FromSeconds(10), DisconnectMessage = "gone"u8.ToArray() });
        string watched = watcher.Bind("tcp://127.0.0.1:0");
        var leaving = new PushSocket();
        leaving.Connect(watched);
        leaving.Send("last words"u8);
        Assert.That(watcher.ReceiveString(), Is.EqualTo("last words"));
        leaving.Dispose();
        Assert.That(watcher.ReceiveString(), Is.EqualTo("gone"), "the application hears that the peer left, after all it sent");
    }

    [Test]
    public void ImmediateQueuesNothingForAPeerThatIsNotConnected()
    {
        using var push = new PushSocket(new SocketOptions { Immediate = true, ReconnectInterval = TimeSpan.FromMilliseconds(20), ReconnectIntervalMax = TimeSpan.FromMilliseconds(50) });
        int port = DeadPort();
        push.Connect($"tcp://127.0.0.1:{port}");
        Assert.That(push.TrySend("nobody"u8, TimeSpan.FromMilliseconds(200)), Is.False, "no connected peer: the send waits instead of queueing");

        using var pull = new PullSocket(new SocketOptions { ReceiveTimeout = TimeSpan.FromSeconds(10) });
        pull.Bind($"tcp://127.0.0.1:{port}");
        Assert.That(push.TrySend("somebody"u8, TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(pull.ReceiveString(), Is.EqualTo("somebody"));
    }
}
