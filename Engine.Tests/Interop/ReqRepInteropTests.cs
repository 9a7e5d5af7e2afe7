using Engine.Sockets;

namespace Engine.Tests.Interop;

/// <summary>Request and reply bodies for the REQ/REP, DEALER/ROUTER and PAIR interop tests.</summary>
internal static class Exchanges
{
    internal const int RoundTrips = 300;

    private static readonly int[] Sizes = [5, 0, 17, 255, 256, 1024, 9000, 1];

    /// <summary>Request <paramref name="i"/>: 1 to 3 frames of mixed sizes (empty frames included).</summary>
    internal static byte[][] Request(int i) =>
        Enumerable.Range(0, 1 + (i % 3)).Select(j => Payloads.Frame(i, j, Sizes[(i + j) % Sizes.Length])).ToArray();

    /// <summary>The reply to request <paramref name="i"/>: different bytes, so an echo cannot pass for it.</summary>
    internal static byte[][] Reply(int i) =>
        Enumerable.Range(0, 1 + ((i + 1) % 3)).Select(j => Payloads.Frame(i, 100 + j, Sizes[(i + j + 3) % Sizes.Length])).ToArray();
}

/// <summary>Our REQ asking a foreign REP, hundreds of round trips with every byte checked.</summary>
[TestFixtureSource(typeof(PatternInteropFixture), nameof(PatternInteropFixture.EveryPeerAndTransport))]
[Category("interop")]
[CancelAfter(30_000)]
public sealed class EngineReqToForeignRepTests(ForeignPeer peer, InteropTransport transport, BindingSide binder) : PatternInteropFixture(peer, binder, transport)
{
    [Test]
    public void HundredsOfRoundTripsWithVerifiedPayloads()
    {
        EnginePatternSocket req = Ours(new ReqSocket(InteropSettings.EngineOptions()));
        IPatternSocket rep = Theirs(SocketType.Rep);
        Link(req, rep);
        for (int i = 0; i < Exchanges.RoundTrips; i++)
        {
            req.Send(Exchanges.Request(i));
            Payloads.AssertMessage(i, Exchanges.Request(i), rep.Receive());
            rep.Send(Exchanges.Reply(i));
            Payloads.AssertMessage(i, Exchanges.Reply(i), req.Receive());
        }
    }
}

/// <summary>A foreign REQ asking our REP: our REP must keep their envelope and send it back with the reply.</summary>
[TestFixtureSource(typeof(PatternInteropFixture), nameof(PatternInteropFixture.EveryPeerAndTransport))]
[Category("interop")]
[CancelAfter(30_000)]
public sealed class ForeignReqToEngineRepTests(ForeignPeer peer, InteropTransport transport, BindingSide binder) : PatternInteropFixture(peer, binder, transport)
{
    [Test]
    public void HundredsOfRoundTripsWithVerifiedPayloads()
    {
        EnginePatternSocket rep = Ours(new RepSocket(InteropSettings.EngineOptions()));
        IPatternSocket req = Theirs(SocketType.Req);
        Link(rep, req);
        for (int i = 0; i < Exchanges.RoundTrips; i++)
        {
            req.Send(Exchanges.Request(i));
            Payloads.AssertMessage(i, Exchanges.Request(i), rep.Receive());
            rep.Send(Exchanges.Reply(i));
            Payloads.AssertMessage(i, Exchanges.Reply(i), req.Receive());
        }
    }

    /// <summary>Two foreign requesters at once: each reply goes back to the REQ that asked.</summary>
    [Test]
    public void RepliesGoBackToTheRequesterThatAsked()
    {
        EnginePatternSocket rep = Ours(new RepSocket(InteropSettings.EngineOptions()));
        IPatternSocket first = Theirs(SocketType.Req);
        IPatternSocket second = Theirs(SocketType.Req);
        Link(rep, first);
        Link(rep, second);
        for (int i = 0; i < 50; i++)
        {
            first.Send($"first {i}");
            second.Send($"second {i}");
            for (int k = 0; k < 2; k++)
            {
                string request = rep.Receive()[0].Text();
                rep.Send($"reply to {request}");
            }

            Assert.That(first.Receive()[0].Text(), Is.EqualTo($"reply to first {i}"));
            Assert.That(second.Receive()[0].Text(), Is.EqualTo($"reply to second {i}"));
        }
    }
}
