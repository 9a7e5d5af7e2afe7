namespace Engine.Buffers;

/// <summary>
/// Where every frame buffer comes from and goes back to: 64 KiB slabs for small frames and
/// <see cref="LargeFramePool"/> buffers for large ones.
/// </summary>
internal static class MsgPool
{
    /// <summary>Frames up to this size share a slab; larger ones get a dedicated buffer.</summary>
    internal const int SmallFrameLimit = 2048;

    internal const int SlabSize = 64 * 1024;

    // Sized for what is in flight, not per core: received frames are views that keep their 64 KiB
    // slab alive while queued (HWM 1000 per pipe). Too small a pool turned most large messages into
    // fresh allocations.
    private static readonly BufferStack s_slabs = new(1024);

    /// <summary>A slab with one reference, held by the allocator that carves frames from it.</summary>
    internal static MsgBuffer RentSlab()
    {
        MsgBuffer slab = s_slabs.TryTake() ?? new MsgBuffer(GC.AllocateUninitializedArray<byte>(SlabSize, pinned: true), isSlab: true);
        slab.Reset(1);
        return slab;
    }

    /// <summary>A buffer of at least <paramref name="size"/> bytes with one reference (the frame's).</summary>
    internal static MsgBuffer RentDedicated(int size)
    {
        MsgBuffer buffer = LargeFramePool.Rent(size);
        buffer.Reset(1);
        return buffer;
    }

    internal static void Return(MsgBuffer buffer)
    {
        if (buffer.IsSlab)
        {
            s_slabs.Give(buffer);
            return;
        }

        LargeFramePool.Return(buffer);
    }
}
