using System.Buffers.Binary;
using System.Diagnostics;
using Engine;
using Engine.Reliability;
using Engine.Sockets;

namespace Butterfly.Roles;

/// <summary>
/// The sink: binds a PULL, checks every reply end to end (pattern, checksum, full route),
/// acknowledges each id back to send_requests (PUSH to its ack endpoint), drops the duplicates
/// that retries create (<see cref="DuplicateFilter"/>), and measures the end-to-end delay.
/// </summary>
/// <remarks>
/// Runs until STOP, then prints one <c>RESULT</c> line. When the first reply that crossed the
/// intermediate tagged <c>--watch-tag</c> (the moved intermediate2) arrives, it prints
/// <c>FIRST via=tag</c> at once, so the orchestrator can say when the moved server carried traffic.
/// </remarks>
internal static class ReceiveReplies
{
    /// <summary>Acknowledgements are batched: a frame goes out at this many ids or after <see cref="AckDelayMs"/>.</summary>
    private const int AckBatch = 512;

    private const long AckDelayMs = 5;

    internal static int Run(Arguments args)
    {
        int size = args.Int("size", Payload.DefaultBodySize);
        string ackEndpoint = args.Required("acks");
        int watchTag = args.Int("watch-tag", 0);
        using StageControl control = StageControl.Listen();
        var sink = new Sink(size);
        using var reporter = new StageReporter(sink.Counters);
        var input = new PullSocket(Relay.SocketOptions());
        var acks = new PushSocket(Relay.SocketOptions());
        try
        {
            reporter.Watch(input);
            string endpoint = input.Bind("tcp://127.0.0.1:0");
            acks.Connect(ackEndpoint);
            Console.WriteLine($"READY receive_replies {endpoint}");
            reporter.Start();

            byte[] pending = new byte[AckBatch * 8];
            int pendingIds = 0;
            long oldestPendingAt = 0;
            bool watched = false;
            while (!control.Stopping)
            {
                if (input.TryReceive(out Msg reply, TimeSpan.FromMilliseconds(pendingIds > 0 ? 1 : 100)))
                {
                    long? id = sink.Take(reply.Span, out byte via);
                    reply.Dispose();
                    if (via == watchTag && watchTag != 0 && !watched)
                    {
                        watched = true;
                        Console.WriteLine($"FIRST via={via}");
                    }

                    if (id is { } ackId)
                    {
                        if (pendingIds == 0)
                        {
                            oldestPendingAt = Environment.TickCount64;
                        }

                        BinaryPrimitives.WriteInt64LittleEndian(pending.AsSpan(pendingIds++ * 8), ackId);
                    }
                }

                if (pendingIds == AckBatch || (pendingIds > 0 && Environment.TickCount64 - oldestPendingAt >= AckDelayMs))
                {
                    Msg ack = Msg.Copy(pending.AsSpan(0, pendingIds * 8));
                    if (!Relay.SendUntilStopped(acks, ref ack, control))
                    {
                        ack.Dispose();
                        break;
                    }

                    pendingIds = 0;
                }
            }
        }
        finally
        {
            input.Dispose();
            acks.Dispose();
        }

        reporter.Report();
        Console.WriteLine($"RESULT {sink.Result()}");
        return 0;
    }

    /// <summary>The counts and delays of everything received.</summary>
    private sealed class Sink(int bodySize)
    {
        private readonly DuplicateFilter _filter = new(1 << 22);
        private readonly HashSet<long> _delivered = new();
        private readonly long[] _delayHistogram = new long[120_001]; // one slot per ms, the last one for "longer"
        private readonly long[] _via = new long[256];
        private readonly object _gate = new();
        private long _received;
        private long _corrupted;
        private long _deliveredTwice;
        private long _maxId = -1;
        private long _maxDelayMs;
        private long _windowMaxDelayMs;

        /// <summary>Checks and counts one reply; returns its id to acknowledge, or null for a corrupted frame.</summary>
        internal long? Take(ReadOnlySpan<byte> frame, out byte via)
        {
            via = 0;
            lock (_gate)
            {
                _received++;
                if (!Payload.IsIntact(frame, bodySize) || !Payload.TryReadId(frame, out ulong rawId) || rawId > long.MaxValue)
                {
                    // Not acknowledged: the source sends it again, and an intact copy may still arrive.
                    _corrupted++;
                    return null;
                }

                long id = (long)rawId;
                via = Payload.Via(frame);
                if (_filter.TryAccept(id))
                {
                    Deliver(id, frame, via);
                }

                // Duplicates are acknowledged too: the first acknowledgement may be what was lost.
                return id;
            }
        }

        internal string Counters()
        {
            lock (_gate)
            {
                long window = _windowMaxDelayMs;
                _windowMaxDelayMs = 0;
                return $"processed={_received} delivered={_filter.Accepted} filtered={_filter.Duplicates} corrupted={_corrupted} delay_ms={window}"
                    + $" via1={_via[1]} via2={_via[2]} via3={_via[3]}";
            }
        }

        internal string Result()
        {
            lock (_gate)
            {
                return $"received={_received} delivered={_filter.Accepted} filtered={_filter.Duplicates} duplicates_delivered={_deliveredTwice}"
                    + $" corrupted={_corrupted} max_id={_maxId} max_delay_ms={_maxDelayMs} p99_delay_ms={Percentile(0.99)} p50_delay_ms={Percentile(0.5)}"
                    + $" via1={_via[1]} via2={_via[2]} via3={_via[3]}";
            }
        }

        /// <summary>The application's side: each id must arrive here once. Checked independently of the filter.</summary>
        private void Deliver(long id, ReadOnlySpan<byte> frame, byte via)
        {
            if (!_delivered.Add(id))
            {
                _deliveredTwice++;
            }

            _maxId = Math.Max(_maxId, id);
            _via[via]++;
            long delayMs = (long)Stopwatch.GetElapsedTime(Payload.SentAt(frame)).TotalMilliseconds;
            delayMs = Math.Clamp(delayMs, 0, _delayHistogram.Length - 1);
            _delayHistogram[delayMs]++;
            _maxDelayMs = Math.Max(_maxDelayMs, delayMs);
            _windowMaxDelayMs = Math.Max(_windowMaxDelayMs, delayMs);
        }

        private long Percentile(double fraction)
        {
            long total = _filter.Accepted;
            long rank = (long)Math.Ceiling(total * fraction);
            long seen = 0;
            for (int ms = 0; ms < _delayHistogram.Length; ms++)
            {
                seen += _delayHistogram[ms];
                if (seen >= rank && rank > 0)
                {
                    return ms;
                }
            }

            return 0;
        }
    }
}
