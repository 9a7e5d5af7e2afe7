using Engine.Sockets;
using Engine.Tests.Infrastructure;

namespace Engine.Tests.Patterns;

/// <summary>RFC 29 (PUBSUB) over tcp.</summary>
[TestFixture]
[CancelAfter(60_000)]
public class PubSubTests
{
    private static SocketOptions Patient() => new() { ReceiveTimeout = TimeSpan.FromSeconds(10) };

    /// <summary>Publishes until the subscriber sees something: subscriptions travel asynchronously (the "slow joiner").</summary>
    private static void SendUntilSubscribed(PubSocket pub, SubSocket sub, string topic)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            pub.Send(topic + "probe");
            if (sub.TryReceive(out Msg frame, TimeSpan.FromMilliseconds(20)))
            {
                frame.Dispose();
                while (sub.TryReceive(out frame, TimeSpan.FromMilliseconds(20)))
                {
                    frame.Dispose();
                }

                return;
            }
        }

        Assert.Fail("subscription never reached the publisher");
    }

    [Test]
    public void SubscriberGetsOnlyMatchingPrefixes()
    {
        using var pub = new PubSocket();
        string endpoint = pub.Bind("tcp://127.0.0.1:0");
        using var sub = new SubSocket(Patient());
        sub.Connect(endpoint);
        sub.Subscribe("weather.");
        SendUntilSubscribed(pub, sub, "weather.");

        pub.Send("sports.score 1-0");
        pub.Send("weather.paris 12C");
        pub.Send("weatherman"u8);
        pub.Send("weather.oslo -3C");
        Assert.That(sub.ReceiveString(), Is.EqualTo("weather.paris 12C"));
        Assert.That(sub.ReceiveString(), Is.EqualTo("weather.oslo -3C"));
        Assert.That(sub.TryReceive(out _, TimeSpan.FromMilliseconds(100)), Is.False);
    }

    [Test]
    public void SubscriptionsAreCountedAndUnsubscribeStopsDelivery()
    {
        using var pub = new PubSocket();
        string endpoint = pub.Bind("tcp://127.0.0.1:0");
        using var sub = new SubSocket(Patient());
        sub.Connect(endpoint);
        sub.Subscribe("a");
        sub.Subscribe("a");
        SendUntilSubscribed(pub, sub, "a");
        sub.Unsubscribe("a");
        pub.Send("a still subscribed once");
        Assert.That(sub.ReceiveString(), Is.EqualTo("a still subscribed once"));

        sub.Unsubscribe("a");
        sub.Subscribe("z");
        SendUntilSubscribed(pub, sub, "z");
        pub.Send("a gone");
        pub.Send("z here");
        Assert.That(sub.ReceiveString(), Is.EqualTo("z here"));
    }

    [Test]
    public void PublisherDropsForASubscriberAtItsHighWaterMarkAndNeverBlocks()
    {
        using var pub = new PubSocket(new SocketOptions { SendHighWatermark = 10, SendBufferSize = 4096 });
        string endpoint = pub.Bind("tcp://127.0.0.1:0");
        using var sub = new SubSocket(new SocketOptions { ReceiveHighWatermark = 10, ReceiveBufferSize = 4096, ReceiveTimeout = TimeSpan.FromSeconds(10) });
        sub.Connect(endpoint);
        sub.Subscribe("");
        SendUntilSubscribed(pub, sub, "");

        var payload = new byte[1024];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < 20_000; i++)
        {
            Assert.That(pub.TrySend(payload, TimeSpan.Zero), Is.True, "PUB send never refuses");
        }

        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)));
        Assert.That(pub.DroppedMessages, Is.GreaterThan(0), "messages for the stalled subscriber were dropped and counted");
    }

    [Test]
    public void SubscriptionsAreSentAgainAfterTheSubscriberReconnects()
    {
        var first = new PubSocket();
        string endpoint = first.Bind("tcp://127.0.0.1:0");
        using var sub = new SubSocket(new SocketOptions { ReceiveTimeout = TimeSpan.FromSeconds(10), ReconnectInterval = TimeSpan.FromMilliseconds(20), ReconnectIntervalMax = TimeSpan.FromMilliseconds(100) });
        sub.Connect(endpoint);
        sub.Subscribe("t");
        SendUntilSubscribed(first, sub, "t");
        first.Dispose();
        Deadline.WaitUntil(() => sub.ConnectedCount == 0, "subscriber to notice");

        using var second = new PubSocket();
        second.Bind(endpoint);
        SendUntilSubscribed(second, sub, "t");
        second.Send("t after restart");
        second.Send("x not subscribed");
        Assert.That(sub.ReceiveString(), Is.EqualTo("t after restart"));
    }

    [Test]
    public void XPubHandsNewSubscriptionsToTheApplicationAndWelcomesSubscribers()
    {
        var options = Patient();
        options.XPubWelcomeMessage = "welcome"u8.ToArray();
        using var xpub = new XPubSocket(options);
        string endpoint = xpub.Bind("tcp://127.0.0.1:0");
        using var sub = new SubSocket(Patient());
        sub.Subscribe("welcome");
        sub.Subscribe("news");
        sub.Connect(endpoint);
        Assert.That(sub.ReceiveString(), Is.EqualTo("welcome"));

        var seen = new HashSet<string>();
        for (int i = 0; i < 2; i++)
        {
            byte[] subscription = xpub.ReceiveBytes();
            Assert.That(subscription[0], Is.EqualTo(1));
            seen.Add(System.Text.Encoding.UTF8.GetString(subscription.AsSpan(1)));
        }

        Assert.That(seen, Is.EquivalentTo(new[] { "welcome", "news" }));
        sub.Unsubscribe("news");
        byte[] cancel = xpub.ReceiveBytes();
        Assert.That(cancel, Is.EqualTo(new byte[] { 0 }.Concat("news"u8.ToArray()).ToArray()));
    }
}

/// <summary>A hostile subscriber cannot grow the publisher's subscription tree without bound.</summary>
[TestFixture]
[CancelAfter(60_000)]
public class SubscriptionLimitTests
{
    [Test]
    public void ASubscriberAskingForMoreThanMaxSubscriptionBytesIsClosedWithAReason()
    {
        using var pub = new PubSocket(new SocketOptions { MaxSubscriptionBytes = 1000 });
        using var events = new Engine.Tests.Interop.MonitorRecorder(pub);
        string endpoint = pub.Bind("tcp://127.0.0.1:0");
        using var greedy = new XSubSocket();
        greedy.Connect(endpoint);
        for (int i = 0; i < 50; i++)
        {
            // 50 distinct 100-byte topics: 5,000 bytes against a 1,000-byte allowance.
            byte[] subscription = new byte[101];
            subscription[0] = 1;
            subscription.AsSpan(1).Fill((byte)('a' + (i % 26)));
            subscription[1] = (byte)i;
            greedy.Send(subscription);
        }

        // The publisher applies subscriptions when it sends.
        MonitorEvent closed = default;
        Deadline.WaitUntil(() =>
        {
            pub.Send("tick"u8);
            return events.Count(MonitorEventKind.ProtocolError) > 0;
        }, "the greedy subscriber to be closed");
        closed = events.WaitFor(MonitorEventKind.ProtocolError, 1);
        Assert.That(closed.Reason, Does.Contain("MaxSubscriptionBytes"));
    }
}
