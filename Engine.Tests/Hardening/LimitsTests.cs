using Engine.Sockets;
using Engine.Tests.Infrastructure;

namespace Engine.Tests.Hardening;

/// <summary>
/// The limits themselves: exactly at a limit is fine and one past it is not (no off-by-one in
/// either direction), the defaults behave as documented, and MaxConnections refuses at once.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class LimitsTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Test]
    public void OptionsHaveSafeDefaultsAndRefuseNegativeValuesWithAClearMessage()
    {
        var options = new SocketOptions();
        Assert.That(options.MaxFramesPerMessage, Is.EqualTo(1024));
        Assert.That(options.MaxConnections, Is.EqualTo(1024));
        Assert.That(options.MaxMessageSize, Is.EqualTo(-1), "libzmq's default");
        Assert.That(options.MaxBufferedBytes, Is.EqualTo(64L * 1024 * 1024), "the safety net that applies when MaxMessageSize is not set");
        var buffered = Assert.Throws<ArgumentOutOfRangeException>(() => options.MaxBufferedBytes = 0)!;
        Assert.That(buffered.Message, Does.StartWith("MaxBufferedBytes must be -1 (no limit) or a positive number of bytes."));

        var frames = Assert.Throws<ArgumentOutOfRangeException>(() => options.MaxFramesPerMessage = -1)!;
        Assert.That(frames.Message, Does.StartWith("MaxFramesPerMessage must be 0 (no limit) or a positive number."));
        var connections = Assert.Throws<ArgumentOutOfRangeException>(() => options.MaxConnections = -5)!;
        Assert.That(connections.Message, Does.StartWith("MaxConnections must be 0 (no limit) or a positive number."));
        Assert.That(connections.ActualValue, Is.EqualTo(-5));

        options.MaxFramesPerMessage = 0;
        options.MaxConnections = 0;
        Assert.That(options.MaxFramesPerMessage, Is.Zero);
        Assert.That(options.MaxConnections, Is.Zero);
    }

    [Test]
    public void AMessageExactlyAtBothLimitsArrivesAndOneFrameOrByteMoreClosesTheConnection()
    {
        using var pull = new PullSocket(new SocketOptions { MaxMessageSize = 1000, MaxFramesPerMessage = 10, ReceiveTimeout = Wait });
        string endpoint = pull.Bind("tcp://127.0.0.1:0");
        using var monitor = new MonitorLog(pull);

        // Ten frames of 100 bytes: both limits exactly.
        using (var peer = new HostilePeer(endpoint))
        {
            byte[][] frames = Enumerable.Range(0, 10).Select(i => Zmtp.Frame(i < 9 ? (byte)0x01 : (byte)0x00, new byte[100])).ToArray();
            peer.Send(Zmtp.Concat([Zmtp.HandshakeAsPush(), .. frames]));
            List<byte[]> message = pull.ReceiveMultipart();
            Assert.That(message, Has.Count.EqualTo(10));
            Assert.That(message.Sum(f => f.Length), Is.EqualTo(1000));
            Assert.That(peer.IsClosed, Is.False);
        }

        using (var peer = new HostilePeer(endpoint))
        {
            byte[][] frames = Enumerable.Range(0, 11).Select(i => Zmtp.Frame(i < 10 ? (byte)0x01 : (byte)0x00, [1])).ToArray();
            peer.Send(Zmtp.Concat([Zmtp.HandshakeAsPush(), .. frames]));
            Assert.That(peer.WaitClosed(Wait), Is.True);
            Assert.That(monitor.WaitFor(peer.Address, MonitorEventKind.ProtocolError, Wait).Reason, Does.Contain("more frames than allowed: limit 10 (MaxFramesPerMessage)"));
        }

        using (var peer = new HostilePeer(endpoint))
        {
            peer.Send(Zmtp.Concat(Zmtp.HandshakeAsPush(), Zmtp.Frame(0x01, new byte[999]), Zmtp.Frame(0x00, new byte[2])));
            Assert.That(peer.WaitClosed(Wait), Is.True);
            Assert.That(monitor.WaitFor(peer.Address, MonitorEventKind.ProtocolError, Wait).Reason, Does.Contain("1001 bytes in 2 frames so far, limit 1000 (MaxMessageSize)"));
        }

        Assert.That(pull.TryReceive(out Msg leftover, TimeSpan.Zero), Is.False, "nothing of a refused message reaches the application");
        leftover.Dispose();
    }

    [Test]
    public void FramesAboveTheEagerAllocationLimitArriveIntactWhateverTheCuts()
    {
        using var pull = new PullSocket(new SocketOptions { ReceiveTimeout = Wait });
        string endpoint = pull.Bind("tcp://127.0.0.1:0");
        var random = new Random(5);
        byte[][] bodies = [new byte[Sessions.Session.EagerAllocationLimit + 1], new byte[3], new byte[1024 * 1024 + 17], new byte[Sessions.Session.EagerAllocationLimit]];
        foreach (byte[] body in bodies)
        {
            random.NextBytes(body);
        }

        byte[] stream = Zmtp.Concat([Zmtp.HandshakeAsPush(), .. bodies.Select((b, i) => Zmtp.Frame(i < bodies.Length - 1 ? (byte)0x01 : (byte)0x00, b))]);
        using var peer = new HostilePeer(endpoint);
        for (int offset = 0; offset < stream.Length;)
        {
            // Odd cuts, some inside headers: the lazy path must resume at any byte.
            int length = Math.Min(stream.Length - offset, random.Next(1, 200_000));
            peer.Send(stream[offset..(offset + length)]);
            offset += length;
        }

        List<byte[]> message = pull.ReceiveMultipart();
        Assert.That(message, Has.Count.EqualTo(bodies.Length));
        for (int i = 0; i < bodies.Length; i++)
        {
            Assert.That(message[i], Is.EqualTo(bodies[i]), $"frame {i}");
        }
    }

    [Test]
    public void WithDefaultOptionsAnEndlessMessageIsCutAtMaxBufferedBytes()
    {
        using var pull = new PullSocket();
        string endpoint = pull.Bind("tcp://127.0.0.1:0");
        using var monitor = new MonitorLog(pull);

        using (var announced = new HostilePeer(endpoint))
        {
            announced.Send(Zmtp.Concat(Zmtp.HandshakeAsPush(), Zmtp.Header(0x00, 2_000_000_000)));
            Assert.That(announced.WaitClosed(Wait), Is.True);
            Assert.That(monitor.WaitFor(announced.Address, MonitorEventKind.ProtocolError, Wait).Reason, Does.Contain("frame of 2000000000 bytes, limit 67108864 (MaxBufferedBytes)"));
        }

        // 1 MiB frames: the frame count limit (1024) would allow 1 GiB; the byte limit stops it at 64 MiB.
        var memory = HostileInputTests.Measurement.Start();
        using (var endless = new HostilePeer(endpoint))
        {
            endless.Send(Zmtp.HandshakeAsPush());
            byte[] frame = Zmtp.Frame(0x01, new byte[1024 * 1024]);
            endless.SendUntilClosed(_ => frame, maxBytes: 256 * HostileCases.MiB, maxTime: Wait);
            Assert.That(endless.WaitClosed(Wait), Is.True);
            Assert.That(monitor.WaitFor(endless.Address, MonitorEventKind.ProtocolError, Wait).Reason, Does.Contain("in 65 frames so far, limit 67108864 (MaxBufferedBytes)"));
            Assert.That(endless.BytesSent, Is.LessThan(128 * HostileCases.MiB), "cut off near the limit, not at the frame count");
        }

        memory.AssertWithin(2 * 64 * HostileCases.MiB + 16 * HostileCases.MiB, "endless multipart of 1 MiB frames, default options");
    }

    [Test]
    public void WithNoLimitsAtAllAnAnnouncedHugeFrameCostsOnlyTheBytesThatArrive()
    {
        // libzmq's configuration: no limits; heartbeats only so that the stalled peer is ended (after all its bytes were read).
        using var pull = new PullSocket(new SocketOptions { MaxBufferedBytes = -1, MaxMessageSize = -1, HeartbeatInterval = TimeSpan.FromMilliseconds(200) });
        string endpoint = pull.Bind("tcp://127.0.0.1:0");
        using var monitor = new MonitorLog(pull);

        // The largest frame an array can hold, announced and never sent: nothing may be reserved for it.
        var memory = HostileInputTests.Measurement.Start();
        using (var stalled = new HostilePeer(endpoint))
        {
            stalled.Send(Zmtp.Concat(Zmtp.HandshakeAsPush(), Zmtp.Header(0x00, Array.MaxLength), new byte[64 * 1024]));
            Assert.That(monitor.WaitFor(stalled.Address, MonitorEventKind.PeerDead, Wait).Reason, Does.Contain("no traffic"));
            memory.AssertWithin(16 * HostileCases.MiB, "2 GiB announced, 64 KiB sent, no limits");
        }

        // One byte more than an array can hold is refused on its header.
        using var beyond = new HostilePeer(endpoint);
        beyond.Send(Zmtp.Concat(Zmtp.HandshakeAsPush(), Zmtp.Header(0x00, (long)Array.MaxLength + 1)));
        Assert.That(beyond.WaitClosed(Wait), Is.True);
        Assert.That(monitor.WaitFor(beyond.Address, MonitorEventKind.ProtocolError, Wait).Reason, Does.Contain($"at most {Array.MaxLength} can be held"));
        Assert.That(Zmtp.Reply.Parse(beyond.Received).ErrorReason, Does.Contain("frame is larger than the maximum message size"));
    }

    [Test]
    public void ConnectionsBeyondMaxConnectionsAreClosedAtOnceAndASlotFreesWhenOneEnds()
    {
        using var pull = new PullSocket(new SocketOptions { MaxConnections = 3, HandshakeTimeout = TimeSpan.FromSeconds(30), ReceiveTimeout = Wait });
        string endpoint = pull.Bind("tcp://127.0.0.1:0");
        using var monitor = new MonitorLog(pull);
        var holders = new List<HostilePeer>();
        try
        {
            // Three silent connections hold every slot (the long handshake timeout keeps them).
            for (int i = 0; i < 3; i++)
            {
                holders.Add(new HostilePeer(endpoint));
            }

            Deadline.WaitUntil(() => pull.SessionCount == 3, "three connections to be accepted");

            using (var excess = new HostilePeer(endpoint))
            {
                Assert.That(excess.WaitClosed(Wait), Is.True, "the fourth is closed at once, not left waiting");
                Assert.That(excess.Received, Is.Empty, "no greeting is spent on a refused connection");
                MonitorEvent refused = monitor.WaitFor(excess.Address, MonitorEventKind.ConnectionRefused, Wait);
                Assert.That(refused.Reason, Does.Contain("already has 3 connections (MaxConnections)"));
            }

            Assert.That(holders.All(h => !h.IsClosed), Is.True, "refusing a newcomer touches no one already connected");

            // One holder leaves: its slot is free again, and a good peer gets in and is heard.
            holders[0].Dispose();
            holders.RemoveAt(0);
            Deadline.WaitUntil(() => pull.SessionCount == 2, "the departed holder's session to end");
            using var push = new PushSocket();
            push.Connect(endpoint);
            push.Send("through"u8);
            Assert.That(pull.ReceiveString(), Is.EqualTo("through"));
        }
        finally
        {
            foreach (HostilePeer holder in holders)
            {
                holder.Dispose();
            }
        }
    }
}
