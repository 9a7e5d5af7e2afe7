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

        if (_receiver!.TryReceive(out frame))
        {
            return true;
        }

        return timeout != TimeSpan.Zero && ReceiveBlocking(out frame, SocketOptions.ToMilliseconds(timeout));
    }

    private bool ReceiveBlocking(out Msg frame, int timeoutMs)
    {
        long deadline = timeoutMs < 0 ? long.MaxValue : Environment.TickCount64 + timeoutMs;
        while (true)
        {
            _receiveWaiter.Prepare();
            ApplyReceiveCommands();
            if (_receiver!.TryReceive(out frame))
            {
                _receiveWaiter.Cancel();
                return true;
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

        return ReceiveSlowAsync(cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Msg> ReceiveSlowAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            _receiveWaiter.Prepare();
            ApplyReceiveCommands();
            if (_receiver!.TryReceive(out Msg frame))
            {
                _receiveWaiter.Cancel();
                return frame;
            }

            ThrowIfDisposed();
            await _receiveWaiter.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
