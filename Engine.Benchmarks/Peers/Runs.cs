using System.Diagnostics;
using System.Globalization;
using Engine.Benchmarks.Implementations;

namespace Engine.Benchmarks.Peers;

/// <summary>What a receiver measured: messages in the measured window, its length and the process CPU spent in it.</summary>
/// <param name="EndedBy">count, marker (the sender's empty end message) or idle (nothing came for a while: the sender lost its last messages).</param>
internal readonly record struct ThroughputResult(long Messages, double Seconds, ResourceUsage Usage, int Size, string EndedBy)
{
    internal double MessagesPerSecond => Seconds > 0 ? Messages / Seconds : 0;

    /// <summary>The receiver's last line: <c>msgs_per_s=... mb_per_s=... cpu_ns_per_msg=...</c>.</summary>
    internal void Print()
    {
        Console.WriteLine(Invariant($"messages={Messages} seconds={Seconds:0.000} ended_by={EndedBy} {Runs.PerMessage(Usage, Messages)}"));
        Console.WriteLine(Invariant($"msgs_per_s={MessagesPerSecond:0} mb_per_s={MessagesPerSecond * Size / 1e6:0.0} cpu_ns_per_msg={Usage.Cpu.TotalNanoseconds / Math.Max(1, Messages):0}"));
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>The measurement loops, shared by the tcp peers (one side per process) and the inproc runs (both sides in one).</summary>
internal static class Runs
{
    /// <summary>How often (in messages) the loops look at the clock: rarely enough to cost nothing, often enough for 64 KiB messages.</summary>
    private const int ClockEvery = 64;

    /// <summary>How long a timed run's receiver waits for more before it takes the sender as gone (see <see cref="Receive"/>).</summary>
    private static readonly TimeSpan IdleEnd = TimeSpan.FromSeconds(2);

    /// <summary><c>cpu_ns_per_msg=... switches_per_msg=...</c> for a window of <paramref name="messages"/>.</summary>
    internal static string PerMessage(ResourceUsage used, long messages) =>
        string.Create(CultureInfo.InvariantCulture, $"cpu_ns_per_msg={used.Cpu.TotalNanoseconds / Math.Max(1, messages):0} switches_per_msg={(double)used.Switches / Math.Max(1, messages):0.00000} voluntary_switches={used.VoluntarySwitches} involuntary_switches={used.InvoluntarySwitches}");

    internal static long SecondsToTicks(double seconds) => (long)(seconds * Stopwatch.Frequency);

    /// <summary>
    /// Receives until <see cref="PeerArguments.Count"/> messages arrived or the end marker came; the
    /// window starts at the first message, or once <see cref="PeerArguments.Warmup"/> seconds after it.
    /// </summary>
    /// <remarks>
    /// A timed run (no count) normally ends with the sender's end marker. A sender whose close loses
    /// its last messages (NetMQ's does now and then, linger or not) would leave the receiver waiting,
    /// so such a run also ends once nothing has arrived for <see cref="IdleEnd"/>: the window then
    /// ends at the last message that did arrive, and the output says <c>ended_by=idle</c>.
    /// </remarks>
    internal static ThroughputResult Receive(IMessageSource source, PeerArguments a)
    {
        bool endMarker = a.EndMarkerAllowed;
        if (source.Receive() == 0 && endMarker)
        {
            return new ThroughputResult(0, 0, default, a.Size, "marker");
        }

        bool timed = a.Count == 0;
        if (timed)
        {
            source.Timeout = IdleEnd;
        }

        long received = 1;
        long first = Stopwatch.GetTimestamp();
        long warmupTicks = SecondsToTicks(a.Warmup);
        long windowStart = first;
        long windowFirst = received;
        ResourceUsage usageStart = ResourceUsage.Now();
        bool measuring = warmupTicks == 0;
        long count = timed ? long.MaxValue : a.Count;
        string endedBy = "count";
        try
        {
            while (received < count)
            {
                int size = source.Receive();
                if (size == 0 && endMarker)
                {
                    endedBy = "marker";
                    break;
                }

                received++;
                if (!measuring && received % ClockEvery == 0)
                {
                    long now = Stopwatch.GetTimestamp();
                    if (now - first >= warmupTicks)
                    {
                        measuring = true;
                        windowStart = now;
                        windowFirst = received;
                        usageStart = ResourceUsage.Now();
                    }
                }
            }
        }
        catch (TimeoutException) when (timed)
        {
            endedBy = "idle";
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message} (after {received} of {count} messages)", e);
        }

        // After an idle end the last message came one timeout ago (the idle CPU is next to nothing).
        long end = Stopwatch.GetTimestamp() - (endedBy == "idle" ? SecondsToTicks(IdleEnd.TotalSeconds) : 0);
        ResourceUsage used = ResourceUsage.Now() - usageStart;
        // When the run ended inside the warm-up, the whole run is the window.
        return new ThroughputResult(received - windowFirst, (double)Math.Max(0, end - windowStart) / Stopwatch.Frequency, used, a.Size, endedBy);
    }

    /// <summary>Sends <see cref="PeerArguments.Count"/> messages or for <see cref="PeerArguments.Duration"/> seconds; a timed run ends with the end marker.</summary>
    /// <returns>Messages sent, the end marker not counted.</returns>
    internal static long Send(IMessageSink sink, PeerArguments a)
    {
        long count = a.Count == 0 ? long.MaxValue : a.Count;
        long deadline = a.Duration > 0 ? Stopwatch.GetTimestamp() + SecondsToTicks(a.Duration) : long.MaxValue;
        int size = a.Size;
        long sent = 0;
        while (sent < count)
        {
            sink.Send(size);
            sent++;
            if (sent % ClockEvery == 0 && Stopwatch.GetTimestamp() >= deadline)
            {
                break;
            }
        }

        if (a.Duration > 0 && a.EndMarkerAllowed)
        {
            sink.Send(0);
        }

        return sent;
    }

    /// <summary>Prints the sender's summary: how many it sent and the CPU it spent per message (send loop and close).</summary>
    internal static void PrintSender(long sent, ResourceUsage used, double seconds) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sent={sent} seconds={seconds:0.000} {PerMessage(used, sent)}"));

    /// <summary>
    /// Round trips: one untimed (the connection is made), then <see cref="PeerArguments.Warmup"/>
    /// seconds untimed, then <see cref="PeerArguments.Count"/> timed ones or timed ones until
    /// <see cref="PeerArguments.Duration"/> is up; ends with the end marker so the ponger stops.
    /// </summary>
    internal static LatencyResult Ping(IRequester requester, PeerArguments a)
    {
        int size = a.Size;
        requester.Request(size);
        long start = Stopwatch.GetTimestamp();
        long warmupEnd = start + SecondsToTicks(a.Warmup);
        while (Stopwatch.GetTimestamp() < warmupEnd)
        {
            requester.Request(size);
        }

        // Timed runs keep at most this many samples (8 MiB), far more than seconds of round trips at 20 µs.
        const int MaxTimedSamples = 1 << 20;
        long[] samples = new long[a.Count > 0 ? a.Count : MaxTimedSamples];
        long deadline = a.Duration > 0 ? start + SecondsToTicks(a.Duration) : long.MaxValue;
        ResourceUsage usageStart = ResourceUsage.Now();
        long windowStart = Stopwatch.GetTimestamp();
        int taken = 0;
        long before = windowStart;
        while (taken < samples.Length)
        {
            requester.Request(size);
            long after = Stopwatch.GetTimestamp();
            samples[taken++] = after - before;
            before = after;
            if (after >= deadline)
            {
                break;
            }
        }

        ResourceUsage used = ResourceUsage.Now() - usageStart;
        double seconds = (double)(before - windowStart) / Stopwatch.Frequency;
        if (a.EndMarkerAllowed)
        {
            requester.Request(0);
        }

        return LatencyResult.From(samples.AsSpan(0, taken), seconds, used);
    }

    /// <summary>Echoes requests until the end marker, or <see cref="PeerArguments.Count"/> of them when a count was given.</summary>
    /// <returns>Requests served, the end marker not counted.</returns>
    internal static long Pong(IReplier replier, PeerArguments a, out ResourceUsage used)
    {
        // A ponger serves whatever the pinger asks for: its count is a limit only when given.
        long count = a.Count == 0 ? long.MaxValue : a.Count;
        long served = 0;
        int size = replier.ReplyOne();
        ResourceUsage usageStart = ResourceUsage.Now();
        if (size == 0 && a.EndMarkerAllowed)
        {
            used = default;
            return 0;
        }

        served++;
        while (served < count)
        {
            if (replier.ReplyOne() == 0 && a.EndMarkerAllowed)
            {
                break;
            }

            served++;
        }

        used = ResourceUsage.Now() - usageStart;
        return served;
    }
}

/// <summary>Round-trip statistics of one run, in microseconds.</summary>
internal readonly record struct LatencyResult(long RoundTrips, double Seconds, ResourceUsage Usage, double P50, double P99, double P999, double Mean)
{
    internal static LatencyResult From(Span<long> ticks, double seconds, ResourceUsage used)
    {
        if (ticks.IsEmpty)
        {
            return new LatencyResult(0, seconds, used, 0, 0, 0, 0);
        }

        ticks.Sort();
        double toMicroseconds = 1e6 / Stopwatch.Frequency;
        double sum = 0;
        foreach (long t in ticks)
        {
            sum += t;
        }

        return new LatencyResult(
            ticks.Length,
            seconds,
            used,
            Rank(ticks, 0.50) * toMicroseconds,
            Rank(ticks, 0.99) * toMicroseconds,
            Rank(ticks, 0.999) * toMicroseconds,
            sum / ticks.Length * toMicroseconds);
    }

    /// <summary>Nearest rank: the smallest sample with at least <paramref name="fraction"/> of the samples at or below it.</summary>
    private static long Rank(ReadOnlySpan<long> sorted, double fraction) =>
        sorted[Math.Clamp((int)Math.Ceiling(fraction * sorted.Length) - 1, 0, sorted.Length - 1)];

    /// <summary>The pinger's last line: <c>rtt_us_p50=... rtt_us_p99=... rtt_us_p999=... rtt_us_mean=...</c>.</summary>
    internal void Print()
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round_trips={RoundTrips} seconds={Seconds:0.000} {Runs.PerMessage(Usage, RoundTrips)}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rtt_us_p50={P50:0.0} rtt_us_p99={P99:0.0} rtt_us_p999={P999:0.0} rtt_us_mean={Mean:0.0}"));
    }
}
