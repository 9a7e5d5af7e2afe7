using System.Text;
using Engine.Sockets;

namespace Engine.Tests.Patterns;

/// <summary>
/// A SUB that binds and subscribes while a publisher is connecting to it: the subscriptions are
/// made on the application's thread while the new connection is set up on the engine's, and every
/// one must reach the publisher (written once by the subscribe or once by the new connection's
/// resend, never by neither). An engine XPUB shows what crossed the wire. Written while looking
/// for the cause of a rare interop failure in which a libzmq PUB never sent a topic subscribed
/// this way; the engine's side held in 1,650 rounds, with and without a busy loop beside it.
/// </summary>
[TestFixture]
[CancelAfter(60_000)]
public class SubscriptionRaceTests
{
    [Test]
    public void SubscriptionsMadeWhileAPublisherConnectsAllReachIt()
    {
        const int Rounds = 200;
        var failures = new List<string>();
        // Bounded: a broken engine fails a round in 2 s, and three failed rounds end the test.
        for (int round = 0; round < Rounds && failures.Count < 3; round++)
        {
            using var sub = new SubSocket(new SocketOptions { Linger = TimeSpan.Zero });
            string endpoint = sub.Bind("tcp://127.0.0.1:0");
            using var xpub = new XPubSocket(new SocketOptions { Linger = TimeSpan.Zero });
            xpub.Connect(endpoint);
            // Vary where in the connection's set-up the subscriptions land.
            Thread.SpinWait(50 * (round % 40));
            sub.Subscribe("news.");
            sub.Subscribe("ctl.");

            var seen = new HashSet<string>();
            while (seen.Count < 2 && xpub.TryReceive(out Msg subscription, TimeSpan.FromSeconds(2)))
            {
                seen.Add((subscription.Span[0] == 1 ? "+" : "-") + Encoding.UTF8.GetString(subscription.Span[1..]));
                subscription.Dispose();
            }

            if (!seen.SetEquals(["+news.", "+ctl."]))
            {
                failures.Add($"round {round}: the publisher saw {string.Join(", ", seen)}");
            }
        }

        Assert.That(failures, Is.Empty, "every subscription reaches the publisher");
    }
}
