using Engine.Sockets;
using NetMQ;
using NetMQPull = NetMQ.Sockets.PullSocket;
using NetMQPush = NetMQ.Sockets.PushSocket;

namespace Engine.Tests.Interop;

/// <summary>
/// A foreign PUSH that connects to our PUSH (a pairing no pattern allows) must be refused at the
/// handshake, with a reason that names both socket types, must never become a route for our
/// messages, and must not disturb a valid PULL on the same listener.
/// </summary>
[TestFixture]
[Category("interop")]
[CancelAfter(60_000)]
public sealed class SocketTypeMismatchTests
{
    /// <summary>How long a send with no route must keep failing; the outcome does not depend on it, only the test's run time.</summary>
    private static readonly TimeSpan NoRouteProbe = TimeSpan.FromMilliseconds(200);

    [OneTimeTearDown]
    public void CleanupNetMQ() => NetMQConfig.Cleanup(block: false);

    [Test]
    public void LibZmqPushConnectingToOurPushIsRefusedAndAValidPullKeepsWorking()
    {
        using var context = new ZmqContext();
        AssertRefusedWhileValidPeerWorks(
            connectWrongPeer: endpoint =>
            {
                ZmqSocket wrong = context.CreateSocket(LibZmq.ZMQ_PUSH);
                wrong.Connect(endpoint);
                // libzmq queues this (its pipe exists from connect on); it must reach nobody.
                wrong.TrySend("from a PUSH to a PUSH"u8);
                return wrong;
            },
            connectValidPeer: endpoint =>
            {
                ZmqSocket pull = context.CreateSocket(LibZmq.ZMQ_PULL);
                pull.Connect(endpoint);
                return (pull, new LibZmqReceiver(pull));
            });
    }

    [Test]
    public void NetMQPushConnectingToOurPushIsRefusedAndAValidPullKeepsWorking()
    {
        AssertRefusedWhileValidPeerWorks(
            connectWrongPeer: endpoint =>
            {
                var wrong = new NetMQPush();
                wrong.Options.Linger = TimeSpan.Zero;
                wrong.Connect(endpoint);
                wrong.TrySendFrame("from a PUSH to a PUSH");
                return wrong;
            },
            connectValidPeer: endpoint =>
            {
                var pull = new NetMQPull();
                pull.Options.Linger = TimeSpan.Zero;
                pull.Connect(endpoint);
                return (pull, new NetMQReceiver(pull));
            });
    }

    private static void AssertRefusedWhileValidPeerWorks(
        Func<string, IDisposable> connectWrongPeer,
        Func<string, (IDisposable Socket, IMessageReceiver Receiver)> connectValidPeer)
    {
        using var push = new PushSocket(InteropSettings.EngineOptions());
        string endpoint = push.Bind(InteropSettings.OurBindAddress);
        using var events = new MonitorRecorder(push);

        using (connectWrongPeer(endpoint))
        {
            MonitorEvent refused = events.WaitFor(MonitorEventKind.HandshakeFailed, 1);
            Assert.That(refused.Reason, Does.Match("PUSH.*PUSH"), $"the reason should name both socket types: {refused}");

            // The refused connection must not have become a route: with no valid peer, nothing can be sent.
            Assert.That(push.TrySend("nowhere to go"u8, NoRouteProbe), Is.False, "a message was routed to a peer that failed its handshake");
            Assert.That(events.Count(MonitorEventKind.HandshakeSucceeded), Is.Zero, events.Describe());

            (IDisposable validSocket, IMessageReceiver valid) = connectValidPeer(endpoint);
            using (validSocket)
            {
                SendAndExpect(push, valid, first: 0, count: 100);

                // Refused again while the valid peer is up (a second wrong peer; the first one may
                // also retry), and the valid peer carries on undisturbed.
                int refusedSoFar = events.Count(MonitorEventKind.HandshakeFailed);
                using (connectWrongPeer(endpoint))
                {
                    MonitorEvent refusedAgain = events.WaitFor(MonitorEventKind.HandshakeFailed, refusedSoFar + 1);
                    Assert.That(refusedAgain.Reason, Does.Match("PUSH.*PUSH"), refusedAgain.ToString());
                    SendAndExpect(push, valid, first: 100, count: 100);
                }
            }
        }

        TestContext.Out.WriteLine("Monitor events: " + events.Describe());
        Assert.That(events.Count(MonitorEventKind.HandshakeSucceeded), Is.EqualTo(1), "only the valid PULL may complete a handshake: " + events.Describe());
    }

    /// <summary>Sends numbered messages from our PUSH and checks that the valid peer gets each of them, in order.</summary>
    private static void SendAndExpect(PushSocket push, IMessageReceiver receiver, int first, int count)
    {
        // Fewer than the high-water marks, so sending all before receiving cannot block.
        for (int i = first; i < first + count; i++)
        {
            push.Send(Payloads.Frame(i, 0, 16));
        }

        for (int i = first; i < first + count; i++)
        {
            Payloads.AssertMessage(i, [Payloads.Frame(i, 0, 16)], receiver.ReceiveMessage());
        }
    }
}
