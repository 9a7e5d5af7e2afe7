using Engine;
using Engine.Sockets;

namespace Butterfly.Roles;

/// <summary>
/// The sink: binds a PULL, checks every reply end to end (pattern, checksum, full route) and
/// counts distinct ids, duplicates and corrupted frames.
/// </summary>
/// <remarks>
/// It stops by itself: after all <c>--messages</c> distinct ids arrived (plus a short quiet spell
/// to catch late duplicates), or after <c>--idle-timeout</c> without any message. It then prints
/// one <c>RESULT</c> line; the orchestrator stops everything else.
/// </remarks>
internal static class ReceiveReplies
{
    /// <summary>Quiet time after the last expected id, in which a duplicate would still show up.</summary>
    private static readonly TimeSpan DuplicateWindow = TimeSpan.FromMilliseconds(250);

    internal static int Run(Arguments args)
    {
        int messages = args.Int("messages", 100_000);
        int size = args.Int("size", Payload.DefaultBodySize);
        TimeSpan idleTimeout = args.Seconds("idle-timeout", 10);
        TimeSpan startupTimeout = args.Seconds("startup-timeout", 30);
        using StageControl control = StageControl.Listen();

        using var input = new PullSocket(Relay.SocketOptions());
        string endpoint = input.Bind("tcp://127.0.0.1:0");
        Console.WriteLine($"READY receive_replies {endpoint}");

        // The idle clock starts at GO, not at launch: starting the other processes takes a while.
        if (!control.WaitForGo(startupTimeout))
        {
            Console.Error.WriteLine(control.Stopping ? "stopped before GO" : $"no GO within {startupTimeout.TotalSeconds:0} s");
            return 1;
        }

        var tally = new Tally(messages);
        long goAt = Environment.TickCount64;
        long lastNewIdAt = goAt;
        long lastMessageAt = goAt;
        long nextProgressAt = lastMessageAt + 1000;
        while (!control.Stopping)
        {
            long now = Environment.TickCount64;
            if (now >= nextProgressAt)
            {
                Console.WriteLine($"PROGRESS {tally.Distinct} {tally.Received}");
                nextProgressAt += 1000;
            }

            TimeSpan quietLimit = tally.Complete ? DuplicateWindow : idleTimeout;
            long quietLeft = lastMessageAt + (long)quietLimit.TotalMilliseconds - now;
            if (quietLeft <= 0)
            {
                break;
            }

            long wait = Math.Min(quietLeft, Math.Min(Relay.Poll.Ticks / TimeSpan.TicksPerMillisecond, nextProgressAt - now));
            if (!input.TryReceive(out Msg reply, TimeSpan.FromMilliseconds(Math.Max(1, wait))))
            {
                continue;
            }

            long distinctBefore = tally.Distinct;
            tally.Count(reply.Span, size);
            reply.Dispose();
            lastMessageAt = Environment.TickCount64;
            if (tally.Distinct != distinctBefore)
            {
                lastNewIdAt = lastMessageAt;
            }
        }

        // flow_ms: from GO to the last new id, so the rate leaves out the idle or duplicate wait at the end.
        Console.WriteLine($"RESULT received={tally.Received} distinct={tally.Distinct} duplicates={tally.Duplicates} corrupted={tally.Corrupted} flow_ms={lastNewIdAt - goAt}");
        return 0;
    }

    /// <summary>The counts, with one flag per expected id.</summary>
    private sealed class Tally(int expected)
    {
        private readonly bool[] _seen = new bool[expected];

        internal long Received { get; private set; }

        internal long Distinct { get; private set; }

        internal long Duplicates { get; private set; }

        internal long Corrupted { get; private set; }

        internal bool Complete => Distinct == _seen.Length;

        internal void Count(ReadOnlySpan<byte> frame, int bodySize)
        {
            Received++;
            if (!Payload.TryReadId(frame, out ulong id) || id >= (ulong)_seen.Length)
            {
                // An id that was never sent: the frame is damaged, and no id can be credited.
                Corrupted++;
                return;
            }

            if (!Payload.IsIntact(frame, bodySize))
            {
                Corrupted++;
            }

            // A damaged frame with a plausible id still arrived: it counts as corrupted, not lost.
            if (_seen[id])
            {
                Duplicates++;
            }
            else
            {
                _seen[id] = true;
                Distinct++;
            }
        }
    }
}
