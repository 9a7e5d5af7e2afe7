using System.Runtime.CompilerServices;

namespace Engine.Sockets;

public abstract partial class MessageSocket
{
    /// <summary>The core of <see cref="IReceiveSocket.TryReceive"/>.</summary>
    private protected bool TryReceiveFrame(out Msg frame, TimeSpan timeout)
    {
        ThrowIfDisposed();
        if (Volatile.Read(ref _receiveCommandsPending) != 0)
        {
            ApplyReceiveCommands();
        }

        // Read the end-of-input flag before looking at the pipes: whatever arrived before the
        // input ended is then certain to be seen by the look that follows.
        bool inputEnded = Volatile.Read(ref _inputEnded) != 0;
        if (_receiver!.TryReceive(out frame))
        {
            CountDelivered(frame);
            return true;
        }

        if (inputEnded)
        {
            MarkDrained();
            return false;
        }

        if (timeout == TimeSpan.Zero)
        {
            // A thread that reads the socket itself (see ReadDirect) leaves bytes in the kernel
            // between receives: look there once, without waiting.
            return _receiver!.SolePeer?.CurrentSession?.ReadDirect(0, leasedOnly: true) == Sessions.DirectRead.Delivered
                && _receiver!.TryReceive(out frame) && Delivered(frame);
        }

        return ReceiveBlocking(out frame, SocketOptions.ToMilliseconds(timeout));
    }

    private bool Delivered(in Msg frame)
    {
        CountDelivered(frame);
        return true;
    }

    private bool ReceiveBlocking(out Msg frame, int timeoutMs)
    {
        long deadline = timeoutMs < 0 ? long.MaxValue : Environment.TickCount64 + timeoutMs;
        // Messages delivered by another thread (inproc peers, receive loops): look again for a
        // few microseconds before announcing a park. Parking costs both sides (the announcement
        // is a line the writer reads on every flush, then a wake-up of ~20 µs of round trip); an
        // answer that comes within the spin costs neither. A thread that reads its socket itself
        // (direct reads) waits in the kernel instead: nobody else would fill its pipe.
        if (s_spinTicks > 0 && _receiver!.SolePeer?.CurrentSession is null && SpinForFrame(out frame))
        {
            CountDelivered(frame);
            return true;
        }

        while (true)
        {
            _receiveWaiter.Prepare();
            ApplyReceiveCommands();
            bool inputEnded = Volatile.Read(ref _inputEnded) != 0;
            if (_receiver!.TryReceive(out frame))
            {
                _receiveWaiter.Cancel();
                CountDelivered(frame);
                return true;
            }

            if (inputEnded)
            {
                _receiveWaiter.Cancel();
                MarkDrained();
                return false;
            }

            ThrowIfDisposed();
            int remaining = timeoutMs < 0 ? Timeout.Infinite : (int)Math.Max(0, deadline - Environment.TickCount64);
            if (remaining == 0)
            {
                _receiveWaiter.Cancel();
                return false;
            }

            // One stream peer: wait in the kernel on its socket and decode on this thread (no hand-off).
            Sessions.Session? direct = _receiver!.SolePeer?.CurrentSession;
            if (direct is not null)
            {
                _receiveWaiter.Cancel();
                if (direct.ReadDirect(deadline) != Sessions.DirectRead.Unavailable)
                {
                    continue;
                }

                // The waiter was not armed while this thread was in the kernel, so a wake-up for a
                // peer attached or detached meanwhile (a second connection, a handover) went to
                // nobody: look at the commands again before sleeping, or the new peer would be
                // ignored until the timeout.
                _receiveWaiter.Prepare();
                if (Volatile.Read(ref _receiveCommandsPending) != 0 || Volatile.Read(ref _inputEnded) != 0)
                {
                    _receiveWaiter.Cancel();
                    continue;
                }

                if (_receiver!.TryReceive(out frame))
                {
                    _receiveWaiter.Cancel();
                    CountDelivered(frame);
                    return true;
                }
            }

            if (!_receiveWaiter.Wait(remaining))
            {
                return false;
            }
        }
    }

    /// <summary>How long a blocking receive polls its pipes before it parks; none on one core (the producer needs it).</summary>
    private static readonly long s_spinTicks = Environment.ProcessorCount > 1 ? System.Diagnostics.Stopwatch.Frequency / 50_000 : 0; // 20 µs

    private bool SpinForFrame(out Msg frame)
    {
        long until = System.Diagnostics.Stopwatch.GetTimestamp() + s_spinTicks;
        do
        {
            // SpinWait(4) is ~140 ns here: looks far enough apart not to keep the writer's line busy.
            Thread.SpinWait(4);
            if (Volatile.Read(ref _receiveCommandsPending) != 0 || Volatile.Read(ref _inputEnded) != 0)
            {
                break;
            }

            if (_receiver!.TryReceive(out frame))
            {
                return true;
            }
        }
        while (System.Diagnostics.Stopwatch.GetTimestamp() < until);

        frame = default;
        return false;
    }

    /// <summary>The core of <see cref="IReceiveSocket.ReceiveAsync"/>: synchronous when a frame is waiting.</summary>
    private protected ValueTask<Msg> ReceiveFrameAsync(CancellationToken cancellationToken)
    {
        if (TryReceiveFrame(out Msg frame, TimeSpan.Zero))
        {
            return new ValueTask<Msg>(frame);
        }

        if (IsDrained)
        {
            return ValueTask.FromException<Msg>(new SocketDrainedException());
        }

        return ReceiveSlowAsync(cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Msg> ReceiveSlowAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            _receiveWaiter.Prepare();
            ApplyReceiveCommands();
            bool inputEnded = Volatile.Read(ref _inputEnded) != 0;
            if (_receiver!.TryReceive(out Msg frame))
            {
                _receiveWaiter.Cancel();
                CountDelivered(frame);
                return frame;
            }

            if (inputEnded)
            {
                _receiveWaiter.Cancel();
                MarkDrained();
                throw new SocketDrainedException();
            }

            ThrowIfDisposed();
            // Nobody will read the socket on this thread while it waits asynchronously.
            _receiver!.SolePeer?.CurrentSession?.EndLease();
            await _receiveWaiter.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private void CountDelivered(in Msg frame)
    {
        if (_draining != 0 && !frame._more)
        {
            Interlocked.Increment(ref _deliveredDuringDrain);
        }
    }

    private void MarkDrained()
    {
        Volatile.Write(ref _receiveDrained, 1);
    }
}
