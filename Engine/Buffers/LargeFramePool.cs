using System.Numerics;

namespace Engine.Buffers;

/// <summary>
/// Arrays for frames too large for a slab, pooled by power-of-two size. Each size keeps as many
/// arrays as a steady stream has in flight (up to 256 MiB worth per size, and at most 8192), so a
/// stream of large messages allocates nothing once warm; sizes above 1 MiB are not pooled, so a
/// hostile peer's huge frames are not kept after they are gone.
/// </summary>
/// <remarks>
/// ArrayPool.Shared keeps about 32 arrays per size per core, far fewer than the 2,000 frames two
/// pipes at their default HWM can hold. A plain lock per size is fine here: renting a large frame
/// is rare next to copying its bytes.
/// </remarks>
internal static class LargeFramePool
{
    private const int MinShift = 12;
    private const int MaxShift = 20;
    private const long BytesPerSize = 256L * 1024 * 1024;

    private static readonly Bucket[] s_buckets = CreateBuckets();

    private static Bucket[] CreateBuckets()
    {
        var buckets = new Bucket[MaxShift - MinShift + 1];
        for (int shift = MinShift; shift <= MaxShift; shift++)
        {
            int capacity = (int)Math.Min(8192, BytesPerSize >> shift);
            buckets[shift - MinShift] = new Bucket(1 << shift, capacity);
        }

        return buckets;
    }

    internal static byte[] Rent(int size)
    {
        int shift = Math.Max(MinShift, 32 - BitOperations.LeadingZeroCount((uint)(size - 1)));
        if (shift > MaxShift)
        {
            return GC.AllocateUninitializedArray<byte>(size);
        }

        return s_buckets[shift - MinShift].Rent();
    }

    internal static void Return(byte[] array)
    {
        int length = array.Length;
        if (!BitOperations.IsPow2(length) || length < (1 << MinShift) || length > (1 << MaxShift))
        {
            return;
        }

        s_buckets[BitOperations.Log2((uint)length) - MinShift].Return(array);
    }

    private sealed class Bucket
    {
        private readonly object _gate = new();
        private readonly byte[]?[] _arrays;
        private readonly int _size;
        private int _count;

        internal Bucket(int size, int capacity)
        {
            _size = size;
            _arrays = new byte[capacity][];
        }

        internal byte[] Rent()
        {
            lock (_gate)
            {
                if (_count > 0)
                {
                    byte[] array = _arrays[--_count]!;
                    _arrays[_count] = null;
                    return array;
                }
            }

            return GC.AllocateUninitializedArray<byte>(_size);
        }

        internal void Return(byte[] array)
        {
            lock (_gate)
            {
                if (_count < _arrays.Length)
                {
                    _arrays[_count++] = array;
                }
            }
        }
    }
}
