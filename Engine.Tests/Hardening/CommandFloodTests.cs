using Engine.Sockets;

namespace Engine.Tests.Hardening;

/// <summary>
/// Commands that are valid one at a time but hostile in bulk: a peer may repeat any command as
/// often as it likes, and what each one costs must not add up.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class CommandFloodTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Test]
    public void AMillionDrainCommandsCostNoMoreThanOne()
    {
        // A PUSH whose application is not sending: each DRAIN would queue a command it applies only at its next send.
        using var push = new PushSocket();
        string endpoint = push.Bind("tcp://127.0.0.1:0");
        using var monitor = new MonitorLog(push);

        var memory = HostileInputTests.Measurement.Start();
        using (var peer = new HostilePeer(endpoint))
        {
            peer.Send(Zmtp.Concat(Zmtp.Greeting(), Zmtp.ReadyAs("PULL")));
            byte[] drains = Zmtp.Concat(Enumerable.Repeat(Zmtp.Command("DRAIN", []), 8192).ToArray());
            peer.SendUntilClosed(_ => drains, maxBytes: 1_000_000L * 8, maxTime: Wait);
            Assert.That(peer.BytesSent, Is.GreaterThan(1_000_000L * 8), "all the DRAINs went out before we closed");
            peer.EndOfStream();
            Assert.That(peer.WaitClosed(Wait), Is.True);
            Assert.That(monitor.WaitFor(peer.Address, MonitorEventKind.Disconnected, Wait).Reason, Does.Contain("peer closed the connection"));
        }

        memory.AssertWithin(8 * HostileCases.MiB, "a million DRAIN commands to an idle PUSH");
    }

    [Test]
    public void AFloodOfPingsQueuesNoPongPerPing()
    {
        using var pull = new PullSocket();
        string endpoint = pull.Bind("tcp://127.0.0.1:0");
        using var monitor = new MonitorLog(pull);

        var memory = HostileInputTests.Measurement.Start();
        using (var peer = new HostilePeer(endpoint))
        {
            // Far more PINGs than PONGs can go out: at most one PONG may be pending, the rest are folded into it.
            peer.Send(Zmtp.HandshakeAsPush());
            byte[] pings = Zmtp.Concat(Enumerable.Repeat(Zmtp.Command("PING", [0, 0, .. new byte[16]]), 2048).ToArray());
            peer.SendUntilClosed(_ => pings, maxBytes: 500_000L * 25, maxTime: Wait);
            Assert.That(peer.BytesSent, Is.GreaterThan(500_000L * 25), "all the PINGs went out before we closed");
            peer.EndOfStream();
            Assert.That(peer.WaitClosed(Wait), Is.True);
            monitor.WaitFor(peer.Address, MonitorEventKind.Disconnected, Wait);
        }

        memory.AssertWithin(8 * HostileCases.MiB, "half a million PINGs");
    }
}
