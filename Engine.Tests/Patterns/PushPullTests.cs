using System.Buffers.Binary;
using Engine.Sockets;
using Engine.Tests.Infrastructure;

namespace Engine.Tests.Patterns;

/// <summary>RFC 30 (PIPELINE) behaviour of our PUSH and PULL over tcp.</summary>
[TestFixture]
[CancelAfter(120_000)]
public class PushPullTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static SocketOptions Receiving() => new() { ReceiveTimeout = Patience };

    /// <summary>Frame payload: 8-byte sequence number, then bytes derived from it, so any corruption shows.</summary>
    private static void Fill(Span<byte> frame, long sequence)
    {
        if (frame.Length >= 8)
        {
            BinaryPrimitives.WriteInt64LittleEndian(frame, sequence);
        }

        for (int i = Math.Min(8, frame.Length); i < frame.Length; i++)
        {
            frame[i] = (byte)(sequence + (i * 31));
        }
    }

    private static void Verify(ReadOnlySpan<byte> frame, long sequence)
    {
        if (frame.Length >= 8 && BinaryPrimitives.ReadInt64LittleEndian(frame) != sequence)
        {
            Assert.Fail($"expected message {sequence}, got {BinaryPrimitives.ReadInt64LittleEndian(frame)}");
        }

        for (int i = Math.Min(8, frame.Length); i < frame.Length; i++)
        {
            if (frame[i] != (byte)(sequence + (i * 31)))
            {
                Assert.Fail($"message {sequence} corrupted at byte {i}");
            }
        }
    }

    private static int SizeOf(long sequence) => (sequence % 1000) switch
    {
        0 => 70_000,            // long frames across pipeline segments
        < 10 => 300 + (int)sequence % 700,
        _ => 8 + (int)(sequence % 57),
    };

    [Test]
    public void OneMillionMessagesOfMixedSizesArriveInOrderWithEveryByteIntact()
    {
        const int count = 1_000_000;
        using var pull = new PullSocket(Receiving());
        string endpoint = pull.Bind("tcp://127.0.0.1:0");
        using var push = new PushSocket();
        push.Connect(endpoint);

        var sender = Task.Run(() =>
        {
            for (long i = 0; i < count; i++)
            {
                Msg frame = Msg.Allocate(SizeOf(i));
                Fill(frame.WritableSpan, i);
                push.Send(ref frame);
            }
        });

        long bytes = 0;
        for (long i = 0; i < count; i++)
        {
            Msg frame = pull.Receive();
            Assert.That(frame.Length, Is.EqualTo(SizeOf(i)), $"size of message {i}");
            Verify(frame.Span, i);
            bytes += frame.Length;
            frame.Dispose();
        }

        Assert.That(sender.Wait(Patience), Is.True, "sender finished");
        Assert.That(pull.TryReceive(out _, TimeSpan.FromMilliseconds(50)), Is.False, "no extra message");
        TestContext.Out.WriteLine($"{count} messages, {bytes / (1024 * 1024)} MiB verified");
    }

    [Test]
    public void PushLoadBalancesEvenlyOverThreePullPeers()
    {
        const int count = 30_000;
        var pulls = new List<PullSocket>();
        using var push = new PushSocket(new SocketOptions { SendHighWatermark = count });
        try
        {
            for (int p = 0; p < 3; p++)
            {
                var pull = new PullSocket(new SocketOptions { ReceiveTimeout = Patience, ReceiveHighWatermark = count });
                pulls.Add(pull);
                push.Connect(pull.Bind("tcp://127.0.0.1:0"));
            }

            // While some peers are still connecting, live ones get the traffic (nothing waits for
            // a peer that may never come); balance is measured between live peers.
            push.WaitForConnected(3);
            for (int i = 0; i < count; i++)
            {
                push.Send(BitConverter.GetBytes(i));
            }

            var received = new int[3];
            int total = 0;
            var deadline = DateTime.UtcNow + Patience;
            while (total < count && DateTime.UtcNow < deadline)
            {
                for (int p = 0; p < 3; p++)
                {
                    while (pulls[p].TryReceive(out Msg frame, TimeSpan.Zero))
                    {
                        frame.Dispose();
                        received[p]++;
                        total++;
                    }
                }

                Thread.Yield();
            }

            Assert.That(total, Is.EqualTo(count), "every message delivered once");
            foreach (int share in received)
            {
                Assert.That(share, Is.InRange(count / 3 * 0.99, count / 3 * 1.01), $"shares {string.Join("/", received)}");
            }
        }
        finally
        {
            pulls.ForEach(p => p.Dispose());
        }
    }

    [Test]
    public void BoundPushAlsoBalancesOverPeersThatConnectedToIt()
    {
        const int count = 9_000;
        using var push = new PushSocket(new SocketOptions { SendHighWatermark = count });
        string endpoint = push.Bind("tcp://127.0.0.1:0");
        var pulls = Enumerable.Range(0, 3).Select(_ => new PullSocket(new SocketOptions { ReceiveTimeout = Patience, ReceiveHighWatermark = count })).ToList();
        try
        {
            pulls.ForEach(p => p.Connect(endpoint));
            push.WaitForConnected(3);
            // The bound side learns of a peer on its next send; a first message per peer settles that.
            for (int i = 0; i < count; i++)
            {
                push.Send(BitConverter.GetBytes(i));
            }

            int[] received = pulls.Select(p =>
            {
                int n = 0;
                while (p.TryReceive(out Msg frame, TimeSpan.FromMilliseconds(500)))
                {
                    frame.Dispose();
                    n++;
                }

                return n;
            }).ToArray();

            Assert.That(received.Sum(), Is.EqualTo(count));
            Assert.That(received.Min(), Is.GreaterThanOrEqualTo(count / 3 - 1), $"shares {string.Join("/", received)}");
        }
        finally
        {
            pulls.ForEach(p => p.Dispose());
        }
    }

    [Test]
    public void PullFairQueuesSoOneBusySenderCannotStarveTheOthers()
    {
        using var pull = new PullSocket(new SocketOptions { ReceiveTimeout = Patience, ReceiveHighWatermark = 100_000 });
        string endpoint = pull.Bind("tcp://127.0.0.1:0");
        var pushes = Enumerable.Range(0, 3).Select(_ => new PushSocket()).ToList();
        try
        {
            pushes.ForEach(p => p.Connect(endpoint));
            pull.WaitForConnected(3);
            // Sender 0 floods; senders 1 and 2 send a little. All of it is queued before we read.
            for (int i = 0; i < 3000; i++)
            {
                pushes[0].Send(new byte[] { 0 });
            }

            for (int i = 0; i < 10; i++)
            {
                pushes[1].Send(new byte[] { 1 });
                pushes[2].Send(new byte[] { 2 });
            }

            // Wait until everything has crossed into the pull side's pipes, then read 30 messages:
            // fair queueing takes one from each sender in turn, so senders 1 and 2 get ~10 each.
            Deadline.WaitUntil(() => pull.InboundQueued == 3020, "all 3020 messages to be queued on the pull side");
            var firstThirty = new int[3];
            var all = new int[3];
            for (int i = 0; i < 3020; i++)
            {
                byte from = pull.ReceiveBytes()[0];
                all[from]++;
                if (i < 30)
                {
                    firstThirty[from]++;
                }
            }

            Assert.That(all, Is.EqualTo(new[] { 3000, 10, 10 }));
            Assert.That(firstThirty[1] + firstThirty[2], Is.GreaterThanOrEqualTo(10), $"first 30 by sender: {string.Join("/", firstThirty)}");
        }
        finally
        {
            pushes.ForEach(p => p.Dispose());
        }
    }

    [Test]
    public void SenderBlocksAtTheHighWaterMarkAndResumesWithoutLoss()
    {
        var small = new SocketOptions { SendHighWatermark = 10, ReceiveHighWatermark = 10, SendBufferSize = 4096, ReceiveBufferSize = 4096, ReceiveTimeout = Patience };
        using var pull = new PullSocket(small);
        string endpoint = pull.Bind("tcp://127.0.0.1:0");
        using var push = new PushSocket(new SocketOptions { SendHighWatermark = 10, SendBufferSize = 4096 });
        push.Connect(endpoint);
        pull.WaitForConnected(1);

        // Nobody reads: the sender must stop after its pipe, the kernel buffers and the receiver's pipe are full.
        var payload = new byte[1024];
        int sent = 0;
        while (sent < 10_000)
        {
            BinaryPrimitives.WriteInt32LittleEndian(payload, sent);
            if (!push.TrySend(payload, TimeSpan.FromMilliseconds(300)))
            {
                break;
            }

            sent++;
        }

        Assert.That(sent, Is.InRange(20, 2000), "sender blocked after its HWM plus what the kernel and the receiver hold");

        // Now read: every message arrives, in order, and the sender can go on.
        for (int i = 0; i < sent; i++)
        {
            byte[] received = pull.ReceiveBytes();
            Assert.That(BinaryPrimitives.ReadInt32LittleEndian(received), Is.EqualTo(i));
        }

        BinaryPrimitives.WriteInt32LittleEndian(payload, sent);
        Assert.That(push.TrySend(payload, Patience), Is.True, "sender resumed");
        Assert.That(BinaryPrimitives.ReadInt32LittleEndian(pull.ReceiveBytes()), Is.EqualTo(sent));
    }

    [Test]
    public void ConnectBeforeBindDeliversWhatWasQueued()
    {
        int port = FreePort();
        string endpoint = $"tcp://127.0.0.1:{port}";
        using var push = new PushSocket(new SocketOptions { ReconnectInterval = TimeSpan.FromMilliseconds(20), ReconnectIntervalMax = TimeSpan.FromMilliseconds(50) });
        push.Connect(endpoint);
        for (int i = 0; i < 100; i++)
        {
            push.Send(BitConverter.GetBytes(i));
        }

        using var pull = new PullSocket(Receiving());
        pull.Bind(endpoint);
        for (int i = 0; i < 100; i++)
        {
            Assert.That(BitConverter.ToInt32(pull.ReceiveBytes()), Is.EqualTo(i));
        }
    }

    [Test]
    public void PeerRestartedOnTheSamePortIsReconnectedAndLosesNothingSentAfterwards()
    {
        using var push = new PushSocket(new SocketOptions { ReconnectInterval = TimeSpan.FromMilliseconds(20), ReconnectIntervalMax = TimeSpan.FromMilliseconds(100) });
        var first = new PullSocket(Receiving());
        string endpoint = first.Bind("tcp://127.0.0.1:0");
        push.Connect(endpoint);
        push.Send("before"u8);
        Assert.That(first.ReceiveString(), Is.EqualTo("before"));
        first.Dispose();
        Deadline.WaitUntil(() => push.ConnectedCount == 0, "push to notice the peer left");

        using var second = new PullSocket(Receiving());
        second.Bind(endpoint);
        second.WaitForConnected(1);
        for (int i = 0; i < 1000; i++)
        {
            push.Send(BitConverter.GetBytes(i));
        }

        for (int i = 0; i < 1000; i++)
        {
            Assert.That(BitConverter.ToInt32(second.ReceiveBytes()), Is.EqualTo(i));
        }
    }

    [Test]
    public void PushToPushIsRefusedWithAReasonAndAGoodPeerKeepsWorking()
    {
        using var pull = new PullSocket(Receiving());
        string endpoint = pull.Bind("tcp://127.0.0.1:0");
        using var wrong = new PushSocket();
        string wrongEndpoint = wrong.Bind("tcp://127.0.0.1:0");
        using var pushA = new PushSocket();
        using var pushB = new PushSocket(new SocketOptions { ReconnectInterval = TimeSpan.FromSeconds(5), ReconnectIntervalMax = TimeSpan.FromSeconds(5) });
        using var monitorCancel = new CancellationTokenSource(Patience);
        var failure = Task.Run(async () =>
        {
            await foreach (MonitorEvent e in wrong.MonitorAsync(monitorCancel.Token))
            {
                if (e.Kind == MonitorEventKind.HandshakeFailed)
                {
                    return e.Reason;
                }
            }

            return null;
        });

        pushB.Connect(wrongEndpoint);
        pushA.Connect(endpoint);
        pushA.Send("still fine"u8);
        Assert.That(pull.ReceiveString(), Is.EqualTo("still fine"));
        Assert.That(failure.Wait(Patience), Is.True, "a handshake failure was reported");
        Assert.That(failure.Result, Does.Contain("PUSH cannot talk to PUSH"));
        Assert.That(wrong.ConnectedCount, Is.Zero);
    }

    private static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        return ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
    }
}
