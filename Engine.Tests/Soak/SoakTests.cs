using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using Engine.Sockets;
using Engine.Tests.Infrastructure;

namespace Engine.Tests.Soak;

/// <summary>
/// Ten minutes of mixed traffic with restarts and kills: <c>./build.sh test soak</c>
/// (<c>ENGINE_SOAK_SECONDS</c> shortens or lengthens it). Every message is accounted for and
/// memory stays flat.
/// </summary>
[TestFixture]
[Category("soak")]
[CancelAfter(1_800_000)]
public class SoakTests
{
    private static TimeSpan Duration =>
        TimeSpan.FromSeconds(int.TryParse(Environment.GetEnvironmentVariable("ENGINE_SOAK_SECONDS"), out int s) && s > 0 ? s : 600);

    [Test]
    public void MixedPatternsWithRestartsAndKillsAccountForEveryMessageAndKeepMemoryFlat()
    {
        TimeSpan duration = Duration;
        using var stop = new CancellationTokenSource(duration);
        var failures = new ConcurrentQueue<string>();

        // Warm up, then take the baseline.
        RunPipelineWithGracefulRestarts(TimeSpan.FromSeconds(2), failures);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long heapBefore = GC.GetTotalMemory(true);
        long workingSetBefore = Process.GetCurrentProcess().WorkingSet64;

        // Dedicated threads: the loads spin, and the thread pool must stay free for the engine's
        // loops and for reading the child processes' output.
        Task pipeline = Dedicated(() => RunPipelineWithGracefulRestarts(duration, failures));
        Task requests = Dedicated(() => RunRequestReply(stop.Token, failures));
        Task publish = Dedicated(() => RunPubSubInproc(stop.Token, failures));
        Task kills = Dedicated(() => RunKills(stop.Token, failures));
        Task.Delay(duration).Wait();
        Assert.That(Task.WaitAll([pipeline, requests, publish, kills], duration + TimeSpan.FromMinutes(2)), Is.True, "every load finished");

        GC.Collect();
        GC.WaitForPendingFinalizers();
        long heapAfter = GC.GetTotalMemory(true);
        long workingSetAfter = Process.GetCurrentProcess().WorkingSet64;
        TestContext.Out.WriteLine($"soak {duration}: GC heap {heapBefore / 1048576} -> {heapAfter / 1048576} MiB, working set {workingSetBefore / 1048576} -> {workingSetAfter / 1048576} MiB");
        Assert.That(failures, Is.Empty, string.Join("\n", failures));
        Assert.That(heapAfter - heapBefore, Is.LessThan(64L * 1024 * 1024), "GC heap flat");
        Assert.That(workingSetAfter - workingSetBefore, Is.LessThan(256L * 1024 * 1024), "working set flat");
    }

    private static Task Dedicated(Action load) => Task.Factory.StartNew(load, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>PUSH to a PULL that is drained and replaced every 3 s: exactly once, in order.</summary>
    private static void RunPipelineWithGracefulRestarts(TimeSpan duration, ConcurrentQueue<string> failures)
    {
        var clock = Stopwatch.StartNew();
        using var push = new PushSocket(new SocketOptions { SendHighWatermark = 10_000, ReconnectInterval = TimeSpan.FromMilliseconds(20), ReconnectIntervalMax = TimeSpan.FromMilliseconds(100) });
        var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        string endpoint = $"tcp://127.0.0.1:{((System.Net.IPEndPoint)probe.LocalEndpoint).Port}";
        probe.Stop();
        push.Connect(endpoint);
        long sent = 0;
        long expected = 0;
        while (clock.Elapsed < duration)
        {
            var pull = new PullSocket();
            pull.Bind(endpoint);
            var restartAt = clock.Elapsed + TimeSpan.FromSeconds(3);
            while (clock.Elapsed < restartAt && clock.Elapsed < duration)
            {
                Msg frame = Msg.Allocate(32);
                BinaryPrimitives.WriteInt64LittleEndian(frame.WritableSpan, sent++);

                // One thread both sends and receives here, so it must never block on a full send
                // pipe: that room only comes from the reading this same thread would do.
                var stalledSince = Stopwatch.StartNew();
                while (!push.TrySend(ref frame, TimeSpan.Zero))
                {
                    if (pull.TryReceive(out Msg early, TimeSpan.FromMilliseconds(10)))
                    {
                        Check(ref early, ref expected, failures);
                        stalledSince.Restart();
                    }
                    else if (stalledSince.Elapsed > TimeSpan.FromSeconds(10))
                    {
                        frame.Dispose();
                        failures.Enqueue($"pipeline: no progress for 10 s at {sent}");
                        return;
                    }
                }

                while (pull.TryReceive(out Msg received, TimeSpan.Zero))
                {
                    Check(ref received, ref expected, failures);
                }
            }

            Task<DrainReport> drain = pull.DrainAsync(TimeSpan.FromSeconds(10));
            while (pull.TryReceive(out Msg received, TimeSpan.FromSeconds(10)))
            {
                Check(ref received, ref expected, failures);
            }

            DrainReport report = drain.GetAwaiter().GetResult();
            if (report.UndeliveredCount > 0)
            {
                failures.Enqueue("pipeline drain: " + report);
            }
        }

        // The last messages wait in the push's pipe for the next PULL: one more round collects them.
        using var last = new PullSocket(new SocketOptions { ReceiveTimeout = TimeSpan.FromSeconds(10) });
        last.Bind(endpoint);
        while (expected < sent && last.TryReceive(out Msg received, TimeSpan.FromSeconds(10)))
        {
            Check(ref received, ref expected, failures);
        }

        if (expected != sent)
        {
            failures.Enqueue($"pipeline: sent {sent}, received in order {expected}");
        }
    }

    private static void Check(ref Msg frame, ref long expected, ConcurrentQueue<string> failures)
    {
        long id = BinaryPrimitives.ReadInt64LittleEndian(frame.Span);
        frame.Dispose();
        if (id != expected)
        {
            failures.Enqueue($"pipeline: expected {expected}, got {id}");
        }

        expected = id + 1;
    }

    private static void RunRequestReply(CancellationToken stop, ConcurrentQueue<string> failures)
    {
        using var rep = new RepSocket(new SocketOptions { ReceiveTimeout = TimeSpan.FromSeconds(10) });
        string endpoint = rep.Bind("tcp://127.0.0.1:0");
        using var req = new ReqSocket(new SocketOptions { ReceiveTimeout = TimeSpan.FromSeconds(10) });
        req.Connect(endpoint);
        using var clientDone = new CancellationTokenSource();
        var server = Task.Run(() =>
        {
            // Serves until the client has finished, so the last request always gets its reply.
            while (!clientDone.IsCancellationRequested)
            {
                if (rep.TryReceive(out Msg request, TimeSpan.FromMilliseconds(200)))
                {
                    rep.Send(ref request);
                }
            }
        });
        for (long i = 0; !stop.IsCancellationRequested; i++)
        {
            req.Send(BitConverter.GetBytes(i));
            long answer = BitConverter.ToInt64(req.ReceiveBytes());
            if (answer != i)
            {
                failures.Enqueue($"req/rep: asked {i}, got {answer}");
                return;
            }
        }

        clientDone.Cancel();
        server.Wait(TimeSpan.FromSeconds(10));
    }

    private static void RunPubSubInproc(CancellationToken stop, ConcurrentQueue<string> failures)
    {
        string name = "inproc://soak-" + Guid.NewGuid().ToString("N");
        using var pub = new PubSocket(new SocketOptions { SendHighWatermark = 100_000 });
        pub.Bind(name);
        using var sub = new SubSocket(new SocketOptions { ReceiveHighWatermark = 100_000 });
        sub.Subscribe("a");
        sub.Connect(name);
        long lastSeen = -1;
        for (long i = 0; !stop.IsCancellationRequested; i++)
        {
            byte[] message = new byte[9];
            message[0] = (byte)(i % 2 == 0 ? 'a' : 'b');
            BitConverter.TryWriteBytes(message.AsSpan(1), i);
            pub.Send(message);
            while (sub.TryReceive(out Msg frame, TimeSpan.Zero))
            {
                long id = BitConverter.ToInt64(frame.Span[1..]);
                if (frame.Span[0] != (byte)'a' || id <= lastSeen)
                {
                    failures.Enqueue($"pub/sub: unexpected {(char)frame.Span[0]}{id} after {lastSeen}");
                }

                lastSeen = id;
                frame.Dispose();
            }
        }
    }

    /// <summary>Child PULL processes killed with SIGKILL every 10 s behind a PUSH: no duplicates, bounded loss.</summary>
    private static void RunKills(CancellationToken stop, ConcurrentQueue<string> failures)
    {
        TimeSpan duration = Duration;
        var everyone = new List<ChildPeer>();
        // Small kernel buffers: what a killed peer takes with it is bounded by them (autotuned
        // loopback buffers can hold megabytes).
        using var push = new PushSocket(new SocketOptions { SendHighWatermark = 1000, SendBufferSize = 16384, ReconnectInterval = TimeSpan.FromMilliseconds(50), ReconnectIntervalMax = TimeSpan.FromMilliseconds(200) });
        try
        {
            var live = new List<ChildPeer> { ChildPeer.StartPull(100), ChildPeer.StartPull(100) };
            everyone.AddRange(live);
            live.ForEach(p => push.Connect(p.Endpoint));
            var clock = Stopwatch.StartNew();
            var nextKill = TimeSpan.FromSeconds(10);
            long sent = 0;
            int kills = 0;
            while (!stop.IsCancellationRequested)
            {
                if (clock.Elapsed > nextKill)
                {
                    nextKill += TimeSpan.FromSeconds(10);
                    ChildPeer victim = live[kills % 2];
                    victim.KillHard();
                    push.Disconnect(victim.Endpoint);
                    ChildPeer fresh = ChildPeer.StartPull(100);
                    everyone.Add(fresh);
                    live[kills % 2] = fresh;
                    push.Connect(fresh.Endpoint);
                    kills++;
                }

                // 64-byte messages: what a killed child takes with it (its 64 KiB read buffer, the 64 KiB
                // batch being written, kernel buffers) is then at most ~2,300 messages.
                Msg frame = Msg.Allocate(64);
                BinaryPrimitives.WriteInt64LittleEndian(frame.WritableSpan, sent++);
                if (!push.TrySend(ref frame, TimeSpan.FromSeconds(30)))
                {
                    frame.Dispose();
                    failures.Enqueue($"kills: sender blocked 30 s at {sent}");
                    return;
                }
            }

            // Settled: no new delivery for half a second (children print every id; the output lags).
            long previous = -1;
            var unchangedSince = Stopwatch.StartNew();
            Deadline.WaitUntil(() =>
            {
                long now = everyone.Sum(p => (long)p.ReceivedIds.Count);
                if (now != previous)
                {
                    previous = now;
                    unchangedSince.Restart();
                }

                return unchangedSince.Elapsed > TimeSpan.FromMilliseconds(500);
            }, "children to settle", TimeSpan.FromSeconds(120));
            var ids = everyone.SelectMany(p => p.ReceivedIds).ToList();
            long distinct = ids.Distinct().LongCount();
            TestContext.Out.WriteLine($"kills: sent {sent}, delivered {distinct}, kills {kills}, lost inside killed children {sent - distinct}");
            if (ids.Count != distinct)
            {
                failures.Enqueue("kills: duplicates delivered");
            }

            if (sent - distinct > kills * 4000L)
            {
                failures.Enqueue($"kills: {sent - distinct} lost, more than {kills} kill(s) can explain");
            }
        }
        finally
        {
            everyone.ForEach(p => p.Dispose());
        }
    }
}
