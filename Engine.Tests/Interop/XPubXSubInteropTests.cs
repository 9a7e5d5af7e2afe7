using Engine.Sockets;

namespace Engine.Tests.Interop;

/// <summary>
/// XPUB and XSUB against foreign peers: subscriptions become visible as <c>0x01 topic</c> /
/// <c>0x00 topic</c> messages, whatever form they crossed the wire in (SUBSCRIBE/CANCEL commands
/// with libzmq, messages with NetMQ). A foreign XPUB is also the most direct witness of what our
/// SUB sends.
/// </summary>
[TestFixtureSource(typeof(PatternInteropFixture), nameof(PatternInteropFixture.EveryPeerAndTransport))]
[Category("interop")]
[CancelAfter(30_000)]
public sealed class XPubXSubInteropTests(ForeignPeer peer, InteropTransport transport, BindingSide binder) : PatternInteropFixture(peer, binder, transport)
{
    [Test]
    public void OurXPubSeesTheirSubscribesAndUnsubscribes()
    {
        EnginePatternSocket xpub = Ours(new XPubSocket(InteropSettings.EngineOptions()));
        IPatternSocket sub = Theirs(SocketType.Sub);
        Link(xpub, sub);

        sub.Subscribe("news.");
        AssertSubscription(ReceiveWhileTheyRun(xpub, sub), 1, "news.");

        // The subscription is in place once we have read it: no slow joiner from here on.
        xpub.Send("other");
        xpub.Send("news.1");
        Assert.That(sub.Receive()[0].Text(), Is.EqualTo("news.1"));

        sub.Unsubscribe("news.");
        AssertSubscription(xpub.Receive(), 0, "news.");

        if (Binder == BindingSide.Ours)
        {
            // A subscriber that leaves an XPUB that accepted it withdraws its topics, and XPUB tells
            // the application. (Where our XPUB connected, the peer outlives the connection and keeps
            // its subscriptions until it comes back, as in libzmq.)
            sub.Subscribe("gone.");
            AssertSubscription(xpub.Receive(), 1, "gone.");
            sub.Dispose();
            AssertSubscription(xpub.Receive(), 0, "gone.");
        }
    }

    [Test]
    public void OurXSubSubscribesAndUnsubscribesAtTheirPub()
    {
        IPatternSocket pub = Theirs(SocketType.Pub);
        EnginePatternSocket xsub = Ours(new XSubSocket(InteropSettings.EngineOptions()));
        Link(xsub, pub);

        // Subscription messages, sent like any other message (0x01 topic).
        xsub.Subscribe("news.");
        xsub.Subscribe("ctl.");
        PubSubSteps.WaitUntilSubscribed(pub, xsub, "ctl.");

        using var wire = new WireCounter();
        pub.Send("other");
        pub.Send("news.a");
        pub.Send("ctl.end");
        Assert.That(PubSubSteps.ReceiveUntil(xsub, "ctl.end").Select(m => m.Describe()), Is.EqualTo(new[] { new List<byte[]> { "news.a".Bytes() }.Describe() }));
        Assert.That(wire.Received, Is.EqualTo(2), $"{pub.Name} must filter by our XSUB's subscriptions");

        using var afterCancel = new WireCounter();
        xsub.Unsubscribe("news.");
        PubSubSteps.AssertTopicLeavesTheWire(pub, xsub, afterCancel, "news.", "ctl.", confirmRounds: 10);
    }

    /// <summary>
    /// A verbose foreign XPUB hands up every subscribe it receives and the unsubscribe that leaves
    /// a topic without subscribers: what it reports is exactly what our SUB put on the wire,
    /// decoded by libzmq from commands or by NetMQ from messages.
    /// </summary>
    [Test]
    public void TheirXPubSeesExactlyTheSubscriptionsOurSubSends()
    {
        IPatternSocket xpub = Theirs(
            SocketType.XPub,
            configureLibZmq: s => s.SetOption(LibZmq.ZMQ_XPUB_VERBOSE, 1),
            configureNetMQ: s => s.Options.XPubVerbose = true);
        EnginePatternSocket sub = Ours(new SubSocket(InteropSettings.EngineOptions()));
        Link(sub, xpub);

        sub.Subscribe("news.");
        AssertSubscription(xpub.Receive(), 1, "news.");

        // Counted: a second subscribe is sent (a verbose XPUB shows it), the first unsubscribe is not.
        sub.Subscribe("news.");
        AssertSubscription(xpub.Receive(), 1, "news.");
        sub.Unsubscribe("news.");
        sub.Subscribe("sync.");
        AssertSubscription(xpub.Receive(), 1, "sync.");
        sub.Unsubscribe("news.");
        AssertSubscription(xpub.Receive(), 0, "news.");

        // A topic with bytes that are not text, and the empty topic (everything).
        byte[] binary = [0x00, 0xff, 0x01, 0x7f];
        sub.Subscribe(binary);
        AssertSubscription(xpub.Receive(), 1, binary);
        sub.Subscribe(Array.Empty<byte>());
        AssertSubscription(xpub.Receive(), 1, Array.Empty<byte>());

        // And traffic flows the other way: everything, since we subscribed to the empty topic.
        xpub.Send("sync.hello");
        xpub.Send("anything");
        Assert.That(sub.Receive()[0].Text(), Is.EqualTo("sync.hello"));
        Assert.That(sub.Receive()[0].Text(), Is.EqualTo("anything"));
    }

    /// <summary>
    /// Receives on our XPUB while letting their SUB run. libzmq and NetMQ sockets do their
    /// bookkeeping only inside calls the application makes: a SUB that bound, and is not being
    /// read, never attaches the connection our XPUB made, so it never sends its subscriptions.
    /// A zero-timeout receive on it is such a call (and must find nothing: nothing was published).
    /// </summary>
    private static List<byte[]> ReceiveWhileTheyRun(IPatternSocket xpub, IPatternSocket sub)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < Infrastructure.Deadline.Default)
        {
            Assert.That(sub.TryReceive(TimeSpan.Zero, out List<byte[]> stray), Is.False, () => $"{sub.Name} received {stray.Describe()} before anything was published");
            if (xpub.TryReceive(TimeSpan.FromMilliseconds(20), out List<byte[]> message))
            {
                return message;
            }
        }

        Assert.Fail($"{xpub.Name} received no subscription within {Infrastructure.Deadline.Default.TotalSeconds:0} s");
        return [];
    }

    private static void AssertSubscription(List<byte[]> message, byte kind, string topic) => AssertSubscription(message, kind, topic.Bytes());

    private static void AssertSubscription(List<byte[]> message, byte kind, byte[] topic)
    {
        byte[] expected = [kind, .. topic];
        Assert.That(message, Has.Count.EqualTo(1), $"a subscription is one frame: {message.Describe()}");
        Assert.That(message[0], Is.EqualTo(expected), $"expected {(kind == 1 ? "subscribe" : "unsubscribe")} '{new List<byte[]> { topic }.Describe()}', got {message.Describe()}");
    }
}
