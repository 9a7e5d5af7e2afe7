using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using Engine.Sockets;
using Engine.Tests.Infrastructure;
using Engine.Tests.Interop;

namespace Engine.Tests.Lifetime;

/// <summary>Issue 7: shutting an application down losing nothing.</summary>
[TestFixture]
[CancelAfter(120_000)]
public class DrainTests
{
    private static Msg Numbered(long id, int size = 32)
    {
        Msg frame = Msg.Allocate(size);
        BinaryPrimitives.WriteInt64LittleEndian(frame.WritableSpan, id);
        return frame;
    }

    /// <summary>A pipeline worker: PULL from the source, forward to the sink, until drained.</summary>
    private sealed class Worker : IDisposable
    {
        internal Worker(string source, string sink)
        {
            Input = new PullSocket(new SocketOptions { ReceiveHighWatermark = 200 });
            Output = new PushSocket();
            Input.Connect(source);
            Output.Connect(sink);
            Loop = Task.Run(async () =>
            {
                await foreach (Msg frame in Input.ReadAllAsync())
                {
                    Msg forward = frame;
                    Output.Send(ref forward);
                    Forwarded++;
                }
            });
        }

        internal PullSocket Input { get; }

        internal PushSocket Output { get; }

        internal Task Loop { get; }

        internal long Forwarded;

        public void Dispose()
        {
            Input.Dispose();
            Output.Dispose();
        }
    }

    [Test]
    public async Task DrainingAWorkerMidStreamLosesAndDuplicatesNothing()
    {
        const long total = 60_000;
        using var sink = new PullSocket(new SocketOptions { ReceiveHighWatermark = 100_000 });
        string sinkEndpoint = sink.Bind("tcp://127.0.0.1:0");
        using var source = new PushSocket(new SocketOptions { SendHighWatermark = 500 });
        string sourceEndpoint = source.Bind("tcp://127.0.0.1:0");
        using var drained = new Worker(sourceEndpoint, sinkEndpoint);
        using var survivor = new Worker(sourceEndpoint, sinkEndpoint);
        source.WaitForConnected(2);

        var received = new ConcurrentDictionary<long, int>();
        using var stopSink = new CancellationTokenSource();
        Task sinkLoop = Task.Run(() =>
        {
            while (!stopSink.IsCancellationRequested)
            {
                if (sink.TryReceive(out Msg frame, TimeSpan.FromMilliseconds(50)))
                {
                    received.AddOrUpdate(BinaryPrimitives.ReadInt64LittleEndian(frame.Span), 1, (_, n) => n + 1);
                    frame.Dispose();
                }
            }
        });

        long id = 0;
        for (; id < total / 3; id++)
        {
            Msg frame = Numbered(id);
            source.Send(ref frame);
        }

        // Mid-stream, while the source keeps sending: the worker's input is drained...
        Task<DrainReport> drain = drained.Input.DrainAsync(TimeSpan.FromSeconds(20));
        for (; id < 2 * total / 3 && !drain.IsCompleted; id++)
        {
            Msg frame = Numbered(id);
            source.Send(ref frame);
        }

        DrainReport inputReport = await drain;
        // ...and once it is drained, the source's load balancer has taken it out of its rotation:
        // everything sent from now on can only go to the other worker.
        long sentBeforeTheDrainEnded = id;
        for (; id < total; id++)
        {
            Msg frame = Numbered(id);
            source.Send(ref frame);
        }

        await drained.Loop;
        // ...its loop has handed everything on; now its output is flushed and closed.
        DrainReport outputReport = await drained.Output.DrainAsync(TimeSpan.FromSeconds(20));

        Deadline.WaitUntil(() => received.Count == total, $"sink to have all {total} messages (has {received.Count})", TimeSpan.FromSeconds(60));
        stopSink.Cancel();
        await sinkLoop;

        Assert.That(received.Values.Count(n => n > 1), Is.Zero, "no duplicates");
        Assert.That(inputReport.Completed, Is.True, inputReport.ToString());
        Assert.That(inputReport.UndeliveredCount, Is.Zero, inputReport.ToString());
        Assert.That(inputReport.Notes, Is.Empty, "both sides speak the drain protocol: no fallback");
        Assert.That(outputReport.UndeliveredCount, Is.Zero, outputReport.ToString());
        Assert.That(drained.Forwarded, Is.GreaterThan(0));
        Assert.That(drained.Forwarded, Is.LessThanOrEqualTo(sentBeforeTheDrainEnded), "nothing sent after the drain reached the drained worker");
        Assert.That(survivor.Forwarded, Is.GreaterThanOrEqualTo(total - sentBeforeTheDrainEnded), "the source's load balancer moved to the other worker");
        Assert.That(drained.Forwarded + survivor.Forwarded, Is.EqualTo(total));
        TestContext.Out.WriteLine(inputReport);
        TestContext.Out.WriteLine(outputReport);
    }

    [Test]
    public async Task DrainWithAStalledDownstreamHonoursTheTimeoutAndNamesWhatWasNotFlushed()
    {
        var stalledOptions = new SocketOptions { ReceiveHighWatermark = 5, ReceiveBufferSize = 4096 };
        using var stalled = new PullSocket(stalledOptions);
        string endpoint = stalled.Bind("tcp://127.0.0.1:0");
        var push = new PushSocket(new SocketOptions { SendHighWatermark = 100_000, SendBufferSize = 4096 });
        push.Connect(endpoint);
        push.WaitForConnected(1);
        for (int i = 0; i < 2000; i++)
        {
            push.Send(new byte[1024]);
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        DrainReport report = await push.DrainAsync(TimeSpan.FromMilliseconds(700));
        clock.Stop();

        Assert.That(report.Completed, Is.False);
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "the timeout was honoured");
        Assert.That(report.UndeliveredCount, Is.GreaterThan(1000), report.ToString());
        Assert.That(report.Undelivered[0].Reason, Does.Contain("did not read them before the drain timeout"));
        Assert.That(push.IsDraining, Is.True);
    }

    [Test]
    public async Task DrainAgainstALibzmqUpstreamFallsBackAndSaysSo()
    {
        using var pull = new PullSocket();
        string endpoint = pull.Bind("tcp://127.0.0.1:0");
        using var context = new ZmqContext();
        using var libzmqPush = context.CreateSocket(LibZmq.ZMQ_PUSH);
        libzmqPush.Connect(endpoint);
        for (int i = 0; i < 1000; i++)
        {
            libzmqPush.Send(BitConverter.GetBytes(i));
        }

        pull.WaitForConnected(1);
        var got = new List<int>();
        Task reader = Task.Run(async () =>
        {
            await foreach (Msg frame in pull.ReadAllAsync())
            {
                got.Add(BitConverter.ToInt32(frame.Span));
                frame.Dispose();
            }
        });

        DrainReport report = await pull.DrainAsync(TimeSpan.FromSeconds(10));
        await reader;
        Assert.That(got, Is.EqualTo(Enumerable.Range(0, 1000)), "everything libzmq had sent was read");
        Assert.That(report.Notes, Has.Some.Contains("without the drain capability"));
        Assert.That(report.UndeliveredCount, Is.Zero);
    }

    [Test]
    public void CloseRightAfterABurstOfLargeMessagesDeliversAllOfThemFiveTimesInARow()
    {
        const int count = 20_000;
        var payload = new byte[64 * 1024];
        for (int run = 0; run < 5; run++)
        {
            using var pull = new PullSocket(new SocketOptions { ReceiveTimeout = TimeSpan.FromSeconds(20) });
            string endpoint = pull.Bind("tcp://127.0.0.1:0");
            var received = 0;
            var reader = Task.Run(() =>
            {
                while (received < count && pull.TryReceive(out Msg frame, TimeSpan.FromSeconds(20)))
                {
                    frame.Dispose();
                    received++;
                }
            });

            var push = new PushSocket(new SocketOptions { Linger = TimeSpan.FromSeconds(60) });
            push.Connect(endpoint);
            for (int i = 0; i < count; i++)
            {
                push.Send(payload);
            }

            DrainReport report = push.DrainAsync(TimeSpan.FromSeconds(60)).GetAwaiter().GetResult();
            Assert.That(reader.Wait(TimeSpan.FromSeconds(60)), Is.True);
            Assert.That(received, Is.EqualTo(count), $"run {run + 1}");
            Assert.That(report.UndeliveredCount, Is.Zero, report.ToString());
        }
    }

    /// <summary>
    /// An upstream connection still in its handshake when the drain starts is not among the peers
    /// the drain tells to stop. It must be told once it is up, or its stream never ends: the
    /// drain would wait out its timeout and leave unread what that peer sent meanwhile.
    /// </summary>
    [Test]
    public async Task AnUpstreamThatFinishesItsHandshakeDuringTheDrainIsToldToStopToo()
    {
        using var upstream = new RawZmtpPeer();
        using var pull = new PullSocket();
        pull.Connect(upstream.Endpoint);
        Socket wire = upstream.AcceptGreetingOnly(TimeSpan.FromSeconds(10));

        // DrainAsync lists the peers before its first await: this connection is not up yet.
        Task<DrainReport> drain = pull.DrainAsync(TimeSpan.FromSeconds(20));
        upstream.FinishHandshake("PUSH", drainCapable: true);

        // The drain must reach this peer: DRAIN is the first frame after READY.
        (bool command, byte[] body) = upstream.ReadFrame();
        Assert.That(command && body.AsSpan(1, body[0]).SequenceEqual("DRAIN"u8), Is.True, $"expected DRAIN, got {(command ? "command" : "message")} of {body.Length} bytes");

        // Its last message and the end of its stream: both are read, and the drain completes.
        upstream.SendMessage("last words"u8);
        wire.Send(Engine.Wire.Commands.Build("DRAINED"u8, default));
        Assert.That(pull.TryReceive(out Msg last, TimeSpan.FromSeconds(10)), Is.True, "the message sent before DRAINED arrives");
        Assert.That(last.Span.SequenceEqual("last words"u8), Is.True);
        last.Dispose();
        Assert.That(pull.TryReceive(out _, TimeSpan.FromSeconds(10)), Is.False, "then the input ends");
        Assert.That(pull.IsDrained, Is.True);
        DrainReport report = await drain;
        Assert.That(report.Completed, Is.True, report.ToString());
        Assert.That(report.Notes, Is.Empty, report.ToString());
    }

    [Test]
    public async Task ReceiveReportsDrainedOnlyAfterEverythingWasRead()
    {
        using var pull = new PullSocket();
        string endpoint = pull.Bind("tcp://127.0.0.1:0");
        using var push = new PushSocket();
        push.Connect(endpoint);
        for (int i = 0; i < 500; i++)
        {
            push.Send(BitConverter.GetBytes(i));
        }

        Deadline.WaitUntil(() => pull.InboundQueued == 500, "all 500 queued on the pull side");
        Task<DrainReport> drain = pull.DrainAsync(TimeSpan.FromSeconds(10));
        int read = 0;
        while (pull.TryReceive(out Msg frame, TimeSpan.FromSeconds(10)))
        {
            Assert.That(BitConverter.ToInt32(frame.Span), Is.EqualTo(read));
            frame.Dispose();
            read++;
        }

        Assert.That(read, Is.EqualTo(500));
        Assert.That(pull.IsDrained, Is.True);
        DrainReport report = await drain;
        Assert.That(report.DeliveredToApplication, Is.GreaterThan(0));
        Assert.That(report.Completed, Is.True, report.ToString());
    }
}

/// <summary>The one-line SIGTERM hookup, in a real process.</summary>
[TestFixture]
[CancelAfter(60_000)]
public class GracefulShutdownTests
{
    [Test]
    public void SigtermDrainsTheProcessAndItReadsEverythingBeforeExiting()
    {
        using ChildPeer child = ChildPeer.StartPull(delayMicroseconds: 200, graceful: true);
        using var push = new PushSocket();
        push.Connect(child.Endpoint);
        push.WaitForConnected(1);
        for (long id = 0; id < 3000; id++)
        {
            Msg frame = Msg.Allocate(8);
            BinaryPrimitives.WriteInt64LittleEndian(frame.WritableSpan, id);
            push.Send(ref frame);
        }

        // The child reads slowly: most of the 3,000 are still queued in it and in flight when TERM comes.
        Assert.That(System.Diagnostics.Process.Start("kill", $"-TERM {child.Process.Id}")!.WaitForExit(10_000), Is.True);
        Assert.That(child.Process.WaitForExit(30_000), Is.True, "the child finished its drain and exited");
        child.Process.WaitForExit();
        Assert.That(child.Process.ExitCode, Is.Zero);
        Assert.That(child.ReceivedIds.Distinct().Count(), Is.EqualTo(3000), "every message sent before the signal was processed");
        Assert.That(child.DrainReports, Has.Some.Contains("undelivered 0"));
    }
}
