using System.Runtime.CompilerServices;

namespace Engine.Sockets;

public abstract partial class MessageSocket
{
    // Sending-thread-only: frames of a message whose last frame has not been sent yet.
    private Msg[] _stagedFrames = new Msg[4];
    private int _stagedCount;

    // Who may touch the send strategy right now: the application's sending thread, or the
    // background rescue that re-routes a departed peer's messages while the application is not
    // sending. One compare-and-swap per send; the rescue never blocks the sender for long.
    private int _sendGate;
    private int _rescueRunning;

    /// <summary>Sends (or stages) one frame; the core of <see cref="ISendSocket.TrySend"/>.</summary>
    private protected bool TrySendFrame(ref Msg frame, TimeSpan timeout)
    {
        ThrowIfDisposed();
        EnterSend();
        try
        {
            return TrySendFrameEntered(ref frame, timeout);
        }
        finally
        {
            ExitSend();
        }
    }

    private bool TrySendFrameEntered(ref Msg frame, TimeSpan timeout)
    {
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
        bool sent;
        try
        {
            sent = _sender!.TrySend(staged, ref frame);
        }
        catch
        {
            DiscardStaged();
            throw;
        }

        if (sent)
        {
            _stagedCount = 0;
            return true;
        }

        try
        {
            return timeout != TimeSpan.Zero && SendBlocking(ref frame, SocketOptions.ToMilliseconds(timeout));
        }
        catch
        {
            // As above: a message that failed while waiting for room is gone whole, or its first
            // frames would prefix the next message (a ROUTER would route that one by a stale id).
            DiscardStaged();
            throw;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EnterSend()
    {
        if (Interlocked.CompareExchange(ref _sendGate, 1, 0) != 0)
        {
            EnterSendContended();
        }
    }

    private void EnterSendContended()
    {
        var spin = new SpinWait();
        while (Interlocked.CompareExchange(ref _sendGate, 1, 0) != 0)
        {
            spin.SpinOnce();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ExitSend() => Volatile.Write(ref _sendGate, 0);

    private void Stage(ref Msg frame)
    {
        if (_stagedCount == _stagedFrames.Length)
        {
            Array.Resize(ref _stagedFrames, _stagedCount * 2);
        }

        _stagedFrames[_stagedCount++] = Msg.Take(ref frame);
    }

    private void DiscardStaged()
    {
        for (int i = 0; i < _stagedCount; i++)
        {
            _stagedFrames[i].Dispose();
        }

        _stagedCount = 0;
    }

    /// <summary>Waits for room while holding the send gate; commands (new peers, taken-back messages) are applied here.</summary>
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
                if (!PrepareToWaitForRoom())
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

    /// <returns>True when there may be room now (do not wait).</returns>
    private bool PrepareToWaitForRoom()
    {
        EnterSend();
        try
        {
            _sendWaiter.Prepare();
            ApplySendCommands();
            if (_sender!.HasRoom() || IsDisposed)
            {
                _sendWaiter.Cancel();
                return true;
            }

            return false;
        }
        finally
        {
            ExitSend();
        }
    }

    /// <summary>
    /// Applies pending peer commands and routes taken-back messages when the application is not
    /// sending: a departed peer's messages must reach the live peers even if nobody calls Send.
    /// </summary>
    private void ScheduleRescue()
    {
        if (_sender is not null && Interlocked.Exchange(ref _rescueRunning, 1) == 0)
        {
            _ = RescueAsync();
        }
    }

    private async Task RescueAsync()
    {
        int delayMs = 1;
        bool owned = true;
        try
        {
            while (!IsDisposed)
            {
                bool done = false;
                if (Interlocked.CompareExchange(ref _sendGate, 1, 0) == 0)
                {
                    try
                    {
                        ApplySendCommands();
                        done = _sender!.TryFlushRequeued() && Volatile.Read(ref _sendCommandsPending) == 0;
                    }
                    finally
                    {
                        ExitSend();
                    }
                }

                if (done)
                {
                    // Hand the flag back, then look once more: a command enqueued after our look
                    // found the flag still set and started nobody (both sides fence between their
                    // write and their read, so one of them sees the other).
                    Interlocked.Exchange(ref _rescueRunning, 0);
                    if (Volatile.Read(ref _sendCommandsPending) == 0 || Interlocked.CompareExchange(ref _rescueRunning, 1, 0) != 0)
                    {
                        owned = false;
                        return;
                    }

                    continue;
                }

                // The sender holds the gate (it will apply the commands itself) or no peer has room yet.
                await Task.Delay(delayMs).ConfigureAwait(false);
                delayMs = Math.Min(delayMs * 2, 50);
            }
        }
        finally
        {
            if (owned)
            {
                Volatile.Write(ref _rescueRunning, 0);
            }
        }
    }
}
