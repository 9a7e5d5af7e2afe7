namespace Engine.Buffers;

/// <summary>
/// Carves small frames out of a 64 KiB slab: one reference count per frame instead of one pool
/// round trip per frame. Not thread-safe: each owner (a socket's sending thread, a connection's
/// receive loop) has its own.
/// </summary>
internal sealed class SlabAllocator
{
    [ThreadStatic]
    private static SlabAllocator? t_current;

    /// <summary>References taken in one go when a slab is started: one per frame it can hold at the least.</summary>
    /// <remarks>
    /// The owner then hands a reference to each frame with a plain decrement of <see cref="_reserved"/>
    /// instead of an atomic increment on a cache line that the consuming thread keeps writing: the
    /// slab's counter is touched by one thread (the consumer) almost all the time.
    /// </remarks>
    private const int Reservation = MsgPool.SlabSize / 8;

    private MsgBuffer? _slab;
    private int _used;
    private int _reserved;

    /// <summary>The allocator of the calling thread, for <see cref="Msg.Copy(ReadOnlySpan{byte}, bool)"/>.</summary>
    internal static SlabAllocator ForCurrentThread => t_current ??= new SlabAllocator();

    /// <summary>A frame of <paramref name="size"/> bytes whose contents the caller fills in.</summary>
    internal Msg Allocate(int size)
    {
        if (size == 0)
        {
            return default;
        }

        if (size > MsgPool.SmallFrameLimit)
        {
            return new Msg(MsgPool.RentDedicated(size), 0, size);
        }

        MsgBuffer? slab = _slab;
        if (slab is null || _used + size > MsgPool.SlabSize)
        {
            slab?.Release(1 + _reserved);
            slab = _slab = MsgPool.RentSlab();
            slab.AddReferences(Reservation);
            _reserved = Reservation;
            _used = 0;
        }

        if (_reserved == 0)
        {
            slab.AddReferences(Reservation);
            _reserved = Reservation;
        }

        _reserved--;
        var msg = new Msg(slab, _used, size);
        // Keep frames 8-byte aligned so that neighbouring frames never share a word.
        _used += (size + 7) & ~7;
        return msg;
    }

    /// <summary>Gives back the slab this allocator holds; frames already carved keep it alive.</summary>
    internal void Release()
    {
        _slab?.Release(1 + _reserved);
        _slab = null;
        _used = 0;
        _reserved = 0;
    }
}
