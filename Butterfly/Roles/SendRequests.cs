using System.Buffers.Binary;
using System.Diagnostics;
using Engine;
using Engine.Reliability;
using Engine.Sockets;

namespace Butterfly.Roles;

/// <summary>
/// The source: binds a PUSH for requests and a PULL for acknowledgements. From GO until FINISH it
/// sends requests with fresh ids at <c>--rate</c> per second; whatever receive_replies has not
/// acknowledged within <c>--retry-after</c> is sent again (<see cref="RetryTracker{T}"/>). After
/// FINISH it only retries, until every id is acknowledged or <c>--flush-timeout</c> passes, then
/// prints <c>SENT sent=N retried=K unacked=U</c>.
/// </summary>
/// <remarks>
/// This is the end-to-end half of the failure model: the engine re-routes what never left a pipe,
/// but what a crashed intermediate had already read is gone; the retry brings it back, and
/// receive_replies' <see cref="DuplicateFilter"/> drops the copies of what was only slow.
/// </remarks>
internal static class SendRequests
{
    internal static int Run(Arguments args)
    {
        var plan = new SourcePlan(
            Size: args.Int("size", Payload.DefaultBodySize),
            Rate: Math.Max(1, args.Int("rate", 20_000)),
            RetryAfter: args.Seconds("retry-after", 2),
            FlushTimeout: args.Seconds("flush-timeout", 20));
        TimeSpan startupTimeout = args.Seconds("startup-timeout", 30);
        using StageControl control = StageControl.Listen();
        var source = new Source(plan);
        using var reporter = new StageReporter(source.Counters);
        var output = new PushSocket(Relay.SocketOptions());
        var acks = new PullSocket(Relay.SocketOptions());
        try
        {
            reporter.Watch(output);
            string endpoint = output.Bind("tcp://127.0.0.1:0");
            string ackEndpoint = acks.Bind("tcp://127.0.0.1:0");
            Console.WriteLine($"READY send_requests {endpoint} {ackEndpoint}");
            reporter.Start();
            if (!control.WaitForGo(startupTimeout))
            {
                Console.Error.WriteLine(control.Stopping ? "stopped before GO" : $"no GO within {startupTimeout.TotalSeconds:0} s");
                return 1;
            }

            var ackReader = new Thread(() => source.ReadAcks(acks, control)) { IsBackground = true, Name = "acks" };
            ackReader.Start();
            source.SendUntilFinished(output, control);
            source.FlushRetries(output, control);
            reporter.Report();
            Console.WriteLine($"SENT {source.Summary()}");

            // Hold the sockets until STOP: late acknowledgements still count, and closing could cut
            // off retries still queued. The bound is a backstop; a vanished orchestrator closes stdin.
            control.WaitForStop(TimeSpan.FromMinutes(10));
            ackReader.Join(TimeSpan.FromSeconds(2));
        }
        finally
        {
            output.Dispose();
            acks.Dispose();
        }

        return 0;
    }
}

/// <summary>How the source sends: body size, pace, retry and flush timing.</summary>
internal sealed record SourcePlan(int Size, int Rate, TimeSpan RetryAfter, TimeSpan FlushTimeout);

/// <summary>The source's state: the next id, the tracker of unacknowledged ids, the counts.</summary>
internal sealed class Source(SourcePlan plan)
{
    /// <summary>The tracker's hard bound; the window below keeps the source far from it.</summary>
    private const int MaxOutstanding = 1 << 20;

    /// <summary>Looking for due retries walks every outstanding id, so it is done only this often (ms).</summary>
    private const long RetryScanInterval = 50;

    private readonly RetryTracker<long> _tracker = new(plan.RetryAfter, MaxOutstanding);
    private readonly object _gate = new();
    private readonly List<(long Id, long SentAt)> _due = new();
    private long _sent;
    private long _frames;
    private long _acked;
    private long _nextRetryScan;

    /// <summary>
    /// At most this many unacknowledged ids (a quarter of what the pace sends in a retry period):
    /// when the pipeline slows down (a loaded machine) the source slows with it instead of piling
    /// up requests that would all be late and retried, which would only load it more.
    /// </summary>
    private readonly long _window = Math.Max(2_000, (long)(plan.Rate * plan.RetryAfter.TotalSeconds / 4));

    internal string Counters()
    {
        lock (_gate)
        {
            return $"sent={Interlocked.Read(ref _sent)} processed={Interlocked.Read(ref _frames)} acked={_acked} outstanding={_tracker.Outstanding} retried={_tracker.Retried}";
        }
    }

    internal string Summary()
    {
        lock (_gate)
        {
            return $"sent={Interlocked.Read(ref _sent)} retried={_tracker.Retried} unacked={_tracker.Outstanding}";
        }
    }

    /// <summary>Sends new requests at the planned rate, and retries, until FINISH.</summary>
    internal void SendUntilFinished(PushSocket output, StageControl control)
    {
        long start = Environment.TickCount64;
        while (!control.Finishing)
        {
            long now = Environment.TickCount64;
            if (!SendDueRetries(output, control))
            {
                return;
            }

            // Catch up at most 100 ms of pace after a stall, so a recovered pipeline is not flooded.
            long target = (now - start) * plan.Rate / 1000;
            long sent = Interlocked.Read(ref _sent);
            if (target - sent > plan.Rate / 10)
            {
                start = now - ((sent + (plan.Rate / 10)) * 1000 / plan.Rate);
            }

            for (int burst = 0; burst < 1000 && Interlocked.Read(ref _sent) < target && !control.Finishing && !WindowFull(); burst++)
            {
                if (!SendNew(output, control))
                {
                    return;
                }
            }

            Thread.Sleep(1);
        }
    }

    /// <summary>After FINISH: retries until everything is acknowledged or the flush timeout passes.</summary>
    internal void FlushRetries(PushSocket output, StageControl control)
    {
        long deadline = Environment.TickCount64 + (long)plan.FlushTimeout.TotalMilliseconds;
        while (!control.Stopping && Environment.TickCount64 < deadline)
        {
            lock (_gate)
            {
                if (_tracker.Outstanding == 0)
                {
                    return;
                }
            }

            if (!SendDueRetries(output, control))
            {
                return;
            }

            Thread.Sleep(10);
        }
    }

    /// <summary>Reads acknowledgements (frames of 8-byte ids) until STOP.</summary>
    internal void ReadAcks(PullSocket acks, StageControl control)
    {
        while (!control.Stopping)
        {
            if (!acks.TryReceive(out Msg ack, Relay.Poll))
            {
                continue;
            }

            lock (_gate)
            {
                ReadOnlySpan<byte> ids = ack.Span;
                for (int offset = 0; offset + 8 <= ids.Length; offset += 8)
                {
                    if (_tracker.Acknowledge(BinaryPrimitives.ReadInt64LittleEndian(ids[offset..])))
                    {
                        _acked++;
                    }
                }
            }

            ack.Dispose();
        }
    }

    private bool WindowFull()
    {
        lock (_gate)
        {
            return _tracker.Outstanding >= _window;
        }
    }

    private bool SendNew(PushSocket output, StageControl control)
    {
        long id = Interlocked.Read(ref _sent);
        long sentAt = Stopwatch.GetTimestamp();
        while (true)
        {
            lock (_gate)
            {
                if (_tracker.TryTrack(id, sentAt, Environment.TickCount64))
                {
                    break;
                }
            }

            // Too many unacknowledged: wait for acknowledgements instead of growing without bound.
            if (control.Finishing)
            {
                return true;
            }

            Thread.Sleep(10);
        }

        Interlocked.Increment(ref _sent);
        return Send(output, id, sentAt, control);
    }

    private bool SendDueRetries(PushSocket output, StageControl control)
    {
        long now = Environment.TickCount64;
        if (now < _nextRetryScan)
        {
            return true;
        }

        _nextRetryScan = now + RetryScanInterval;
        _due.Clear();
        lock (_gate)
        {
            _tracker.CollectDue(now, _due, max: 20_000);
        }

        foreach ((long id, long sentAt) in _due)
        {
            if (!Send(output, id, sentAt, control))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Builds the request (a retry is rebuilt from its id and first send time) and sends it, waiting for room.</summary>
    private bool Send(PushSocket output, long id, long sentAt, StageControl control)
    {
        Msg request = Msg.Allocate(Payload.FrameSize(plan.Size));
        Payload.Write(request.WritableSpan, (ulong)id, sentAt);
        if (!Relay.SendUntilStopped(output, ref request, control))
        {
            request.Dispose();
            return false;
        }

        Interlocked.Increment(ref _frames);
        return true;
    }
}
