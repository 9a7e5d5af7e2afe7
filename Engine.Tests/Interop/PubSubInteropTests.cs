using Engine.Sockets;

namespace Engine.Tests.Interop;

/// <summary>
/// Our PUB feeding a foreign SUB. libzmq 4.3 sends its subscriptions as ZMTP 3.1 SUBSCRIBE/CANCEL
/// commands, NetMQ as 3.0 messages (<c>0x01 topic</c> / <c>0x00 topic</c>); our publisher must
/// understand both and filter on its side. Foreign subscribers filter too, so what the publisher
/// did is checked on the publisher (the topics it holds per subscriber).
/// </summary>
[TestFixtureSource(typeof(PatternInteropFixture), nameof(PatternInteropFixture.EveryPeerAndTransport))]
[Category("interop")]
[CancelAfter(30_000)]
public sealed class EnginePubToForeignSubTests(ForeignPeer peer, InteropTransport transport, BindingSide binder) : PatternInteropFixture(peer, binder, transport)
{
    [Test]
    public void TheirPrefixSubscriptionsReachUsAndOnlyMatchingMessagesArrive()
    {
        EnginePatternSocket pub = Ours(new PubSocket(InteropSettings.EngineOptions()));
        IPatternSocket sub = Theirs(SocketType.Sub);
        Link(pub, sub);
        sub.Subscribe("weather.");
        sub.Subscribe("ctl.");
        PubSubSteps.WaitUntilSubscribed(pub, sub, "ctl.");
        Assert.That(PubSubSteps.TopicsHeldBy(pub.Socket), Is.EqualTo(new[] { "ctl.", "weather." }), "the topics our PUB holds for the subscriber, byte for byte");

        PubSubSteps.OnlyWeatherAndControlArrive(pub, sub, Payloads.Frame(7, 1, 3000));
    }

    [Test]
    public void AfterTheirUnsubscribeReachesUsWeStopSendingThatTopic()
    {
        EnginePatternSocket pub = Ours(new PubSocket(InteropSettings.EngineOptions()));
        IPatternSocket sub = Theirs(SocketType.Sub);
        Link(pub, sub);
        sub.Subscribe("news.");
        sub.Subscribe("ctl.");
        PubSubSteps.WaitUntilSubscribed(pub, sub, "ctl.");
        pub.Send("news.1");
        Assert.That(sub.Receive()[0].Text(), Is.EqualTo("news.1"));

        sub.Unsubscribe("news.");
        int ticks = PubSubSteps.PublishUntilReleased(pub, sub, "news.", "ctl.");
        TestContext.Out.WriteLine($"the unsubscribe arrived after {ticks} tick(s)");
        Assert.That(PubSubSteps.TopicsHeldBy(pub.Socket), Is.EqualTo(new[] { "ctl." }));

        // From now on our PUB has nobody for "news.": nothing of it may arrive.
        for (int i = 0; i < 20; i++)
        {
            pub.Send($"news.after {i}");
        }

        pub.Send("ctl.end");
        Assert.That(PubSubSteps.ReceiveUntil(sub, "ctl.end").Select(m => m.Describe()), Is.Empty);

        // Subscribing again works as the first time.
        sub.Subscribe("news.");
        PubSubSteps.WaitUntilSubscribed(pub, sub, "news.");
        Assert.That(PubSubSteps.TopicsHeldBy(pub.Socket), Is.EqualTo(new[] { "ctl.", "news." }));
    }
}

/// <summary>
/// A foreign PUB feeding our SUB: we send subscriptions as SUBSCRIBE/CANCEL commands to libzmq
/// (ZMTP 3.1) and as messages to NetMQ (3.0). Our SUB filters on its side too, so the checks
/// count what crossed the wire: the foreign publisher must filter by our prefixes and stop
/// sending a topic once our unsubscribe reached it.
/// </summary>
[TestFixtureSource(typeof(PatternInteropFixture), nameof(PatternInteropFixture.EveryPeerAndTransport))]
[Category("interop")]
[CancelAfter(30_000)]
public sealed class ForeignPubToEngineSubTests(ForeignPeer peer, InteropTransport transport, BindingSide binder) : PatternInteropFixture(peer, binder, transport)
{
    [Test]
    public void TheyFilterByOurPrefixSubscriptions()
    {
        IPatternSocket pub = Theirs(SocketType.Pub);
        EnginePatternSocket sub = Ours(new SubSocket(InteropSettings.EngineOptions()));
        Link(sub, pub);
        sub.Subscribe("weather.");
        sub.Subscribe("ctl.");
        PubSubSteps.WaitUntilSubscribed(pub, sub, "ctl.");

        using var wire = new WireCounter();
        PubSubSteps.OnlyWeatherAndControlArrive(pub, sub, Payloads.Frame(3, 1, 3000));
        Assert.That(wire.Received, Is.EqualTo(3), $"{pub.Name} must send only what our subscriptions match (2 + the end marker)");
    }

    [Test]
    public void AfterOurUnsubscribeReachesThemNoMoreOfThatTopicArrives()
    {
        IPatternSocket pub = Theirs(SocketType.Pub);
        EnginePatternSocket sub = Ours(new SubSocket(InteropSettings.EngineOptions()));
        Link(sub, pub);
        sub.Subscribe("news.");
        sub.Subscribe("ctl.");
        PubSubSteps.WaitUntilSubscribed(pub, sub, "ctl.");
        pub.Send("news.1");
        Assert.That(sub.Receive()[0].Text(), Is.EqualTo("news.1"));

        using var wire = new WireCounter();
        sub.Unsubscribe("news.");
        int rounds = PubSubSteps.AssertTopicLeavesTheWire(pub, sub, wire, "news.", "ctl.", confirmRounds: 20);
        TestContext.Out.WriteLine($"{pub.Name} stopped sending 'news.' after {rounds} round(s)");

        // Subscribing again works as the first time.
        sub.Subscribe("news.");
        PubSubSteps.WaitUntilSubscribed(pub, sub, "news.");
    }

    [Test]
    public void CountedSubscriptionsNeedAsManyUnsubscribes()
    {
        IPatternSocket pub = Theirs(SocketType.Pub);
        EnginePatternSocket sub = Ours(new SubSocket(InteropSettings.EngineOptions()));
        Link(sub, pub);
        sub.Subscribe("news.");
        sub.Subscribe("news.");
        sub.Subscribe("ctl.");
        PubSubSteps.WaitUntilSubscribed(pub, sub, "ctl.");

        // One of two subscriptions withdrawn: still subscribed, so nothing may go upstream. A new
        // subscription after it proves the publisher has applied whatever we sent before.
        sub.Unsubscribe("news.");
        sub.Subscribe("sync.");
        PubSubSteps.WaitUntilSubscribed(pub, sub, "sync.");
        pub.Send("news.still");
        Assert.That(sub.Receive()[0].Text(), Is.EqualTo("news.still"));

        using var wire = new WireCounter();
        sub.Unsubscribe("news.");
        PubSubSteps.AssertTopicLeavesTheWire(pub, sub, wire, "news.", "ctl.", confirmRounds: 5);
    }
}
