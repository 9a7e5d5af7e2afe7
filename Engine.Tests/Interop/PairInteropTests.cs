using Engine.Sockets;

namespace Engine.Tests.Interop;

/// <summary>Our PAIR with a foreign PAIR: both send, both receive, in lockstep and in bursts.</summary>
[TestFixtureSource(typeof(PatternInteropFixture), nameof(PatternInteropFixture.EveryPeerAndTransport))]
[Category("interop")]
[CancelAfter(30_000)]
public sealed class PairInteropTests(ForeignPeer peer, InteropTransport transport, BindingSide binder) : PatternInteropFixture(peer, binder, transport)
{
    [Test]
    public void BothSidesSendAndReceiveInLockstep()
    {
        IPatternSocket ours = Ours(new PairSocket(InteropSettings.EngineOptions()));
        IPatternSocket theirs = Theirs(SocketType.Pair);
        Link(ours, theirs);
        for (int i = 0; i < Exchanges.RoundTrips; i++)
        {
            // Alternate who speaks first, so each side both opens and answers.
            (IPatternSocket first, IPatternSocket second) = i % 2 == 0 ? (ours, theirs) : (theirs, ours);
            first.Send(Exchanges.Request(i));
            Payloads.AssertMessage(i, Exchanges.Request(i), second.Receive());
            second.Send(Exchanges.Reply(i));
            Payloads.AssertMessage(i, Exchanges.Reply(i), first.Receive());
        }
    }

    [Test]
    public void BurstsInBothDirectionsArriveInOrder()
    {
        IPatternSocket ours = Ours(new PairSocket(InteropSettings.EngineOptions()));
        IPatternSocket theirs = Theirs(SocketType.Pair);
        Link(ours, theirs);

        // Fewer messages than either side's high-water mark, so sending all before reading cannot block.
        const int burst = 500;
        for (int i = 0; i < burst; i++)
        {
            ours.Send(Exchanges.Request(i));
            theirs.Send(Exchanges.Reply(i));
        }

        for (int i = 0; i < burst; i++)
        {
            Payloads.AssertMessage(i, Exchanges.Request(i), theirs.Receive());
            Payloads.AssertMessage(i, Exchanges.Reply(i), ours.Receive());
        }
    }
}
