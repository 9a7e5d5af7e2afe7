using System.Threading.Tasks.Sources;

namespace Engine.Pipes;

/// <summary>
/// Parks one consumer until a producer says there is something to do. Any number of producers
/// may wake it; only one consumer waits at a time.
/// </summary>
/// <remarks>
/// <para>The consumer announces itself with <see cref="Prepare"/>, checks its condition once more,
/// and then waits (or calls <see cref="Cancel"/> if the condition came true). A producer that has
/// just published calls <see cref="Wake"/>, which costs one volatile read when nobody is parked:
/// that is how pipes wake each other only on empty->non-empty and full->not-full transitions.</para>
/// <para>Both the producer's publish and <see cref="Prepare"/> are full fences, so either the
/// consumer's re-check sees the new data or the producer sees the parked flag (no lost wake-up).
/// A wake can arrive after the consumer stopped waiting; the next wait then returns at once and the
/// consumer re-checks: spurious wake-ups are allowed, lost ones are not.</para>
/// <para>The slow path (actually sleeping) takes a lock; the fast path never does.</para>
/// </remarks>
internal sealed class Waiter : IValueTaskSource
{
    private static readonly Action<object?, CancellationToken> s_onCanceled =
        static (state, token) => ((Waiter)state!).OnCanceled(token);

    private readonly object _gate = new();
    private int _parked;
    private bool _signaled;
    private WaitMode _mode;
    private ManualResetValueTaskSourceCore<bool> _core;
    private CancellationTokenRegistration _registration;

    /// <param name="inlineContinuations">
    /// True for waiters of the engine's own connection loops: the waker runs the loop's next steps
    /// itself. When an application thread sends to an idle connection, it then writes to the socket
    /// directly instead of handing the message to another thread (a wake-up round trip costs
    /// ~20 µs here; a send system call ~1 µs). Waiters of application code keep continuations
    /// asynchronous, so no application code ever runs inside the engine's loops.
    /// </param>
    internal Waiter(bool inlineContinuations = false)
    {
        _inlineAllowed = inlineContinuations;
        _core = new ManualResetValueTaskSourceCore<bool> { RunContinuationsAsynchronously = true };
    }

    /// <summary>
    /// A loop that went idle less than this long ago is woken on another thread: it is in a busy
    /// stream, and letting messages pile up while it wakes makes batches (one system call for
    /// many). A loop idle for longer is run inline by the waker: the latency case, one message
    /// and no hand-off. Without this split, inline wake-ups cost one system call per message.
    /// </summary>
    private static readonly long s_inlineAfterIdleTicks = System.Diagnostics.Stopwatch.Frequency / 20_000; // 50 µs

    private readonly bool _inlineAllowed;

    /// <summary>
    /// Run the woken loop inline even right after it parked: for strictly alternating patterns
    /// (REQ, REP), where every send is one message followed by a wait for the answer, so there is
    /// no batch to gain by waiting and the hand-off would sit on the round trip.
    /// </summary>
    internal bool AlwaysInline { get; set; }
    private long _parkedAtTicks;

    private enum WaitMode : byte
    {
        None,
        Sync,
        Async,
    }

    /// <summary>The consumer is about to wait: from now on a producer's <see cref="Wake"/> signals.</summary>
    internal void Prepare() => Interlocked.Exchange(ref _parked, 1);

    /// <summary>The consumer found work after <see cref="Prepare"/> and will not wait.</summary>
    internal void Cancel() => Volatile.Write(ref _parked, 0);

    /// <summary>True while the consumer has announced that it is waiting (one volatile read).</summary>
    internal bool IsParked => Volatile.Read(ref _parked) != 0;

    /// <summary>Signals the consumer if it announced that it is waiting.</summary>
    internal void Wake()
    {
        if (Volatile.Read(ref _parked) != 0 && Interlocked.Exchange(ref _parked, 0) != 0)
        {
            Signal();
        }
    }

    /// <summary>Signals unconditionally: used when a state change (close, attach) must be noticed.</summary>
    internal void Signal()
    {
        bool completeAsync = false;
        lock (_gate)
        {
            switch (_mode)
            {
                case WaitMode.Sync:
                    _signaled = true;
                    Monitor.Pulse(_gate);
                    break;
                case WaitMode.Async:
                    _mode = WaitMode.None;
                    completeAsync = true;
                    _core.RunContinuationsAsynchronously = !_inlineAllowed
                        || (!AlwaysInline && System.Diagnostics.Stopwatch.GetTimestamp() - _parkedAtTicks < s_inlineAfterIdleTicks);
                    break;
                default:
                    _signaled = true;
                    break;
            }
        }

        if (completeAsync)
        {
            _core.SetResult(true);
        }
    }

    /// <summary>Blocks until signaled or until <paramref name="timeoutMs"/> passes (-1 waits forever).</summary>
    /// <returns>False on timeout.</returns>
    internal bool Wait(int timeoutMs)
    {
        lock (_gate)
        {
            try
            {
                if (_signaled)
                {
                    _signaled = false;
                    return true;
                }

                _mode = WaitMode.Sync;
                long deadline = timeoutMs < 0 ? long.MaxValue : Environment.TickCount64 + timeoutMs;
                while (!_signaled)
                {
                    int remaining = timeoutMs < 0 ? Timeout.Infinite : (int)Math.Max(0, deadline - Environment.TickCount64);
                    if (remaining == 0 || !Monitor.Wait(_gate, remaining) && timeoutMs >= 0 && Environment.TickCount64 >= deadline)
                    {
                        break;
                    }
                }

                bool signaled = _signaled;
                _signaled = false;
                return signaled;
            }
            finally
            {
                _mode = WaitMode.None;
                Volatile.Write(ref _parked, 0);
            }
        }
    }

    /// <summary>Completes when signaled; throws <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> fires.</summary>
    internal ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_signaled)
            {
                _signaled = false;
                Volatile.Write(ref _parked, 0);
                return default;
            }

            _core.Reset();
            _mode = WaitMode.Async;
            if (_inlineAllowed)
            {
                _parkedAtTicks = System.Diagnostics.Stopwatch.GetTimestamp();
            }
        }

        if (cancellationToken.CanBeCanceled)
        {
            _registration = cancellationToken.UnsafeRegister(s_onCanceled, this);
        }

        return new ValueTask(this, _core.Version);
    }

    private void OnCanceled(CancellationToken token)
    {
        lock (_gate)
        {
            if (_mode != WaitMode.Async)
            {
                return;
            }

            _mode = WaitMode.None;
        }

        _core.SetException(new OperationCanceledException(token));
    }

    void IValueTaskSource.GetResult(short token)
    {
        _registration.Dispose();
        _registration = default;
        Volatile.Write(ref _parked, 0);
        _core.GetResult(token);
    }

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
