using System.Diagnostics;
using System.Text;
using Engine.Sockets;
using Engine.Tests.Infrastructure;

namespace Engine.Tests.Interop;

/// <summary>Steps the publish/subscribe interop tests share, whatever library is on either side.</summary>
internal static class PubSubSteps
{
    /// <summary>How long one probe waits for the subscriber before the publisher sends the next.</summary>
    private static readonly TimeSpan ProbeWait = TimeSpan.FromMilliseconds(20);

    /// <summary>Messages a test may receive while looking for a marker before it gives up.</summary>
    private const int MaxMessagesPerWait = 10_000;

    /// <summary>
    /// With "weather." and "ctl." subscribed: publishes topics that match, nearly match and do not
    /// match (single and multipart, one with an empty middle frame) and checks that exactly the
    /// matching ones arrive, byte for byte, up to the "ctl.end" marker.
    /// </summary>
    internal static void OnlyWeatherAndControlArrive(IPatternSocket pub, IPatternSocket sub, byte[] body)
    {
        pub.Send("sports.score 1-0");
        pub.Send("weather.paris 12C");
        pub.Send("weatherman");
        pub.Send("weather".Bytes(), body);
        pub.Send("weather.oslo".Bytes(), Array.Empty<byte>(), body);
        pub.Send("ctl.end");

        List<List<byte[]>> received = ReceiveUntil(sub, "ctl.end");
        Assert.That(received.Select(m => m.Describe()), Is.EqualTo(new[]
        {
            new List<byte[]> { "weather.paris 12C".Bytes() }.Describe(),
            new List<byte[]> { "weather.oslo".Bytes(), Array.Empty<byte>(), body }.Describe(),
        }));
        Assert.That(received[1][2], Is.EqualTo(body), "multipart body byte-exact");
    }

    /// <summary>
    /// Subscriptions travel on their own and a publisher drops what nobody has asked for yet (the
    /// "slow joiner"): publishes <paramref name="controlTopic"/> probes until one arrives, then one
    /// sync marker, and returns once the subscriber has read up to it, so the stream is quiet.
    /// Subscribe to <paramref name="controlTopic"/> last: subscriptions are applied in order, so
    /// when it holds all earlier ones do too.
    /// </summary>
    internal static void WaitUntilSubscribed(IPatternSocket publisher, IPatternSocket subscriber, string controlTopic)
    {
        var clock = Stopwatch.StartNew();
        string probe = controlTopic + "probe";
        int probes = 0;
        while (true)
        {
            if (clock.Elapsed > Deadline.Default)
            {
                Assert.Fail($"{subscriber.Name} received none of {probes} probes from {publisher.Name} within {Deadline.Default.TotalSeconds:0} s: the subscription never reached the publisher.");
            }

            publisher.Send(probe);
            probes++;
            if (subscriber.TryReceive(ProbeWait, out List<byte[]> first))
            {
                Assert.That(first[0].Text(), Is.EqualTo(probe), "the first message after subscribing");
                break;
            }
        }

        publisher.Send(controlTopic + "sync");
        List<List<byte[]>> between = ReceiveUntil(subscriber, controlTopic + "sync", skip: probe);
        Assert.That(between, Is.Empty, "nothing but probes was published before the sync marker");
        TestContext.Out.WriteLine($"{subscriber.Name} subscribed at {publisher.Name} after {probes} probe(s), {clock.ElapsedMilliseconds} ms");
    }

    /// <summary>
    /// Receives until a message whose first frame is <paramref name="marker"/> and returns the
    /// messages before it (leaving out those whose first frame is <paramref name="skip"/>).
    /// </summary>
    internal static List<List<byte[]>> ReceiveUntil(IPatternSocket subscriber, string marker, string? skip = null)
    {
        var before = new List<List<byte[]>>();
        for (int i = 0; i < MaxMessagesPerWait; i++)
        {
            List<byte[]> message = subscriber.Receive();
            string head = message[0].Text();
            if (head == marker)
            {
                return before;
            }

            if (head != skip)
            {
                before.Add(message);
            }
        }

        Assert.Fail($"{subscriber.Name}: no '{marker}' among {MaxMessagesPerWait} messages");
        return before;
    }

    /// <summary>
    /// The topics one of our publishers (PUB or XPUB) holds for its subscribers, sorted. Read on
    /// the publishing thread (the test's), which is the only one that applies subscriptions, and
    /// only current as of its last send.
    /// </summary>
    internal static string[] TopicsHeldBy(MessageSocket publisher) =>
        publisher.AllPeers
            .Where(p => p.Subscriptions is not null)
            .SelectMany(p => p.Subscriptions!.Snapshot())
            .Select(t => Encoding.UTF8.GetString(t.Topic))
            .Order(StringComparer.Ordinal)
            .ToArray();

    /// <summary>
    /// Publishes ticks on our publisher, each read by the subscriber before the next (so the loop
    /// goes at the pace of a round trip), until the publisher no longer holds <paramref name="topic"/>
    /// for any subscriber (it applies subscriptions when it sends): the unsubscribe has arrived and
    /// was understood. The subscriber never sees the topic meanwhile. Returns the number of ticks.
    /// </summary>
    internal static int PublishUntilReleased(EnginePatternSocket publisher, IPatternSocket subscriber, string topic, string controlTopic)
    {
        var clock = Stopwatch.StartNew();
        int ticks = 0;
        while (TopicsHeldBy(publisher.Socket).Contains(topic))
        {
            if (clock.Elapsed > Deadline.Default)
            {
                Assert.Fail($"{publisher.Name} still holds '{topic}' {Deadline.Default.TotalSeconds:0} s after {subscriber.Name} unsubscribed (holds: {string.Join(", ", TopicsHeldBy(publisher.Socket))})");
            }

            publisher.Send($"{controlTopic}tick {ticks}");
            List<byte[]> next = subscriber.Receive();
            Assert.That(next[0].Text(), Is.EqualTo($"{controlTopic}tick {ticks}"), $"{subscriber.Name} after unsubscribing from '{topic}'");
            ticks++;
        }

        return ticks;
    }

    /// <summary>
    /// Our subscriber unsubscribed from <paramref name="topic"/>: publishes one message of that
    /// topic and one control tick per round until a round puts only the tick on the wire (the
    /// foreign publisher applied our unsubscribe), then checks that <paramref name="confirmRounds"/>
    /// more rounds stay that way. The application never sees the topic at any point. Returns the
    /// number of rounds the unsubscribe took to arrive.
    /// </summary>
    internal static int AssertTopicLeavesTheWire(IPatternSocket publisher, IPatternSocket ourSubscriber, WireCounter wire, string topic, string controlTopic, int confirmRounds)
    {
        var clock = Stopwatch.StartNew();
        int round = 0;
        int arrivedAfter = -1;
        int confirmed = 0;
        while (confirmed < confirmRounds)
        {
            if (clock.Elapsed > Deadline.Default)
            {
                Assert.Fail($"{publisher.Name} kept sending '{topic}' for {round} rounds ({Deadline.Default.TotalSeconds:0} s) after {ourSubscriber.Name} unsubscribed");
            }

            long start = wire.Received;
            publisher.Send(Encoding.UTF8.GetBytes($"{topic}{round}"), Payloads.Frame(round, 1, 32));
            publisher.Send($"{controlTopic}tick {round}");
            List<byte[]> next = ourSubscriber.Receive();
            Assert.That(next[0].Text(), Is.EqualTo($"{controlTopic}tick {round}"), $"round {round}: the application must not see '{topic}' after unsubscribing; got {next.Describe()}");
            long onWire = wire.Received - start;
            Assert.That(onWire, Is.InRange(1, 2), $"round {round}: messages that crossed the wire");
            if (onWire == 1)
            {
                arrivedAfter = arrivedAfter < 0 ? round : arrivedAfter;
                confirmed++;
            }
            else
            {
                Assert.That(arrivedAfter, Is.LessThan(0), $"round {round}: '{topic}' was on the wire again after the publisher had stopped sending it at round {arrivedAfter}");
            }

            round++;
        }

        return arrivedAfter;
    }
}
