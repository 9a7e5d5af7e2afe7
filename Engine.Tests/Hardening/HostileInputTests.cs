using System.Diagnostics;
using Engine.Sockets;
using Engine.Tests.Infrastructure;

namespace Engine.Tests.Hardening;

/// <summary>
/// The hostile-input battery (issue 9): each case opens a raw TCP connection to one shared
/// listening PULL and misbehaves, while a good PUSH peer keeps sending numbered messages to the
/// same socket. Every case must end with: that connection closed by us, soon; an ERROR that says
/// why when ZMTP allows one (after the greeting exchange) and none before; a monitor event naming
/// the problem; bounded memory for the oversized cases; and the good peer still flowing. The last
/// test checks that not one good message was lost.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class HostileInputTests
{
    internal static readonly TimeSpan HandshakeTimeout = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan HeartbeatInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan HeartbeatTimeout = TimeSpan.FromMilliseconds(750);

    /// <summary>Slack for a loaded 2-core machine on top of every time bound the engine promises.</summary>
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(2);

    private PullSocket _pull = null!;
    private string _endpoint = null!;
    private MonitorLog _monitor = null!;
    private GoodTraffic _good = null!;
    private string _goodAddress = null!;

    internal static SocketOptions Options() => new()
    {
        HandshakeTimeout = HandshakeTimeout,
        MaxMessageSize = 16 * HostileCases.MiB,
        HeartbeatInterval = HeartbeatInterval,
        HeartbeatTimeout = HeartbeatTimeout,
        ReceiveHighWatermark = 10_000,
    };

    public static IEnumerable<TestCaseData> Cases() =>
        HostileCases.All.Select(c => new TestCaseData(c.Name).SetName($"Hostile({c.Name})"));

    [OneTimeSetUp]
    public void StartListenerAndGoodPeer()
    {
        _pull = new PullSocket(Options());
        _endpoint = _pull.Bind("tcp://127.0.0.1:0");
        _monitor = new MonitorLog(_pull);
        _good = new GoodTraffic(_pull, _endpoint);
        _good.WaitForProgress(200, "before the battery");
        _goodAddress = _monitor.Events.Single(e => e.Kind == MonitorEventKind.HandshakeSucceeded).Endpoint;
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _good?.Dispose();
        _monitor?.Dispose();
        _pull?.Dispose();
    }

    [Test]
    [Order(1)]
    [TestCaseSource(nameof(Cases))]
    public void HostileConnectionIsClosedAloneWithItsReason(string name)
    {
        HostileCase hostile = HostileCases.ByName[name];
        Measurement? memory = hostile.MemoryBound is null ? null : Measurement.Start();

        using var peer = new HostilePeer(_endpoint);
        hostile.Script(peer);
        TimeSpan scriptDone = peer.Elapsed;
        TimeSpan bound = CloseBound(hostile.Verdict, scriptDone);
        Assert.That(peer.WaitClosed(bound - scriptDone + Slack), Is.True, $"{name}: still open {(bound + Slack).TotalSeconds:0.#} s after connecting");
        if (hostile.Verdict is Verdict.HandshakeFailedSilently or Verdict.HandshakeFailedWithError)
        {
            Assert.That(peer.ClosedAt, Is.LessThanOrEqualTo(HandshakeTimeout + Slack), "a handshake ends within the handshake timeout at most");
        }

        MonitorEvent verdict = _monitor.WaitFor(peer.Address, ExpectedKind(hostile.Verdict), Slack + Slack);
        Assert.That(verdict.Reason, Does.Contain(hostile.Reason), $"monitor reason for {name}");

        Zmtp.Reply reply = Zmtp.Reply.Parse(peer.Received);
        Assert.That(reply.HasGreeting, Is.True, "our greeting goes out at once, whatever the peer sends");
        if (hostile.Verdict is Verdict.HandshakeFailedWithError or Verdict.ViolationWithError)
        {
            Assert.That(reply.ErrorReason, Is.Not.Null, $"{name}: no ERROR command among {reply.Frames.Count} frames we sent back");
            Assert.That(reply.ErrorReason, Does.Contain(hostile.Reason.Length > 60 ? hostile.Reason[..60] : hostile.Reason));
        }
        else
        {
            Assert.That(reply.ErrorReason, Is.Null, $"{name}: ERROR must not be sent here");
        }

        if (memory is not null)
        {
            memory.AssertWithin(hostile.MemoryBound!.Value, name);
        }

        _good.WaitForProgress(50, $"after {name}");
        Assert.That(_good.Foreign, Is.Zero, "no hostile frame may reach the application: nothing half-delivered");
    }

    [Test]
    [Order(2)]
    public void TheGoodPeerLostNothingAndWasNeverDisconnected()
    {
        _good.StopAndDrain();

        Assert.That(_good.Problems, Is.Empty);
        Assert.That(_good.Received, Is.EqualTo(_good.Sent));
        Assert.That(_good.Received, Is.GreaterThan(1000));
        string[] goodPeerTrouble = _monitor.For(_goodAddress)
            .Where(e => e.Kind is not (MonitorEventKind.Accepted or MonitorEventKind.HandshakeSucceeded))
            .Select(e => e.ToString())
            .ToArray();
        Assert.That(goodPeerTrouble, Is.Empty, "only hostile connections may end");
        Deadline.WaitUntil(() => _pull.SessionCount == 1, $"every hostile connection to be gone, the good one staying (sessions: {_pull.SessionCount})", TimeSpan.FromSeconds(10));
    }

    private static TimeSpan CloseBound(Verdict verdict, TimeSpan scriptDone) => verdict switch
    {
        // Stalls are ended by the handshake timeout or by heartbeats; everything else at once.
        Verdict.HandshakeFailedSilently or Verdict.HandshakeFailedWithError => Max(HandshakeTimeout, scriptDone),
        Verdict.DeclaredDead => scriptDone + HeartbeatInterval + HeartbeatTimeout + HeartbeatInterval,
        _ => scriptDone,
    };

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static MonitorEventKind ExpectedKind(Verdict verdict) => verdict switch
    {
        Verdict.HandshakeFailedSilently or Verdict.HandshakeFailedWithError => MonitorEventKind.HandshakeFailed,
        Verdict.ViolationWithError => MonitorEventKind.ProtocolError,
        Verdict.ClosedMidMessage => MonitorEventKind.Disconnected,
        Verdict.DeclaredDead => MonitorEventKind.PeerDead,
        _ => throw new ArgumentOutOfRangeException(nameof(verdict)),
    };

    /// <summary>
    /// Memory around one case, two ways: bytes allocated while it ran (catches an engine that
    /// reserves what a peer announces, even if it is freed at once) and managed heap kept after a
    /// full collection (catches one that holds on). Both must stay under the case's bound.
    /// </summary>
    internal sealed class Measurement
    {
        private readonly long _allocatedBefore;
        private readonly long _heapBefore;

        private Measurement(long allocatedBefore, long heapBefore)
        {
            _allocatedBefore = allocatedBefore;
            _heapBefore = heapBefore;
        }

        internal long Allocated { get; private set; }

        internal long HeapGrowth { get; private set; }

        internal static Measurement Start()
        {
            WaitForQuiet();
            long heap = GC.GetTotalMemory(forceFullCollection: true);
            return new Measurement(GC.GetTotalAllocatedBytes(precise: true), heap);
        }

        /// <summary>
        /// Allocation is counted process-wide, so a test that ran before and is still winding down
        /// (a socket lingering, a peer reconnecting) would be charged to the case. Waits, for ten
        /// seconds at most, until the process allocates under 1 MiB per 100 ms window.
        /// </summary>
        private static void WaitForQuiet()
        {
            var clock = Stopwatch.StartNew();
            long last = GC.GetTotalAllocatedBytes(precise: true);
            while (clock.Elapsed < TimeSpan.FromSeconds(10))
            {
                // The sampling window of an allocation rate, not a wait for some event.
                Thread.Sleep(100);
                long now = GC.GetTotalAllocatedBytes(precise: true);
                if (now - last < 1024 * 1024)
                {
                    return;
                }

                last = now;
            }

            TestContext.Out.WriteLine($"the process did not quieten within 10 s ({(GC.GetTotalAllocatedBytes(precise: true) - last) / 1024} KiB in the last 100 ms): allocation figures include that");
        }

        internal void AssertWithin(long bound, string name)
        {
            Allocated = GC.GetTotalAllocatedBytes(precise: true) - _allocatedBefore;
            HeapGrowth = GC.GetTotalMemory(forceFullCollection: true) - _heapBefore;
            TestContext.Out.WriteLine($"{name}: allocated {Allocated / 1024} KiB while it ran, heap {HeapGrowth / 1024:+#;-#;0} KiB after (bound {bound / 1024} KiB)");
            Assert.That(Allocated, Is.LessThanOrEqualTo(bound), $"{name}: allocated while it ran");
            Assert.That(HeapGrowth, Is.LessThanOrEqualTo(bound), $"{name}: heap kept after it");
        }
    }
}
