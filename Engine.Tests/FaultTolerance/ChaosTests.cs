using System.Buffers.Binary;
using System.Diagnostics;
using Engine.Sockets;
using Engine.Tests.Infrastructure;
using Engine.Tests.Interop;

namespace Engine.Tests.FaultTolerance;

/// <summary>Long failure runs, outside the default suite: <c>./build.sh test chaos</c>.</summary>
[TestFixture]
[Category("chaos")]
[CancelAfter(300_000)]
public class ChaosTests
{
    [Test]
    public void KillingAndReplacingPeersEveryTwoSecondsForThirtySecondsLosesOnlyWhatWasInsideThem()
    {
        var peers = new List<ChildPeer>();
        using var push = new PushSocket(new SocketOptions { SendHighWatermark = 1000, SendBufferSize = 16384, ReconnectInterval = TimeSpan.FromMilliseconds(50), ReconnectIntervalMax = TimeSpan.FromMilliseconds(200) });
        using var events = new MonitorRecorder(push);
        var killed = new List<ChildPeer>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                ChildPeer peer = ChildPeer.StartPull(delayMicroseconds: 20);
                peers.Add(peer);
                push.Connect(peer.Endpoint);
            }

            push.WaitForConnected(3);
            var clock = Stopwatch.StartNew();
            var nextKill = TimeSpan.FromSeconds(2);
            long sent = 0;
            int kills = 0;
            while (clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                if (clock.Elapsed >= nextKill)
                {
                    nextKill += TimeSpan.FromSeconds(2);
                    ChildPeer victim = peers[kills % peers.Count];
                    victim.KillHard();
                    push.Disconnect(victim.Endpoint);
                    killed.Add(victim);
                    ChildPeer replacement = ChildPeer.StartPull(delayMicroseconds: 20);
                    peers[kills % peers.Count] = replacement;
                    push.Connect(replacement.Endpoint);
                    kills++;
                }

                Msg frame = Msg.Allocate(64);
                BinaryPrimitives.WriteInt64LittleEndian(frame.WritableSpan, sent++);
                if (!push.TrySend(ref frame, TimeSpan.FromSeconds(5)))
                {
                    frame.Dispose();
                    Assert.Fail($"the sender was blocked for 5 s at message {sent}: {events.Describe()}");
                }
            }

            var all = peers.Concat(killed).ToList();
            Deadline.WaitUntil(() => peers.Sum(p => p.ReceivedIds.Count) + killed.Sum(p => p.ReceivedIds.Count) >= sent - (kills * 3000L), "the live peers to catch up", TimeSpan.FromSeconds(60));
            long lastTotal = -1;
            var unchangedSince = Stopwatch.StartNew();
            Deadline.WaitUntil(() =>
            {
                long total = all.Sum(p => (long)p.ReceivedIds.Count);
                if (total != lastTotal)
                {
                    lastTotal = total;
                    unchangedSince.Restart();
                }

                return unchangedSince.Elapsed > TimeSpan.FromMilliseconds(500);
            }, "deliveries to settle", TimeSpan.FromSeconds(60));

            var ids = all.SelectMany(p => p.ReceivedIds).ToList();
            long distinct = ids.Distinct().LongCount();
            long missing = sent - distinct;
            TestContext.Out.WriteLine($"sent {sent}, delivered {distinct}, duplicates {ids.Count - distinct}, lost inside {kills} killed peers {missing}; rerouted events {events.Count(MonitorEventKind.MessagesRerouted)}");
            Assert.That(ids.Count, Is.EqualTo(distinct), "no duplicates");
            Assert.That(missing, Is.LessThanOrEqualTo(kills * 3000L), "only what was inside each killed peer (its buffers) is lost");
        }
        finally
        {
            foreach (ChildPeer peer in peers.Concat(killed))
            {
                peer.Dispose();
            }
        }
    }
}
