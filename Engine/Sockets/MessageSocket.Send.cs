using System.Runtime.CompilerServices;

namespace Engine.Sockets;

public abstract partial class MessageSocket
{
    // Sending-thread-only: frames of a message whose last frame has not been sent yet.
    private Msg[] _stagedFrames = new Msg[4];
    private int _stagedCount;

    /// <summary>Sends (or stages) one frame; the core of <see cref="ISendSocket.TrySend"/>.</summary>
    private protected bool TrySendFrame(ref Msg frame, TimeSpan timeout)
    {
        ThrowIfDisposed();
        if (Volatile.Read(ref _sendCommandsPending) != 0)
        {
            ApplySendCommands();
        }

        if (frame._more)
        {
            Stage(ref frame);
            return true;
        }

        Span<Msg> staged = _stagedFrames.AsSpan(0, _stagedCount);
        if (_sender!.TrySend(staged, ref frame))
        {
            _stagedCount = 0;
            return true;
        }

        return timeout != TimeSpan.Zero && SendBlocking(ref frame, SocketOptions.ToMilliseconds(timeout));
    }

    private void Stage(ref Msg frame)
    {
        if (_stagedCount == _stagedFrames.Length)
        {
            Array.Resize(ref _stagedFrames, _stagedCount * 2);
        }

        _stagedFrames[_stagedCount++] = Msg.Take(ref frame);
    }

    private bool SendBlocking(ref Msg frame, int timeoutMs)
    {
        long deadline = timeoutMs < 0 ? long.MaxValue : Environment.TickCount64 + timeoutMs;
        while (true)
        {
            _sendWaiter.Prepare();
            ApplySendCommands();
            if (_sender!.HasRoom() || IsDisposed)
            {
                _sendWaiter.Cancel();
            }
            else
            {
                int remaining = timeoutMs < 0 ? Timeout.Infinite : (int)Math.Max(0, deadline - Environment.TickCount64);
                if (remaining == 0 || !_sendWaiter.Wait(remaining))
                {
                    return false;
                }
            }

            ThrowIfDisposed();
            ApplySendCommands();
            if (_sender.TrySend(_stagedFrames.AsSpan(0, _stagedCount), ref frame))
            {
                _stagedCount = 0;
                return true;
            }
        }
    }

    /// <summary>The core of <see cref="ISendSocket.SendAsync"/>: synchronous when there is room.</summary>
    private protected ValueTask SendFrameAsync(Msg frame, CancellationToken cancellationToken)
    {
        try
        {
            if (TrySendFrame(ref frame, TimeSpan.Zero))
            {
                return default;
            }
        }
        catch
        {
            frame.Dispose();
            throw;
        }

        return SendSlowAsync(frame, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendSlowAsync(Msg frame, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                _sendWaiter.Prepare();
                ApplySendCommands();
                if (_sender!.HasRoom() || IsDisposed)
                {
                    _sendWaiter.Cancel();
                }
                else
                {
                    await _sendWaiter.WaitAsync(cancellationToken).ConfigureAwait(false);
                }

                if (TrySendFrame(ref frame, TimeSpan.Zero))
                {
                    return;
                }
            }
        }
        finally
        {
            // Sent frames were taken (empty); a canceled one is the socket's to dispose.
            frame.Dispose();
        }
    }
}
