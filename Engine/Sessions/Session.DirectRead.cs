using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Engine.Diagnostics;
using Engine.Lifetime;
using Engine.Pipes;
using Engine.Wire;

namespace Engine.Sessions;

/// <summary>What <see cref="Session.ReadDirect"/> did for the application's receiving thread.</summary>
internal enum DirectRead
{
    /// <summary>Not possible now (the loop holds the socket, the connection ends, ...): wait the usual way.</summary>
    Unavailable,

    /// <summary>Messages were put into the inbound pipe.</summary>
    Delivered,

    /// <summary>Waited for a while and nothing came: look at the socket's other duties, then come back.</summary>
    Waited,
}

/// <summary>
/// Plain tcp and ipc connections read their socket themselves (<see cref="Transport.StreamConnection.ReadSocketDirectly"/>),
/// and that reading can be done by two parties: the receive loop, or the application's thread
/// while it is blocked in a receive on a socket whose only peer this is. The second is how a
/// request/reply round trip avoids thread hand-offs: the application thread waits in the kernel
/// on the socket (like a plain blocking socket), reads, decodes and takes its message, all on one
/// thread. A wake-up through another thread costs ~20 µs here; a system call ~1 µs.
/// </summary>
/// <remarks>
/// <para>Exactly one party reads and decodes at a time: whoever holds the read token
/// (<see cref="_readOwner"/>). All decoding state (partial frames, the receive pipe) is touched
/// only by the holder; taking and giving the token are full fences.</para>
/// <para>The application keeps the token between receives (a lease), so that the loop does not wake
/// up for every message only to find it taken. A lease the application stopped using (it has not
/// been in a receive for <see cref="LeaseTimeoutMs"/>) is taken back by a timer and the loop reads
/// again; messages wait in the kernel's buffer meanwhile, which is where TCP keeps them anyway.</para>
/// </remarks>
internal sealed partial class Session
{
    /// <summary>How long an application thread waits in the kernel before it looks at its socket's other duties.</summary>
    private const int PollSliceMs = Transport.SocketReadiness.WaitSliceMs;

    /// <summary>Idle slices after which a waiting application thread gives the socket back and sleeps the usual way.</summary>
    private const int MaxIdleSlices = 20;

    private int _idleSlices;
    private ProtocolViolationException? _directViolation;

    private enum PumpResult
    {
        Idle,

        /// <summary>Its waiting receive ran out its slice with nothing.</summary>
        TimedOut,
        Delivered,
        Blocked,
        EndOfStream,
        Failed,
    }

    /// <summary>The receive loop of a connection that reads its socket itself.</summary>
    private async Task ReceiveDirectLoopAsync(Peer peer)
    {
        MessagePipe? inbound = peer.Inbound;
        try
        {
            while (!_connection.IsAborted)
            {
                if (!TryTakeRead(ReadByLoop) && !await WaitForReadTokenAsync(peer).ConfigureAwait(false))
                {
                    return;
                }

                if (_directViolation is { } found)
                {
                    // The application's thread hit it while reading for us; it is handled here, once.
                    throw found;
                }

                PumpResult result = Pump(peer, inbound, untilDelivered: false, wait: false, out SocketError error);
                switch (result)
                {
                    case PumpResult.EndOfStream:
                        AbortAtEndOfStream();
                        return;
                    case PumpResult.Failed:
                        _connection.Abort(ShutdownReason.ReceiveSocketError, error.ToString());
                        return;
                    case PumpResult.Blocked:
                        ReleaseRead();
                        await WaitForRoomAsync(peer, inbound!).ConfigureAwait(false);
                        break;
                    default:
                        ReleaseRead();
                        // Whoever holds the token when the socket is readable reads it. Meanwhile
                        // nothing watches it (one-shot interest): a thread that takes the token and
                        // waits in poll() itself gets each message without waking anybody else.
                        await WaitForInputAsync().ConfigureAwait(false);
                        Volatile.Write(ref _loopWaitsForInput, 0);
                        break;
                }
            }
        }
        catch (ProtocolViolationException violation)
        {
            ReportViolation(peer, violation);
        }
        catch (Exception e) when (IsConnectionError(e))
        {
            _connection.Abort(ShutdownReason.ReceiveSocketError, e.Message);
        }
    }

    /// <summary>
    /// Called by the application's receiving thread when this session's peer is the only one it
    /// reads from and nothing is queued: reads the socket itself, waiting in the kernel until
    /// <paramref name="deadlineTicks"/> (Environment.TickCount64) at most.
    /// </summary>
    /// <param name="deadlineTicks">Environment.TickCount64 after which it returns (0: read once, do not wait).</param>
    /// <param name="leasedOnly">Only if the thread already holds the lease (a non-blocking receive: one read, no wait).</param>
    internal DirectRead ReadDirect(long deadlineTicks, bool leasedOnly = false)
    {
        Peer? peer = _peer;
        if (peer is null || !_connection.ReadsSocketDirectly)
        {
            return DirectRead.Unavailable;
        }

        int state = Volatile.Read(ref _readOwner);
        bool taken = state switch
        {
            ReadLeased => Interlocked.CompareExchange(ref _readOwner, ReadByApplication, ReadLeased) == ReadLeased,
            ReadFree => !leasedOnly && Interlocked.CompareExchange(ref _readOwner, ReadByApplication, ReadFree) == ReadFree,
            _ => false,
        };
        if (!taken)
        {
            return DirectRead.Unavailable;
        }

        if (state == ReadFree)
        {
            StartLeaseTimer();
        }

        bool giveBack = false;
        bool endedBefore = peer.EndOfStream;
        try
        {
            if (_directViolation is not null || _connection.IsAborted)
            {
                giveBack = true;
                return DirectRead.Unavailable;
            }

            while (true)
            {
                // Reactor sockets wait inside the receive itself while a whole slice fits before the
                // deadline: one system call per message, where poll() and then recv() are two.
                bool wait = _connection.ReceiveCanWait && _undecodedBytes == 0 && deadlineTicks - Environment.TickCount64 >= PollSliceMs;
                PumpResult result = Pump(peer, peer.Inbound, untilDelivered: true, wait, out _);
                if (result is PumpResult.Delivered or PumpResult.Blocked || (peer.EndOfStream && !endedBefore))
                {
                    // (A DRAINED decoded here ends the input: the caller must look at once.)
                    _idleSlices = 0;
                    return DirectRead.Delivered;
                }

                if (result is PumpResult.EndOfStream or PumpResult.Failed)
                {
                    // Ends and errors are the loop's business: it sees the same on its next read.
                    giveBack = true;
                    return DirectRead.Unavailable;
                }

                bool sliceWentBy;
                if (wait)
                {
                    // Part of a frame came: wait for the rest at once.
                    if (result != PumpResult.TimedOut)
                    {
                        continue;
                    }

                    sliceWentBy = true;
                }
                else
                {
                    long now = Environment.TickCount64;
                    if (now >= deadlineTicks)
                    {
                        return DirectRead.Waited;
                    }

                    int waitMs = (int)Math.Min(PollSliceMs, deadlineTicks - now);
                    sliceWentBy = !_connection.Socket.Poll(waitMs * 1000, SelectMode.SelectRead);
                }

                if (sliceWentBy)
                {
                    if (++_idleSlices >= MaxIdleSlices)
                    {
                        // A long wait: stop waking up every slice; the loop watches the socket.
                        _idleSlices = 0;
                        giveBack = true;
                        return DirectRead.Unavailable;
                    }

                    return DirectRead.Waited;
                }
            }
        }
        catch (ProtocolViolationException violation)
        {
            // Reported here, as the loop would: the loop itself may be waiting for bytes that
            // never come, so it cannot be left to notice.
            _directViolation = violation;
            ReportViolation(peer, violation);
            giveBack = true;
            return DirectRead.Unavailable;
        }
        catch (Exception e) when (IsConnectionError(e))
        {
            giveBack = true;
            return DirectRead.Unavailable;
        }
        finally
        {
            Volatile.Write(ref _leaseLeftTicks, Environment.TickCount64);
            Interlocked.Exchange(ref _readOwner, giveBack ? ReadFree : ReadLeased);
            if (giveBack)
            {
                OnTokenFreed();
            }
            else if (Volatile.Read(ref _closeWaiting) != 0)
            {
                _readTokenWaiter.Wake();
            }
        }
    }

    /// <summary>
    /// Reads what the socket has, without waiting, and decodes it into the inbound pipe. Only the
    /// holder of the read token calls this. Bytes decoding could not place (the pipe is at its
    /// HWM) stay in the receive pipe and are decoded first by the next holder.
    /// </summary>
    /// <param name="peer">The session's peer.</param>
    /// <param name="inbound">Where decoded messages go.</param>
    /// <param name="untilDelivered">Stop as soon as a message was delivered (an application thread waits for one).</param>
    /// <param name="wait">The first receive may wait up to a slice (see <see cref="Transport.SocketReadiness.Receive"/>).</param>
    /// <param name="error">The socket error when the result is Failed.</param>
    private PumpResult Pump(Peer peer, MessagePipe? inbound, bool untilDelivered, bool wait, out SocketError error)
    {
        error = SocketError.Success;
        long before = _messagesReceived;
        if (_undecodedBytes > 0 && DecodeReceived(peer, inbound))
        {
            return PumpResult.Blocked;
        }

        if (untilDelivered && _messagesReceived > before)
        {
            return PumpResult.Delivered;
        }

        PipeWriter writer = _connection.ReceivedWriter;
        while (true)
        {
            // The rest of a frame bigger than what was buffered goes straight into its own buffer
            // (no copy through the receive pipe); everything else into the pipe's segment.
            bool intoFrame = _partial._buffer is not null && _undecodedBytes == 0;
            Span<byte> target = intoFrame ? _partial.WritableSpan[_partialFilled..] : writer.GetSpan(Transport.SocketPipeReader.MinimumReadSize);
            int received = _connection.Receive(target, wait, out error);
            if (error != SocketError.Success)
            {
                return error != SocketError.WouldBlock ? PumpResult.Failed
                    : wait && _messagesReceived == before ? PumpResult.TimedOut
                    : Settled(before);
            }

            wait = false;

            if (received == 0)
            {
                return PumpResult.EndOfStream;
            }

            if (intoFrame)
            {
                FillPartial(peer, inbound, received);
            }
            else
            {
                writer.Advance(received);
                // No pause threshold: completes at once, nothing allocated.
                writer.FlushAsync().GetAwaiter().GetResult();
                if (DecodeReceived(peer, inbound))
                {
                    return PumpResult.Blocked;
                }
            }

            if ((untilDelivered && _messagesReceived > before) || received < target.Length)
            {
                // A short read means the socket is (nearly) empty: let readiness say when to read again.
                return Settled(before);
            }
        }
    }

    /// <summary>Counts <paramref name="got"/> bytes received into the partial frame; delivers it once complete.</summary>
    private void FillPartial(Peer peer, MessagePipe? inbound, int got)
    {
        MarkReceived(peer);
        EngineMetrics.BytesReceived.Add(got);
        _partialFilled += got;
        if (_partialFilled < _partial._length)
        {
            return;
        }

        long received = _messagesReceived;
        Msg frame = Msg.Take(ref _partial);
        frame._more = _partialMore;
        Deliver(ref frame, inbound);
        EngineMetrics.MessagesReceived.Add(_messagesReceived - received);
        inbound?.Flush();
    }

    private PumpResult Settled(long before) => _messagesReceived > before ? PumpResult.Delivered : PumpResult.Idle;

    /// <summary>Decodes what the receive pipe holds; true when it stopped at the inbound pipe's HWM.</summary>
    private bool DecodeReceived(Peer peer, MessagePipe? inbound)
    {
        PipeReader input = _connection.Input;
        // False: nothing new since the last look (what is left there is part of a frame).
        bool blocked = input.TryRead(out ReadResult read) && DecodeRead(input, read.Buffer, peer, inbound);
        _stoppedAtHwm = blocked;
        return blocked;
    }

    /// <summary>
    /// True while whole frames already read wait in the receive pipe because the inbound pipe was
    /// at its HWM (not merely part of a frame waiting for more bytes): someone must decode them
    /// once there is room, whether or not the socket ever becomes readable again.
    /// </summary>
    private volatile bool _stoppedAtHwm;
}
