using Engine;
using Engine.Directory;
using Engine.Sockets;

namespace Butterfly.Roles;

/// <summary>What a middle stage did so far; read by the reporter thread while the relay loop counts.</summary>
internal sealed class RelayStats
{
    private long _processed;
    private long _corrupted;

    internal long Processed => Interlocked.Read(ref _processed);

    internal long Corrupted => Interlocked.Read(ref _corrupted);

    internal void CountProcessed() => Interlocked.Increment(ref _processed);

    internal void CountCorrupted() => Interlocked.Increment(ref _corrupted);

    public override string ToString() => $"processed={Processed} corrupted={Corrupted}";
}

/// <summary>
/// The loop shared by component1, intermediate and component2: take a request, verify its
/// checksum, stamp the stage into its route, pass it on.
/// </summary>
internal static class Relay
{
    /// <summary>How often a blocked receive or send looks at the stop flag.</summary>
    internal static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Heartbeats find a frozen peer (no FIN, no RST: the kernel still acknowledges its TCP) within
    /// interval + timeout, 2 s: the 500/1500 ms that issue 8 measured libzmq with, and generous
    /// enough that a loaded 2-core machine rarely trips them (a false alarm costs a reconnect and
    /// a re-route, never a message).
    /// </summary>
    internal static readonly TimeSpan HeartbeatInterval = TimeSpan.FromMilliseconds(500);

    internal static readonly TimeSpan HeartbeatTimeout = TimeSpan.FromMilliseconds(1500);

    /// <summary>
    /// Kernel buffers per connection. What sits in a frozen peer's kernel buffers is lost when it
    /// dies (no transport can know what it read); what sits in our pipes is re-routed. Small kernel
    /// buffers keep the backlog in the pipes, where the engine can save it.
    /// </summary>
    internal const int KernelBufferBytes = 64 * 1024;

    /// <summary>
    /// Options for every butterfly socket. Linger is short because a stage is only stopped after
    /// the source has its acknowledgements: anything still queued then is a duplicate anyway.
    /// </summary>
    internal static SocketOptions SocketOptions(DirectoryClient? directory = null) => new()
    {
        SendHighWatermark = 1000,
        ReceiveHighWatermark = 1000,
        SendBufferSize = KernelBufferBytes,
        ReceiveBufferSize = KernelBufferBytes,
        Linger = TimeSpan.FromSeconds(1),
        HeartbeatInterval = HeartbeatInterval,
        HeartbeatTimeout = HeartbeatTimeout,
        HandshakeTimeout = TimeSpan.FromSeconds(3),
        Directory = directory,
    };

    /// <summary>The directory servers given with <c>--directory a,b</c>.</summary>
    internal static DirectoryClient DirectoryFrom(Arguments args) => new(args.List("directory"));

    /// <summary>Relays until the orchestrator says STOP or, when the stage is drained, the input has delivered its last message.</summary>
    internal static void Run(PullSocket input, PushSocket output, byte stageBit, byte tag, StageControl control, RelayStats stats)
    {
        while (!control.Stopping)
        {
            if (!input.TryReceive(out Msg request, Poll))
            {
                if (input.IsDrained)
                {
                    // Every upstream peer ended its stream and we read all of it: the drain goes on to the output.
                    return;
                }

                continue;
            }

            // A received frame is read-only, so the stamped copy is a new frame; the copy is part
            // of the per-stage work, like the checksum.
            Msg forward;
            try
            {
                if (!Payload.ChecksumMatches(request.Span))
                {
                    // Passed on anyway: receive_replies is the one that counts corruption end to end.
                    stats.CountCorrupted();
                }

                forward = Msg.Allocate(request.Length);
                request.Span.CopyTo(forward.WritableSpan);
                forward.More = request.More;
            }
            finally
            {
                request.Dispose();
            }

            Payload.Stamp(forward.WritableSpan, stageBit, tag);
            if (!SendUntilStopped(output, ref forward, control))
            {
                forward.Dispose();
                return;
            }

            stats.CountProcessed();
        }
    }

    /// <summary>Blocks for room like a plain send, but gives up when the stage is told to stop.</summary>
    internal static bool SendUntilStopped(PushSocket socket, ref Msg frame, StageControl control)
    {
        while (!socket.TrySend(ref frame, Poll))
        {
            if (control.Stopping)
            {
                return false;
            }
        }

        return true;
    }
}
