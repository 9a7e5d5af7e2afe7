using System.Runtime.InteropServices;

namespace Engine.Transport;

/// <summary>
/// One thread per process that waits for socket readiness with epoll and runs what waited for it
/// (libzmq's I/O thread, in .NET terms). Connections arm one-shot interest only while one of their
/// loops actually waits, so a socket that an application thread reads itself (see
/// Session.DirectRead.cs) wakes nobody else when a message arrives.
/// </summary>
/// <remarks>
/// <para>Why not .NET's own socket engine: it registers every socket that ever waited, edge-triggered
/// and for good, and hands each readiness event to a thread-pool worker. A request/reply round trip
/// then wakes an epoll thread and a pool worker on each side for every message, even when the
/// message is read by a thread already waiting in poll(); on a 2-core machine that doubled the
/// round trip (74 µs against 33 µs for a plain blocking socket; with the socket taken out of .NET's
/// epoll set, 43 µs).</para>
/// <para>Continuations run inline on the reactor thread: they are the engine's own connection loops,
/// which never block (application code is always resumed elsewhere, see <see cref="Pipes.Waiter"/>).
/// Readiness is looked up through a slot table keyed by index and generation, so an event that
/// arrives for a connection closed meanwhile finds nothing and is dropped.</para>
/// </remarks>
internal sealed unsafe class Reactor
{
    private const int BatchEvents = 256;

    private static readonly object s_createGate = new();
    private static Reactor? s_shared;

    private readonly int _epoll;
    private readonly object _slotGate = new();
    private readonly Stack<int> _freeSlots = new();
    private ReadinessSignal?[] _slots = new ReadinessSignal?[64];
    private int _slotsUsed;
    private uint _generation;

    private Reactor()
    {
        _epoll = Epoll.Create();
        var thread = new Thread(Run) { IsBackground = true, Name = "engine-reactor" };
        thread.UnsafeStart();
    }

    /// <summary>
    /// True where the reactor runs (Linux), unless ENGINE_SOCKET_REACTOR=off asks for .NET's own
    /// socket engine (for comparisons, or as a way out).
    /// </summary>
    internal static bool IsEnabled { get; } = OperatingSystem.IsLinux()
        && !string.Equals(Environment.GetEnvironmentVariable("ENGINE_SOCKET_REACTOR"), "off", StringComparison.OrdinalIgnoreCase);

    internal static Reactor Shared
    {
        get
        {
            Reactor? reactor = Volatile.Read(ref s_shared);
            if (reactor is not null)
            {
                return reactor;
            }

            lock (s_createGate)
            {
                return s_shared ??= new Reactor();
            }
        }
    }

    /// <summary>Gives <paramref name="signal"/> a key that events carry back to it.</summary>
    internal ulong Register(ReadinessSignal signal)
    {
        lock (_slotGate)
        {
            int index = _freeSlots.Count > 0 ? _freeSlots.Pop() : _slotsUsed++;
            if (index >= _slots.Length)
            {
                var grown = new ReadinessSignal?[_slots.Length * 2];
                Array.Copy(_slots, grown, _slots.Length);
                Volatile.Write(ref _slots, grown);
            }

            // Generation 0 is never handed out, so a zeroed event matches nothing.
            uint generation = ++_generation == 0 ? ++_generation : _generation;
            ulong key = ((ulong)generation << 32) | (uint)index;
            signal.Key = key;
            Volatile.Write(ref _slots[index], signal);
            return key;
        }
    }

    internal void Unregister(ReadinessSignal signal)
    {
        lock (_slotGate)
        {
            int index = (int)(uint)signal.Key;
            if (ReferenceEquals(_slots[index], signal))
            {
                Volatile.Write(ref _slots[index], null);
                _freeSlots.Push(index);
            }
        }
    }

    /// <summary>Asks for one event of <paramref name="events"/> on <paramref name="fd"/>, for <paramref name="signal"/>.</summary>
    /// <param name="fd">The descriptor (each direction of a connection has its own).</param>
    /// <param name="events">EPOLLIN or EPOLLOUT (and friends); made one-shot here.</param>
    /// <param name="signal">What the event fires.</param>
    /// <param name="added">Whether <paramref name="fd"/> already has its entry; set once it has.</param>
    /// <returns>False when epoll refused (the descriptor is gone): the caller should not wait.</returns>
    internal bool Arm(int fd, uint events, ReadinessSignal signal, ref bool added)
    {
        int error = Epoll.Control(_epoll, added ? Epoll.Modify : Epoll.Add, fd, events | Epoll.OneShot, signal.Key);
        if (error == (added ? Epoll.NoEntry : Epoll.Exists))
        {
            error = Epoll.Control(_epoll, added ? Epoll.Add : Epoll.Modify, fd, events | Epoll.OneShot, signal.Key);
        }

        added |= error == 0;
        return error == 0;
    }

    internal void Remove(int fd) => Epoll.Control(_epoll, Epoll.Delete, fd, 0, 0);

    private void Run()
    {
        byte* events = (byte*)NativeMemory.Alloc((nuint)(BatchEvents * Epoll.EventSize));
        while (true)
        {
            int count = Epoll.Wait(_epoll, events, BatchEvents);
            if (count < 0)
            {
                // Only EINTR is expected (a signal handler ran); anything else would repeat forever.
                if (-count != LinuxSocket.Interrupted)
                {
                    Thread.Sleep(1);
                }

                continue;
            }

            ReadinessSignal?[] slots = Volatile.Read(ref _slots);
            for (int i = 0; i < count; i++)
            {
                ulong key = Epoll.DataAt(events, i);
                int index = (int)(uint)key;
                ReadinessSignal? signal = index < slots.Length ? Volatile.Read(ref slots[index]) : null;
                if (signal is not null && signal.Key == key)
                {
                    signal.Fire();
                }
            }
        }
    }
}
