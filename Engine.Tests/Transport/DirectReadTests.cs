using Engine.Sockets;
using Engine.Tests.Infrastructure;
using Engine.Tests.Interop;

namespace Engine.Tests.Transport;

/// <summary>
/// A thread blocked in <c>Receive</c> on a socket whose only peer is a tcp connection reads that
/// socket itself (direct reads, docs/ARCHITECTURE.md). These check the hand-over rules: the
/// receive loop takes the socket back when the application stops receiving, and what the
/// application's thread finds on the wire is handled as the loop would handle it.
/// </summary>
[TestFixture]
[CancelAfter(60_000)]
public class DirectReadTests
{
    [Test]
    public void WhenTheApplicationStopsReceivingTheLoopReadsTheSocketAgain()
    {
        using var pull = new PullSocket(new SocketOptions { ReceiveTimeout = Deadline.Default });
        string endpoint = pull.Bind("tcp://127.0.0.1:0");
        using var push = new PushSocket();
        push.Connect(endpoint);

        // A few blocking receives: the application's thread now holds the socket (a lease).
        for (int i = 0; i < 3; i++)
        {
            push.Send([(byte)i]);
            using Msg first = pull.Receive();
            Assert.That(first.Span[0], Is.EqualTo((byte)i));
        }

        // Nobody receives now. Only the receive loop can move these into the socket's queue, and it
        // can only do so once it has taken the unused lease back.
        const int Later = 100;
        for (int i = 0; i < Later; i++)
        {
            push.Send([(byte)i]);
        }

        // (The count is the writer's minus the reader's published progress: the three already read
        // may still be counted, so at least 100 it is.)
        Deadline.WaitUntil(() => pull.InboundQueued >= Later, $"{Later} messages queued by the receive loop (queued: {pull.InboundQueued})");
        for (int i = 0; i < Later; i++)
        {
            using Msg next = pull.Receive();
            Assert.That(next.Span[0], Is.EqualTo((byte)i), "order after the hand-over");
        }
    }

    [Test]
    public void AViolationReadByTheApplicationsThreadClosesTheConnectionWithItsReason()
    {
        using var peer = new RawZmtpPeer();
        using var pull = new PullSocket(new SocketOptions { ReceiveTimeout = TimeSpan.FromSeconds(30) });
        using var events = new MonitorRecorder(pull);
        pull.Connect(peer.Endpoint);
        peer.AcceptAndHandshake("PUSH", Deadline.Default);

        // One good message, then the receiving thread blocks again on the same (only) peer.
        peer.Connection.Send(new byte[] { 0x00, 0x02, (byte)'o', (byte)'k' });
        using (Msg good = pull.Receive())
        {
            Assert.That(good.Span.ToArray(), Is.EqualTo("ok"u8.ToArray()));
        }

        Exception? receiveFailure = null;
        bool receivedSomething = false;
        var receiver = new Thread(() =>
        {
            try
            {
                receivedSomething = pull.TryReceive(out Msg unexpected, TimeSpan.FromSeconds(3));
                unexpected.Dispose();
            }
            catch (Exception e)
            {
                receiveFailure = e;
            }
        })
        { IsBackground = true };
        receiver.Start();

        // Reserved flag bits: a protocol violation.
        peer.Connection.Send(new byte[] { 0x08, 0x01, (byte)'x' });
        MonitorEvent violation = events.WaitFor(MonitorEventKind.ProtocolError, 1);
        Assert.That(violation.Reason, Does.Contain("reserved flag bits set: flags 0x08"));

        // The peer hears why (an ERROR command) before the connection closes.
        byte[] header = peer.ReadExactly(2);
        Assert.That(header[0] & 0x04, Is.Not.Zero, "a command frame");
        string error = System.Text.Encoding.ASCII.GetString(peer.ReadExactly(header[1]));
        Assert.That(error, Does.StartWith("\u0005ERROR"));

        Assert.That(receiver.Join(TimeSpan.FromSeconds(20)), Is.True, "the blocked receive returned at its timeout");
        Assert.That(receiveFailure, Is.Null);
        Assert.That(receivedSomething, Is.False, "nothing from the bad frame was delivered");
    }
}
