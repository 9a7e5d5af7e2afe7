using System.Diagnostics;
using Engine.Sockets;
using Engine.Tests.Infrastructure;
using NetMQ;

namespace Engine.Tests.Interop;

/// <summary>
/// Foreign DEALERs talking to our ROUTER: one announces an identity (libzmq ZMQ_ROUTING_ID,
/// NetMQ Options.Identity) and our ROUTER must use it as the routing id, byte for byte; the
/// other announces none and gets one we generate (a zero byte and a 32-bit counter).
/// </summary>
[TestFixtureSource(typeof(PatternInteropFixture), nameof(PatternInteropFixture.EveryPeerAndTransport))]
[Category("interop")]
[CancelAfter(30_000)]
public sealed class ForeignDealerToEngineRouterTests(ForeignPeer peer, InteropTransport transport, BindingSide binder) : PatternInteropFixture(peer, binder, transport)
{
    private static readonly byte[] TheirIdentity = "their-dealer-\u00e9"u8.ToArray();

    [Test]
    public void WeSeeTheirIdentityAndReplyByIt()
    {
        EnginePatternSocket router = Ours(new RouterSocket(InteropSettings.EngineOptions()));
        IPatternSocket named = Theirs(
            SocketType.Dealer,
            configureLibZmq: s => s.SetOption(LibZmq.ZMQ_ROUTING_ID, TheirIdentity),
            configureNetMQ: s => s.Options.Identity = TheirIdentity);
        IPatternSocket anonymous = Theirs(SocketType.Dealer);
        Link(router, named);
        Link(router, anonymous);

        byte[]? generated = null;
        for (int i = 0; i < Exchanges.RoundTrips / 2; i++)
        {
            named.Send(["named".Bytes(), .. Exchanges.Request(i)]);
            anonymous.Send(["anonymous".Bytes(), .. Exchanges.Request(i)]);
            for (int k = 0; k < 2; k++)
            {
                List<byte[]> request = router.Receive();
                byte[] id = request[0];
                string who = request[1].Text();
                Payloads.AssertMessage(i, Exchanges.Request(i), request[2..]);
                if (who == "named")
                {
                    Assert.That(id, Is.EqualTo(TheirIdentity), "the routing id is the identity the dealer announced");
                }
                else
                {
                    Assert.That(who, Is.EqualTo("anonymous"));
                    generated ??= id;
                    Assert.That(id, Is.EqualTo(generated), "a generated id stays the same for the connection");
                    Assert.That(id, Has.Length.EqualTo(5), "generated id: a zero byte and a 32-bit counter");
                    Assert.That(id[0], Is.Zero, "generated ids start with a zero byte, which no announced identity may");
                }

                router.Send([id, .. Exchanges.Reply(i)]);
            }

            Payloads.AssertMessage(i, Exchanges.Reply(i), named.Receive());
            Payloads.AssertMessage(i, Exchanges.Reply(i), anonymous.Receive());
        }
    }
}

/// <summary>
/// Our DEALER, with <see cref="SocketOptions.Identity"/>, talking to a foreign ROUTER: they must
/// see our identity as the routing id, and (with their ROUTER_MANDATORY) must be able to address
/// us by it before we have sent anything: the identity travels in our READY.
/// </summary>
[TestFixtureSource(typeof(PatternInteropFixture), nameof(PatternInteropFixture.EveryPeerAndTransport))]
[Category("interop")]
[CancelAfter(30_000)]
public sealed class EngineDealerToForeignRouterTests(ForeignPeer peer, InteropTransport transport, BindingSide binder) : PatternInteropFixture(peer, binder, transport)
{
    private static readonly byte[] OurIdentity = "our-dealer-\u00fc"u8.ToArray();

    [Test]
    public void TheySeeOurIdentityAndCanAddressUsFirst()
    {
        IPatternSocket router = Theirs(
            SocketType.Router,
            configureLibZmq: s => s.SetOption(LibZmq.ZMQ_ROUTER_MANDATORY, 1),
            configureNetMQ: s => s.Options.RouterMandatory = true);
        SocketOptions options = InteropSettings.EngineOptions();
        options.Identity = OurIdentity;
        EnginePatternSocket named = Ours(new DealerSocket(options));
        EnginePatternSocket anonymous = Ours(new DealerSocket(InteropSettings.EngineOptions()));
        Link(named, router);
        Link(anonymous, router);

        // With ROUTER_MANDATORY an unknown id fails instead of vanishing, so the first send that
        // goes through shows the ROUTER learned our identity from the handshake alone.
        int refused = SendWhenRoutable(router, [OurIdentity, "hello before any request".Bytes()]);
        TestContext.Out.WriteLine($"{router.Name} could route to our identity after {refused} refusal(s)");
        Assert.That(named.Receive()[0].Text(), Is.EqualTo("hello before any request"));

        byte[]? generated = null;
        for (int i = 0; i < Exchanges.RoundTrips / 2; i++)
        {
            named.Send(["named".Bytes(), .. Exchanges.Request(i)]);
            anonymous.Send(["anonymous".Bytes(), .. Exchanges.Request(i)]);
            for (int k = 0; k < 2; k++)
            {
                List<byte[]> request = router.Receive();
                byte[] id = request[0];
                string who = request[1].Text();
                Payloads.AssertMessage(i, Exchanges.Request(i), request[2..]);
                if (who == "named")
                {
                    Assert.That(id, Is.EqualTo(OurIdentity), $"{router.Name} must use the identity we announced");
                }
                else
                {
                    Assert.That(who, Is.EqualTo("anonymous"));
                    generated ??= id;
                    Assert.That(id, Is.EqualTo(generated).And.Not.Empty.And.Not.EqualTo(OurIdentity), "an id they generated, stable for the connection");
                }

                router.Send([id, .. Exchanges.Reply(i)]);
            }

            Payloads.AssertMessage(i, Exchanges.Reply(i), named.Receive());
            Payloads.AssertMessage(i, Exchanges.Reply(i), anonymous.Receive());
        }
    }

    /// <summary>Sends through a mandatory foreign ROUTER, retrying while the id is not routable yet; returns the number of refusals.</summary>
    private int SendWhenRoutable(IPatternSocket router, byte[][] message)
    {
        var clock = Stopwatch.StartNew();
        for (int refused = 0; ; refused++)
        {
            try
            {
                router.Send(message);
                return refused;
            }
            catch (Exception e) when (IsHostUnreachable(e))
            {
                if (clock.Elapsed > Deadline.Default)
                {
                    Assert.Fail($"{router.Name} still could not route to our identity after {Deadline.Default.TotalSeconds:0} s ({refused} refusals): {e.Message}");
                }

                // Waiting for the handshake to complete on their side; there is nothing to observe but this.
                Thread.Yield();
            }
        }
    }

    private bool IsHostUnreachable(Exception e) => Peer == ForeignPeer.LibZmq
        ? e is ZmqException { Errno: LibZmq.EHOSTUNREACH }
        : e is HostUnreachableException;
}

/// <summary>
/// ROUTER_MANDATORY on our side with foreign DEALERs that leave: a send to their id must fail
/// with <see cref="PeerUnreachableException"/> promptly, also a send that was already waiting for
/// room in that peer's full pipe (libzmq's own ROUTER can block forever there).
/// </summary>
[TestFixture(ForeignPeer.LibZmq)]
[TestFixture(ForeignPeer.NetMQ)]
[Category("interop")]
[CancelAfter(30_000)]
public sealed class EngineRouterMandatoryInteropTests(ForeignPeer peer) : PatternInteropFixture(peer, BindingSide.Ours)
{
    /// <summary>What "promptly" means here; far below the 10 s send timeout a blocked send would otherwise wait out.</summary>
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(2);

    private static readonly byte[] LeaverIdentity = "leaver"u8.ToArray();

    [Test]
    public void UnknownAndDepartedIdsThrowAtOnce()
    {
        SocketOptions options = InteropSettings.EngineOptions();
        options.RouterMandatory = true;
        var routerSocket = new RouterSocket(options);
        EnginePatternSocket router = Ours(routerSocket);
        using var events = new MonitorRecorder(routerSocket);

        var unknown = Assert.Throws<PeerUnreachableException>(() => router.Send("nobody".Bytes(), "x".Bytes()));
        Assert.That(unknown!.Message, Does.Contain("no connected peer"));

        IPatternSocket dealer = Theirs(
            SocketType.Dealer,
            configureLibZmq: s => s.SetOption(LibZmq.ZMQ_ROUTING_ID, LeaverIdentity),
            configureNetMQ: s => s.Options.Identity = LeaverIdentity);
        Link(router, dealer);
        dealer.Send("hello");
        List<byte[]> hello = router.Receive();
        Assert.That(hello[0], Is.EqualTo(LeaverIdentity));
        router.Send(LeaverIdentity, "welcome".Bytes());
        Assert.That(dealer.Receive()[0].Text(), Is.EqualTo("welcome"));

        dealer.Dispose();
        MonitorEvent gone = events.WaitFor(MonitorEventKind.Disconnected, 1);
        TestContext.Out.WriteLine(gone.ToString());

        // Once the monitor has said the peer is gone, the very next send must know it too.
        var clock = Stopwatch.StartNew();
        var departed = Assert.Throws<PeerUnreachableException>(() => router.Send(LeaverIdentity, "too late".Bytes()));
        Assert.That(clock.Elapsed, Is.LessThan(Prompt));
        Assert.That(departed!.Message, Does.Contain("no connected peer"));
    }

    [Test]
    public void ASendWaitingForRoomFailsPromptlyWhenThePeerLeaves()
    {
        SocketOptions options = InteropSettings.EngineOptions(highWaterMark: 1);
        options.RouterMandatory = true;
        var routerSocket = new RouterSocket(options);
        EnginePatternSocket router = Ours(routerSocket);
        using var events = new MonitorRecorder(routerSocket);

        // A dealer that never reads, with the smallest queue it allows, so our pipe to it fills.
        IPatternSocket dealer = Theirs(
            SocketType.Dealer,
            configureLibZmq: s =>
            {
                s.SetOption(LibZmq.ZMQ_ROUTING_ID, LeaverIdentity);
                s.SetOption(LibZmq.ZMQ_RCVHWM, 1);
            },
            configureNetMQ: s =>
            {
                s.Options.Identity = LeaverIdentity;
                s.Options.ReceiveHighWatermark = 1;
            });
        Link(router, dealer);
        dealer.Send("hello");
        Assert.That(router.Receive()[0], Is.EqualTo(LeaverIdentity));

        // Fill everything between us and the dealer until a message finds no room for a while.
        // Its routing id frame is then staged in our socket and we still own its body.
        Msg body = FillUntilFull(routerSocket, LeaverIdentity);

        // The same message's body again, now waiting for room up to the 10 s send timeout...
        Task<Exception?> blocked = Task.Factory.StartNew(
            () =>
            {
                try
                {
                    return routerSocket.TrySend(ref body, options.SendTimeout) ? null : new TimeoutException($"no room within {options.SendTimeout}");
                }
                catch (Exception e)
                {
                    return e;
                }
                finally
                {
                    body.Dispose();
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        // ...until the dealer leaves: then it must fail at once, not wait out its timeout.
        var clock = Stopwatch.StartNew();
        dealer.Dispose();
        bool ended = blocked.Wait(options.SendTimeout + Prompt);
        TimeSpan took = clock.Elapsed;
        Assert.That(ended, Is.True, $"the waiting send outlived its own timeout; events: {events.Describe()}");
        Assert.That(blocked.Result, Is.InstanceOf<PeerUnreachableException>(), $"the waiting send ended {took.TotalMilliseconds:0} ms after the dealer left with {blocked.Result?.GetType().Name ?? "success"}; events: {events.Describe()}");
        Assert.That(took, Is.LessThan(Prompt), "the waiting send failed, but not promptly");
        TestContext.Out.WriteLine($"the waiting send failed {took.TotalMilliseconds:0} ms after the dealer was closed");

        // The failed message is gone whole: nothing of it is left staged to prefix the next one.
        IPatternSocket next = Theirs(SocketType.Dealer, configureLibZmq: s => s.SetOption(LibZmq.ZMQ_ROUTING_ID, "next"u8), configureNetMQ: s => s.Options.Identity = "next"u8.ToArray());
        Link(router, next);
        next.Send("hi");
        Assert.That(router.Receive()[0].Text(), Is.EqualTo("next"));
        router.Send("next".Bytes(), "only this".Bytes());
        Assert.That(next.Receive().Describe(), Is.EqualTo(new List<byte[]> { "only this".Bytes() }.Describe()));
    }

    /// <summary>
    /// A send to a full peer must wait for that peer, not for any peer: while another peer has room
    /// it must neither spin nor ignore its timeout, and once the full peer reads, the same message
    /// goes through whole.
    /// </summary>
    [Test]
    public void ASendToAFullPeerTimesOutWhileAnotherPeerHasRoom()
    {
        SocketOptions options = InteropSettings.EngineOptions(highWaterMark: 1);
        options.RouterMandatory = true;
        var routerSocket = new RouterSocket(options);
        EnginePatternSocket router = Ours(routerSocket);
        IPatternSocket full = Theirs(
            SocketType.Dealer,
            configureLibZmq: s =>
            {
                s.SetOption(LibZmq.ZMQ_ROUTING_ID, "full"u8);
                s.SetOption(LibZmq.ZMQ_RCVHWM, 1);
            },
            configureNetMQ: s =>
            {
                s.Options.Identity = "full"u8.ToArray();
                s.Options.ReceiveHighWatermark = 1;
            });
        IPatternSocket idle = Theirs(
            SocketType.Dealer,
            configureLibZmq: s => s.SetOption(LibZmq.ZMQ_ROUTING_ID, "idle"u8),
            configureNetMQ: s => s.Options.Identity = "idle"u8.ToArray());
        Link(router, full);
        full.Send("hello");
        Assert.That(router.Receive()[0].Text(), Is.EqualTo("full"));
        Msg body = FillUntilFull(routerSocket, "full"u8.ToArray());
        byte[] expected = body.ToArray();

        // Now a second peer, with all the room it wants.
        Link(router, idle);
        idle.Send("hello");
        Assert.That(router.Receive()[0].Text(), Is.EqualTo("idle"));

        // On another thread, so that a send that never returns fails the test instead of hanging it.
        var timeout = TimeSpan.FromMilliseconds(300);
        var clock = Stopwatch.StartNew();
        Task<bool> attempt = Task.Factory.StartNew(() => routerSocket.TrySend(ref body, timeout), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        if (!attempt.Wait(Prompt + Prompt))
        {
            // Let the full peer read until the send gets room and returns, so the socket can close; then fail.
            var release = Stopwatch.StartNew();
            while (!attempt.IsCompleted && release.Elapsed < Infrastructure.Deadline.Default)
            {
                full.TryReceive(TimeSpan.FromMilliseconds(5), out _);
            }

            Assert.Fail($"a send with a {timeout.TotalMilliseconds:0} ms timeout had not returned after {(Prompt + Prompt).TotalSeconds:0} s (it returned {(attempt.IsCompleted ? "once the peer read" : "never")})");
        }

        TimeSpan took = clock.Elapsed;
        Assert.That(took, Is.LessThan(Prompt), "the send must return when its timeout is up");
        if (attempt.Result)
        {
            // The peer's kernel buffer grew (autotuning) and made room in time: legitimate, and the message went.
            TestContext.Out.WriteLine($"room appeared after {took.TotalMilliseconds:0} ms; the message went through");
        }
        else
        {
            Assert.That(took, Is.GreaterThanOrEqualTo(timeout - TimeSpan.FromMilliseconds(20)), "the send gave up before its timeout");
        }

        // The full peer reads: the same message (its id frame still staged) goes through once
        // there is room, and arrives whole, without a stray routing id frame.
        var reading = Stopwatch.StartNew();
        var seen = new List<List<byte[]>>();
        while (!attempt.Result && !routerSocket.TrySend(ref body, TimeSpan.Zero))
        {
            Assert.That(reading.Elapsed, Is.LessThan(Infrastructure.Deadline.Default), "no room appeared while the full peer read");
            if (full.TryReceive(TimeSpan.FromMilliseconds(5), out List<byte[]> message))
            {
                seen.Add(message);
            }
        }

        body.Dispose();
        TestContext.Out.WriteLine($"room after {reading.ElapsedMilliseconds} ms of reading ({seen.Count} messages read)");
        while (seen.Count == 0 || !seen[^1][0].AsSpan().SequenceEqual(expected))
        {
            Assert.That(seen, Has.Count.LessThan(5000));
            seen.Add(full.Receive());
        }

        TestContext.Out.WriteLine($"the waiting message arrived after {reading.ElapsedMilliseconds} ms ({seen.Count} messages read)");
        Assert.That(seen.Where(m => m.Count != 1).Select(m => m.Describe()), Is.Empty, "every message to the dealer is one frame");

        router.Send("idle".Bytes(), "still fine".Bytes());
        Assert.That(idle.Receive()[0].Text(), Is.EqualTo("still fine"));
    }

    /// <summary>
    /// Sends 256 KiB messages to <paramref name="id"/> until one finds no room for 200 ms (the
    /// kernel buffers in between hold a few MiB). That
    /// message's routing id frame stays staged in the socket; its body is returned, still ours.
    /// </summary>
    private static Msg FillUntilFull(RouterSocket router, byte[] id)
    {
        const int size = 256 * 1024;
        var sendOnce = TimeSpan.FromMilliseconds(200);
        for (int queued = 0; queued < 2000; queued++)
        {
            Msg head = Msg.Copy(id, more: true);
            Assert.That(router.TrySend(ref head, TimeSpan.Zero), Is.True, "a frame with More is staged, never refused");
            Msg body = Msg.Copy(Payloads.Frame(queued, 1, size));
            if (!router.TrySend(ref body, sendOnce))
            {
                TestContext.Out.WriteLine($"{queued} messages of 256 KiB fit before our pipe to {RoutingIdText(id)} was full");
                return body;
            }
        }

        Assert.Fail("the pipe to a dealer that does not read never filled");
        return default;
    }

    private static string RoutingIdText(byte[] id) => System.Text.Encoding.UTF8.GetString(id);
}
