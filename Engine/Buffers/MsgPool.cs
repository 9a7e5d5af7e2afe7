using Microsoft.Extensions.ObjectPool;

namespace Engine.Buffers;

/// <summary>
/// Where every frame buffer comes from and goes back to: 64 KiB slabs for small frames and
/// <see cref="LargeFramePool"/> arrays for large ones, each wrapped in a pooled <see cref="MsgBuffer"/>.
/// </summary>
internal static class MsgPool
{
    /// <summary>Frames up to this size share a slab; larger ones get a dedicated buffer.</summary>
    internal const int SmallFrameLimit = 2048;

    internal const int SlabSize = 64 * 1024;

    // Sized for what is in flight, not per core: received frames are views that keep their 64 KiB
    // slab alive while queued (HWM 1000 per pipe), and up to a couple of thousand large frames can be
    // in pipes at once. Too small a pool turned most large messages into fresh allocations.
    private static readonly ObjectPool<MsgBuffer> s_slabs =
        new DefaultObjectPool<MsgBuffer>(new SlabPolicy(), 1024);

    private static readonly ObjectPool<MsgBuffer> s_dedicated =
        new DefaultObjectPool<MsgBuffer>(new DedicatedPolicy(), 4096);


    /// <summary>A slab with one reference, held by the allocator that carves frames from it.</summary>
    internal static MsgBuffer RentSlab()
    {
        MsgBuffer slab = s_slabs.Get();
        slab.Reset(1);
        return slab;
    }

    /// <summary>A buffer of at least <paramref name="size"/> bytes with one reference (the frame's).</summary>
    internal static MsgBuffer RentDedicated(int size)
    {
        MsgBuffer buffer = s_dedicated.Get();
        buffer.Array = LargeFramePool.Rent(size);
        buffer.Reset(1);
        return buffer;
    }

    internal static void Return(MsgBuffer buffer)
    {
        if (buffer.IsSlab)
        {
            s_slabs.Return(buffer);
            return;
        }

        LargeFramePool.Return(buffer.Array);
        buffer.Array = System.Array.Empty<byte>();
        s_dedicated.Return(buffer);
    }

    private sealed class SlabPolicy : PooledObjectPolicy<MsgBuffer>
    {
        public override MsgBuffer Create() => new(GC.AllocateUninitializedArray<byte>(SlabSize, pinned: true), isSlab: true);

        public override bool Return(MsgBuffer obj) => true;
    }

    private sealed class DedicatedPolicy : PooledObjectPolicy<MsgBuffer>
    {
        public override MsgBuffer Create() => new(System.Array.Empty<byte>(), isSlab: false);

        public override bool Return(MsgBuffer obj) => true;
    }
}
