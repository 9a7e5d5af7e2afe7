using System.Threading.Tasks.Sources;

namespace Engine.Transport;

/// <summary>
/// One direction (read or write) of one socket: a loop waits on it for the socket to become ready;
/// the reactor, a cancellation or a close fires it. Firing without a waiter does nothing; waking
/// when the socket is not ready after all is allowed (the loop tries its call again and waits
/// again). Allocation-free: one instance serves every wait of its direction.
/// </summary>
internal sealed class ReadinessSignal : IValueTaskSource
{
    private static readonly Action<object?> s_onCanceled = static state => ((ReadinessSignal)state!).Fire();

    // Continuations run where the signal fires: on the reactor thread, that is the point.
    private ManualResetValueTaskSourceCore<bool> _core;
    private int _pending;
    private CancellationTokenRegistration _registration;

    /// <summary>Set by <see cref="Reactor.Register"/>: slot index and generation.</summary>
    internal ulong Key;

    /// <summary>Starts a wait; the caller then arms whatever will fire it.</summary>
    internal ValueTask Begin(CancellationToken cancellationToken)
    {
        _core.Reset();
        Interlocked.Exchange(ref _pending, 1);
        if (cancellationToken.CanBeCanceled)
        {
            // Only handshakes and connects pass tokens: not a per-message cost.
            _registration = cancellationToken.UnsafeRegister(s_onCanceled, this);
        }

        return new ValueTask(this, _core.Version);
    }

    /// <summary>Ends the current wait, if any.</summary>
    internal void Fire()
    {
        if (Volatile.Read(ref _pending) != 0 && Interlocked.Exchange(ref _pending, 0) != 0)
        {
            _core.SetResult(true);
        }
    }

    void IValueTaskSource.GetResult(short token)
    {
        CancellationTokenRegistration registration = _registration;
        _registration = default;
        registration.Dispose();
        _core.GetResult(token);
    }

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
