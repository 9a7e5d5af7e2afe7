using System.Diagnostics;
using Engine.Sockets;
using Engine.Tests.Infrastructure;
using Engine.Tests.Interop;

namespace Engine.Tests.FaultTolerance;

/// <summary>
/// A peer on another host whose link is cut: no FIN, no RST, packets simply vanish. The "host" is
/// a network namespace this test creates (root only), joined to ours by a veth pair.
/// </summary>
[TestFixture]
[CancelAfter(90_000)]
public class SilentDeathTests
{
    private static int Run(string command, out string output)
    {
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        using Process process = Process.Start(start)!;
        output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit(30_000);
        return process.ExitCode;
    }

    [Test]
    public void APeerBehindACutLinkIsDeclaredDeadByHeartbeats()
    {
        if (Environment.UserName != "root" || Run("command -v ip", out _) != 0)
        {
            Assert.Ignore("needs root and iproute2 to create a network namespace (CI runs as root)");
        }

        string suffix = (Environment.ProcessId % 10000).ToString();
        string ns = $"engt{suffix}";
        string hostSide = $"veh{suffix}";
        string peerSide = $"vep{suffix}";
        // A /30 that exists only on this veth pair, between our namespace and the one we make.
        string setup = $"ip netns add {ns} && ip link add {hostSide} type veth peer name {peerSide} && ip link set {peerSide} netns {ns}"
            + $" && ip addr add 10.251.{Environment.ProcessId % 250}.1/30 dev {hostSide} && ip link set {hostSide} up"
            + $" && ip netns exec {ns} ip addr add 10.251.{Environment.ProcessId % 250}.2/30 dev {peerSide}"
            + $" && ip netns exec {ns} ip link set {peerSide} up && ip netns exec {ns} ip link set lo up";
        try
        {
            if (Run(setup, out string why) != 0)
            {
                Assert.Ignore("could not create a network namespace here: " + why.Trim());
            }

            string peerAddress = $"10.251.{Environment.ProcessId % 250}.2";
            using ChildPeer peer = ChildPeer.StartPull(delayMicroseconds: 0, $"tcp://{peerAddress}:0", wrapper: $"ip netns exec {ns}");
            var interval = TimeSpan.FromMilliseconds(200);
            var timeout = TimeSpan.FromMilliseconds(600);
            using var push = new PushSocket(new SocketOptions { HeartbeatInterval = interval, HeartbeatTimeout = timeout, ReconnectInterval = TimeSpan.FromSeconds(5), ReconnectIntervalMax = TimeSpan.FromSeconds(5) });
            using var events = new MonitorRecorder(push);
            push.Connect(peer.Endpoint);
            push.WaitForConnected(1);
            push.Send(BitConverter.GetBytes(7L));
            Deadline.WaitUntil(() => peer.ReceivedIds.Contains(7), "the peer in the namespace to receive");

            // Pull the cable: the link goes down on the peer's side; nothing tells us.
            Assert.That(Run($"ip netns exec {ns} ip link set {peerSide} down", out string cut), Is.Zero, cut);
            var clock = Stopwatch.StartNew();
            MonitorEvent dead = events.WaitFor(MonitorEventKind.PeerDead, 1, TimeSpan.FromSeconds(20));
            clock.Stop();
            Assert.That(dead.Reason, Does.Contain("heartbeat"));
            Assert.That(clock.Elapsed, Is.LessThan(interval + timeout + TimeSpan.FromMilliseconds(700)), "within interval + timeout (plus scheduling slack)");
            TestContext.Out.WriteLine($"declared dead after {clock.ElapsedMilliseconds} ms: {dead}");
        }
        finally
        {
            Run($"ip netns pids {ns} | xargs -r kill -9; ip link del {hostSide}; ip netns del {ns}", out _);
        }
    }
}
