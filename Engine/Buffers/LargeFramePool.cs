using System.Numerics;

namespace Engine.Buffers;

/// <summary>
/// Buffers for frames too large for a slab, pooled by power-of-two size with their arrays. Each
/// size keeps as many buffers as a steady stream has in flight (up to 256 MiB worth per size, and
/// at most 8192), so a stream of large messages allocates nothing once warm; sizes above 1 MiB are
/// not pooled, so a hostile peer's huge frames are not kept after they are gone.
/// </summary>
/// <remarks>
/// ArrayPool.Shared keeps about 32 arrays per size per core, far fewer than the 2,000 frames two
/// pipes at their default HWM can hold. A buffer keeps its array for life: one pool operation per
/// frame, and nothing to allocate when it comes back.
/// </remarks>
internal static class LargeFramePool
{
    private const int MinShift = 12;
    private const int MaxShift = 20;
    private const long BytesPerSize = 256L * 1024 * 1024;

    private static readonly BufferStack[] s_buckets = CreateBuckets();

    private static BufferStack[] CreateBuckets()
    {
        var buckets = new BufferStack[MaxShift - MinShift + 1];
        for (int shift = MinShift; shift <= MaxShift; shift++)
        {
            buckets[shift - MinShift] = new BufferStack((int)Math.Min(8192, BytesPerSize >> shift));
        }

        return buckets;
    }

    /// <summary>A buffer with no references whose array holds at least <paramref name="size"/> bytes.</summary>
    internal static MsgBuffer Rent(int size)
    {
        int shift = Math.Max(MinShift, 32 - BitOperations.LeadingZeroCount((uint)(size - 1)));
        if (shift > MaxShift)
        {
            return new MsgBuffer(GC.AllocateUninitializedArray<byte>(size), isSlab: false);
        }

        return s_buckets[shift - MinShift].TryTake()
            ?? new MsgBuffer(GC.AllocateUninitializedArray<byte>(1 << shift), isSlab: false);
    }

    internal static void Return(MsgBuffer buffer)
    {
        int length = buffer.Array.Length;
        if (!BitOperations.IsPow2(length) || length < (1 << MinShift) || length > (1 << MaxShift))
        {
            return;
        }

        s_buckets[BitOperations.Log2((uint)length) - MinShift].Give(buffer);
    }
}
