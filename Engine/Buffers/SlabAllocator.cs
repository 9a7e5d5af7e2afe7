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

    private MsgBuffer? _slab;
    private int _used;

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
            slab?.Release();
            slab = _slab = MsgPool.RentSlab();
            _used = 0;
        }

        slab.AddReference();
        var msg = new Msg(slab, _used, size);
        // Keep frames 8-byte aligned so that neighbouring frames never share a word.
        _used += (size + 7) & ~7;
        return msg;
    }

    /// <summary>Gives back the slab this allocator holds; frames already carved keep it alive.</summary>
    internal void Release()
    {
        _slab?.Release();
        _slab = null;
        _used = 0;
    }
}
