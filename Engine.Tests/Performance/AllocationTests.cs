using Engine.Sockets;
using Engine.Tests.Infrastructure;

namespace Engine.Tests.Performance;

/// <summary>
/// Issue 4's "0 bytes allocated per message in steady state": a PUSH -> PULL stream over tcp and
/// over inproc, with the allocation-free API (<see cref="Msg.Allocate"/> + <c>Send(ref msg)</c>,
/// <c>Receive()</c> + <see cref="Msg.Dispose"/>), counts every byte the whole process allocates
/// (<see cref="GC.GetTotalAllocatedBytes(bool)"/>, all threads: the application's, the send and
/// receive loops', the thread pool's) while 200,000 messages cross after a warm-up.
/// </summary>
/// <remarks>
/// <para>The bound is 1 byte per message (200 KB per window of small messages). A steady stream
/// reuses everything: frames come from 64 KiB slabs that return to the pool, pipe chunks (256
/// slots) are recycled through the reader's spares, receive segments are pooled slabs, large frames
/// are pooled buffers. Pools grow to the most the stream ever holds at once, so the warm-up lets
/// every pipe fill to its HWM before anything is measured. What may still appear is one-off: a
/// buffer or a pipe chunk when the stream briefly holds a frame more than at the warm-up's fullest
/// (the one the receiver holds while the sender refills the pipe), or a runtime queue growing (the
/// socket engine's event queue, the thread pool's). A real per-message allocation costs at least
/// 24 bytes (the smallest object) per message and fails the bound by a factor of 24 or more, so it
/// cannot hide under it. Large frames get shorter windows (the payload, not the count, is what
/// takes time) and the same bound, so one more 64 KiB buffer fails a window.</para>
/// <para>The process-wide count also sees whatever else the test process does meanwhile (a socket of
/// an earlier test still closing, the runner's own bookkeeping). Such noise only adds, so three
/// windows are measured in a row and the smallest one is judged.</para>
/// <para>No wall-clock assertion: how fast the messages cross does not matter here.</para>
/// </remarks>
[TestFixture]
[CancelAfter(120_000)]
public class AllocationTests
{
    private const double MaxBytesPerMessage = 1.0;
    private const int Windows = 3;

    [TestCase("tcp", 16, 200_000)]
    [TestCase("tcp", 1024, 200_000)]
    [TestCase("tcp", 65536, 10_000)]
    // Over .NET's socket engine at 16 B only: at 64 KiB, inside a test process that has run other
    // tests, something there allocates ~50 KB now and then (1-4 times per 10,000 messages; a
    // fresh process measures 0.15 B/message), which this bound cannot tell from a real cost.
    [TestCase("tcp-dotnet", 16, 200_000)]
    [TestCase("inproc", 16, 200_000)]
    [TestCase("inproc", 65536, 20_000)]
    public void SteadyStateSendAndReceiveAllocateNothingPerMessage(string transport, int size, int messagesPerWindow)
    {
        // More than the full pipes hold (2,000 messages), so the windows start in a flowing stream.
        int warmUpMessages = messagesPerWindow / 2;
        // tcp-dotnet: the same over .NET's socket engine (what systems without the reactor use).
        bool reactor = transport != "tcp-dotnet";
        string endpoint = transport == "inproc" ? $"inproc://allocation-{Guid.NewGuid():N}" : "tcp://127.0.0.1:0";
        using var pull = new PullSocket(Bounded(Patient())) { UseReactor = reactor };
        string bound = pull.Bind(endpoint);
        using var push = new PushSocket(Bounded(Patient())) { UseReactor = reactor };
        push.Connect(bound);

        Exception? senderFailure = null;
        var sender = new Thread(() =>
        {
            try
            {
                for (long i = 0; i < warmUpMessages + ((long)Windows * messagesPerWindow); i++)
                {
                    Msg frame = Msg.Allocate(size);
                    push.Send(ref frame);
                }
            }
            catch (Exception e)
            {
                senderFailure = e;
            }
        })
        { IsBackground = true, Name = "allocation test sender" };
        sender.Start();

        // Pools grow to what the stream holds at its fullest and only then allocate nothing. A
        // receiver that keeps up lets the pipes fill only when it is descheduled, so a plain warm-up
        // left that to the measured windows: with 64 KiB frames, one new 64 KiB buffer for every
        // frame queued beyond the most so far (hundreds of bytes per message, and more inside a
        // full test run, whose earlier tests leave the pools at any size). So the warm-up first
        // reads nothing until every pipe is at its HWM.
        Deadline.WaitUntil(() => IsFull(transport, push, pull), $"the {transport} stream to fill its pipes");
        Receive(pull, warmUpMessages, size);
        var perMessage = new List<double>();
        for (int window = 0; window < Windows; window++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            Receive(pull, messagesPerWindow, size);
            long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            perMessage.Add((double)allocated / messagesPerWindow);
            TestContext.Out.WriteLine($"{transport} {size} B, window {window + 1}: {allocated} bytes for {messagesPerWindow} messages = {perMessage[^1]:0.000} B/message");
        }

        Assert.That(sender.Join(TimeSpan.FromSeconds(30)), Is.True, "the sender finished");
        Assert.That(senderFailure, Is.Null, "the sender did not fail");
        Assert.That(perMessage.Min(), Is.LessThan(MaxBytesPerMessage), $"bytes allocated per message in the quietest of {Windows} windows ({string.Join(", ", perMessage.Select(b => b.ToString("0.000")))})");
    }

    /// <summary>
    /// The round-trip half of the same promise: REQ -> REP -> REQ, where over tcp both sides read
    /// their sockets on their own threads (direct reads) and REQ/REP send inline. The replier runs
    /// on its own thread; every byte the process allocates counts.
    /// </summary>
    [TestCase("tcp")]
    [TestCase("inproc")]
    public void RoundTripsAllocateNothingInSteadyState(string transport)
    {
        const int WarmUp = 10_000;
        const int PerWindow = 10_000;
        string endpoint = transport == "tcp" ? "tcp://127.0.0.1:0" : $"inproc://allocation-rtt-{Guid.NewGuid():N}";
        using var rep = new RepSocket(Patient());
        string bound = rep.Bind(endpoint);
        using var req = new ReqSocket(Patient());
        req.Connect(bound);

        int total = WarmUp + (Windows * PerWindow);
        Exception? replierFailure = null;
        var replier = new Thread(() =>
        {
            try
            {
                for (int i = 0; i < total; i++)
                {
                    Msg request = rep.Receive();
                    rep.Send(ref request);
                }
            }
            catch (Exception e)
            {
                replierFailure = e;
            }
        })
        { IsBackground = true, Name = "allocation test replier" };
        replier.Start();

        RoundTrips(req, WarmUp);
        var perRoundTrip = new List<double>();
        for (int window = 0; window < Windows; window++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            RoundTrips(req, PerWindow);
            long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            perRoundTrip.Add((double)allocated / PerWindow);
            TestContext.Out.WriteLine($"{transport} round trips, window {window + 1}: {allocated} bytes for {PerWindow} = {perRoundTrip[^1]:0.000} B/round trip");
        }

        Assert.That(replier.Join(TimeSpan.FromSeconds(30)), Is.True, "the replier finished");
        Assert.That(replierFailure, Is.Null, "the replier did not fail");
        Assert.That(perRoundTrip.Min(), Is.LessThan(MaxBytesPerMessage), $"bytes allocated per round trip in the quietest of {Windows} windows ({string.Join(", ", perRoundTrip.Select(b => b.ToString("0.000")))})");
    }

    private static void RoundTrips(ReqSocket req, int count)
    {
        for (int i = 0; i < count; i++)
        {
            Msg request = Msg.Allocate(16);
            request.WritableSpan[0] = (byte)i;
            req.Send(ref request);
            Msg reply = req.Receive();
            if (reply.Length != 16 || reply.Span[0] != (byte)i)
            {
                Assert.Fail($"round trip {i}: a reply of {reply.Length} bytes starting {(reply.Length > 0 ? reply.Span[0] : -1)}");
            }

            reply.Dispose();
        }
    }

    /// <summary>
    /// True when the sender can go no further: over tcp the send pipe and the receive pipe are at
    /// their HWMs; over inproc the one pipe between the sockets is at both HWMs added (as in libzmq).
    /// </summary>
    private static bool IsFull(string transport, PushSocket push, PullSocket pull)
    {
        int sendHwm = push.Options.SendHighWatermark;
        int receiveHwm = pull.Options.ReceiveHighWatermark;
        return transport != "inproc"
            ? push.OutboundQueued >= sendHwm && pull.InboundQueued >= receiveHwm
            : pull.InboundQueued >= sendHwm + receiveHwm;
    }

    private static SocketOptions Patient() => new() { ReceiveTimeout = TimeSpan.FromSeconds(30), SendTimeout = TimeSpan.FromSeconds(30) };

    /// <summary>
    /// Fixed kernel buffers, so that the warm-up's pipes fill. Left to autotuning, loopback's
    /// receive buffer may grow to 32 MB here, which can take the whole 12.6 MB of a 16 B run
    /// without the sender's pipe ever reaching its HWM (the warm-up then timed out, once in a
    /// fresh-clone CI run).
    /// </summary>
    private static SocketOptions Bounded(SocketOptions options)
    {
        options.SendBufferSize = 64 * 1024;
        options.ReceiveBufferSize = 64 * 1024;
        return options;
    }

    private static void Receive(PullSocket pull, int count, int size)
    {
        for (int i = 0; i < count; i++)
        {
            Msg frame = pull.Receive();
            if (frame.Length != size)
            {
                Assert.Fail($"message {i} has {frame.Length} bytes, expected {size}");
            }

            frame.Dispose();
        }
    }
}
