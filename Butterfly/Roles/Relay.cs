using Engine;
using Engine.Sockets;

namespace Butterfly.Roles;

/// <summary>What a middle stage did, reported to the orchestrator as <c>DONE processed=.. corrupted=..</c>.</summary>
internal readonly record struct RelayStats(long Processed, long Corrupted)
{
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
    /// Options for every butterfly socket. Linger is short because a stage is only stopped after
    /// receive_replies has reported: anything still queued then is already counted as lost.
    /// </summary>
    internal static SocketOptions SocketOptions() => new()
    {
        SendHighWatermark = 1000,
        ReceiveHighWatermark = 1000,
        Linger = TimeSpan.FromSeconds(1),
    };

    /// <summary>Relays until the orchestrator says STOP.</summary>
    internal static RelayStats Run(PullSocket input, PushSocket output, byte stageBit, StageControl control)
    {
        long processed = 0;
        long corrupted = 0;
        while (!control.Stopping)
        {
            if (!input.TryReceive(out Msg request, Poll))
            {
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
                    corrupted++;
                }

                forward = Msg.Allocate(request.Length);
                request.Span.CopyTo(forward.WritableSpan);
                forward.More = request.More;
            }
            finally
            {
                request.Dispose();
            }

            Payload.Stamp(forward.WritableSpan, stageBit);
            if (!SendUntilStopped(output, ref forward, control))
            {
                forward.Dispose();
                break;
            }

            processed++;
        }

        return new RelayStats(processed, corrupted);
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
