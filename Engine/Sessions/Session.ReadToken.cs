using Engine.Pipes;

namespace Engine.Sessions;

/// <summary>
/// Who may read and decode a plain connection's socket right now (see Session.DirectRead.cs):
/// free, the receive loop, an application thread inside a direct read, an application thread
/// holding a lease between receives, or nobody any more (closed). All decoding state is touched
/// only by the holder; every change of holder is an interlocked operation (a full fence).
/// </summary>
internal sealed partial class Session
{
    private const int ReadFree = 0;
    private const int ReadByLoop = 1;
    private const int ReadByApplication = 2;
    private const int ReadLeased = 3;
    private const int ReadClosed = 4;

    /// <summary>How long an unused lease lasts before the loop reads the socket again.</summary>
    private const int LeaseTimeoutMs = 10;

    /// <summary>
    /// How often a held lease is looked at. Every tick wakes .NET's timer thread and a pool worker
    /// (which spins before it sleeps again): at 2 ms that was most of a ponger's spare CPU, so the
    /// look is rare; an unused lease lasts 10-35 ms, while bytes wait in the kernel.
    /// </summary>
    private const int LeaseCheckMs = 25;

    private int _readOwner;

    /// <summary>1 while the receive loop waits for the socket to become readable (see <see cref="OnTokenFreed"/>).</summary>
    private int _loopWaitsForInput;

    /// <summary>Parks the receive loop (or the closing session) while an application thread holds the read token.</summary>
    private readonly Waiter _readTokenWaiter = new(inlineContinuations: true);
    private int _closeWaiting;
    private long _leaseLeftTicks;
    private Timer? _leaseTimer;
    private int _leaseTimerRunning;

    /// <summary>True while the application holds the read token as a lease (for tests).</summary>
    internal bool IsLeasedToApplication => Volatile.Read(ref _readOwner) == ReadLeased;

    /// <summary>The application stops reading this socket itself (it is about to wait asynchronously).</summary>
    internal void EndLease()
    {
        if (Interlocked.CompareExchange(ref _readOwner, ReadFree, ReadLeased) == ReadLeased)
        {
            OnTokenFreed();
        }
    }

    /// <summary>
    /// The token was just given back by someone other than the loop: wake the loop if it waits for
    /// the token, and also if it waits for the socket while bytes already read wait to be decoded.
    /// </summary>
    /// <remarks>
    /// An application thread that read a burst bigger than the receive HWM keeps the rest
    /// undecoded (<see cref="_stoppedAtHwm"/>; part of a frame waiting for more bytes is not a
    /// reason: waking for it would spin). The loop may be waiting for readability that never
    /// comes: with one-shot, level-triggered interest, a burst the application drained before the
    /// reactor looked raises no event. The loop makes the same check after it starts waiting (see
    /// <see cref="WaitForInputAsync"/>): this side frees the token and then looks at the wait,
    /// that side starts the wait and then looks at the token, so one of them sees the other.
    /// <para>Only a loop that is waiting for readability is interrupted (<see cref="_loopWaitsForInput"/>):
    /// one that waits for the token is woken by the waiter above. Over .NET's socket engine an
    /// interrupt cancels a receive, which costs a new cancellation source and operation, and an
    /// application draining a stream held at its HWM frees the token often.</para>
    /// </remarks>
    private void OnTokenFreed()
    {
        _readTokenWaiter.Wake();
        if (_stoppedAtHwm && Volatile.Read(ref _loopWaitsForInput) != 0)
        {
            _connection.InterruptReadableWait();
        }
    }

    /// <summary>The loop, having given the token back: waits until the socket is readable, or bytes already read wait to be decoded.</summary>
    /// <remarks>The caller clears <see cref="_loopWaitsForInput"/> once the wait has ended.</remarks>
    private ValueTask WaitForInputAsync()
    {
        // Set before the look at the token below (a full fence): whoever frees the token after
        // that look sees the flag and interrupts; whoever freed it before, the look sees.
        Interlocked.Exchange(ref _loopWaitsForInput, 1);
        ValueTask readable = _connection.WaitReadableAsync();
        if (_stoppedAtHwm && Volatile.Read(ref _readOwner) == ReadFree)
        {
            _connection.InterruptReadableWait();
        }

        return readable;
    }

    private bool TryTakeRead(int owner) => Interlocked.CompareExchange(ref _readOwner, owner, ReadFree) == ReadFree;

    private void ReleaseRead() => Interlocked.CompareExchange(ref _readOwner, ReadFree, ReadByLoop);

    /// <summary>The application holds the socket: park until it gives it back (or the lease runs out). False once closed.</summary>
    private async ValueTask<bool> WaitForReadTokenAsync(Peer peer)
    {
        while (true)
        {
            _readTokenWaiter.Prepare();
            if (TryTakeRead(ReadByLoop))
            {
                _readTokenWaiter.Cancel();
                return true;
            }

            if (Volatile.Read(ref _readOwner) == ReadClosed || _connection.IsAborted)
            {
                _readTokenWaiter.Cancel();
                return false;
            }

            await _readTokenWaiter.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>After both loops ended: waits until no application thread is inside a direct read, then bars new ones.</summary>
    private async ValueTask CloseReadingAsync()
    {
        Interlocked.Exchange(ref _closeWaiting, 1);
        Peer? peer = _peer;
        while (true)
        {
            _readTokenWaiter.Prepare();
            int state = Volatile.Read(ref _readOwner);
            if (state != ReadByApplication && Interlocked.CompareExchange(ref _readOwner, ReadClosed, state) == state)
            {
                _readTokenWaiter.Cancel();
                break;
            }

            await _readTokenWaiter.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        }

        Timer? timer = _leaseTimer;
        if (timer is not null)
        {
            await timer.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void StartLeaseTimer()
    {
        if (Interlocked.Exchange(ref _leaseTimerRunning, 1) != 0)
        {
            return;
        }

        Timer timer = _leaseTimer ??= new Timer(static state => ((Session)state!).OnLeaseTimer(), this, Timeout.Infinite, Timeout.Infinite);
        try
        {
            timer.Change(LeaseCheckMs, LeaseCheckMs);
        }
        catch (ObjectDisposedException)
        {
            // The session closed meanwhile; nothing left to watch.
        }
    }

    /// <summary>Takes back a lease the application has not used for a while, so the loop reads again.</summary>
    private void OnLeaseTimer()
    {
        int state = Volatile.Read(ref _readOwner);
        if (state == ReadByApplication)
        {
            return;
        }

        if (state == ReadLeased)
        {
            if (Environment.TickCount64 - Volatile.Read(ref _leaseLeftTicks) < LeaseTimeoutMs
                || Interlocked.CompareExchange(ref _readOwner, ReadFree, ReadLeased) != ReadLeased)
            {
                return;
            }

            OnTokenFreed();
        }

        // Nobody holds a lease: stop ticking, then say so, then look again, in case the application
        // took one between our look and the stop (both sides write before they read, so one of
        // them sees it). The stop comes before the flag: the other way round, an application
        // that started the timer in between had it stopped by us, and our look found the flag
        // still set by it and started nothing, leaving leases unwatched for good.
        try
        {
            _leaseTimer?.Change(Timeout.Infinite, Timeout.Infinite);
        }
        catch (ObjectDisposedException)
        {
            return;
        }

        Interlocked.Exchange(ref _leaseTimerRunning, 0);
        state = Volatile.Read(ref _readOwner);
        if (state is ReadByApplication or ReadLeased)
        {
            StartLeaseTimer();
        }
    }
}
