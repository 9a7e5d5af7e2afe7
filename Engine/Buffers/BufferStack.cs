namespace Engine.Buffers;

/// <summary>
/// Idle buffers of one kind (64 KiB slabs, or large-frame buffers of one size), kept up to a fixed
/// count for reuse.
/// </summary>
/// <remarks>
/// The slots are allocated once, at their full count, so giving a buffer back never allocates.
/// ObjectPool's DefaultObjectPool, used before, keeps its items in a ConcurrentQueue, which adds a
/// segment (up to 64 KiB of slots) every time more buffers are idle at once than ever before: a
/// 64 KiB stream whose pipes drained further than during its warm-up allocated in steady state.
/// A plain lock is enough: a buffer is taken per slab or per large frame, rare next to copying
/// their bytes.
/// </remarks>
internal sealed class BufferStack
{
    private readonly object _gate = new();
    private readonly MsgBuffer?[] _idle;
    private int _count;

    internal BufferStack(int capacity)
    {
        _idle = new MsgBuffer?[capacity];
    }

    /// <summary>An idle buffer, or null when there is none (the caller makes a new one).</summary>
    internal MsgBuffer? TryTake()
    {
        lock (_gate)
        {
            if (_count == 0)
            {
                return null;
            }

            MsgBuffer buffer = _idle[--_count]!;
            _idle[_count] = null;
            return buffer;
        }
    }

    /// <summary>Keeps <paramref name="buffer"/> for reuse; when the stack is full it is left to the GC.</summary>
    internal void Give(MsgBuffer buffer)
    {
        lock (_gate)
        {
            if (_count < _idle.Length)
            {
                _idle[_count++] = buffer;
            }
        }
    }
}
