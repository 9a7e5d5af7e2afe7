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
            return false;
        }

        return SpinForFrame(out frame) || ReceiveBlocking(out frame, SocketOptions.ToMilliseconds(timeout));
    }

    /// <summary>Looks at the pipes a few more times, about 4 µs in all, before parking.</summary>
    /// <remarks>
    /// In a stream the next frame is usually well under a microsecond away, while parking costs
    /// both sides: announcing it (<see cref="Engine.Pipes.Waiter.Prepare"/>) writes a line the writer reads on
    /// every flush and sends it down its signalling path, often for nothing when the frame is
    /// already on its way. Looking only reads the pipes.
    /// </remarks>
    private bool SpinForFrame(out Msg frame)
    {
        if (s_singleProcessor)
        {
            frame = default;
            return false;
        }

        for (int look = 0; look < SpinLooks; look++)
        {
            Thread.SpinWait(SpinIterationsPerLook);
            if (Volatile.Read(ref _receiveCommandsPending) != 0 || Volatile.Read(ref _inputEnded) != 0)
            {
                break;
            }

            if (_receiver!.TryReceive(out frame))
            {
                CountDelivered(frame);
                return true;
            }
        }

        frame = default;
        return false;
    }

    // Thread.SpinWait is normalised across processors: SpinWait(4) measured ~140 ns here, so the
    // looks are far enough apart not to keep the writer's publish line busy, ~4.5 µs in all.
    private const int SpinLooks = 32;
    private const int SpinIterationsPerLook = 4;
    private static readonly bool s_singleProcessor = Environment.ProcessorCount == 1;

    private bool ReceiveBlocking(out Msg frame, int timeoutMs)
    {
        long deadline = timeoutMs < 0 ? long.MaxValue : Environment.TickCount64 + timeoutMs;
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
            if (remaining == 0 || !_receiveWaiter.Wait(remaining))
            {
                return false;
            }
        }
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
