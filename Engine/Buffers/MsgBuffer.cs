using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Engine.Buffers;

/// <summary>
/// A pooled, reference-counted byte array that backs one or more <see cref="Msg"/> frames.
/// </summary>
/// <remarks>
/// Small frames share one slab (many frames per buffer, one reference each); large frames get a
/// buffer of their own. The buffer goes back to <see cref="MsgPool"/> when the last reference is
/// released, so a steady stream of messages allocates nothing.
/// <para>The reference count lives on a cache line of its own: the thread that disposes frames
/// writes it for every frame while the thread that carves new frames from the same slab reads
/// <see cref="Array"/> for every frame. Sharing a line, each of those reads missed the cache (about
/// a sixth of a receive loop's decoding time).</para>
/// </remarks>
[StructLayout(LayoutKind.Explicit)]
internal sealed class MsgBuffer
{
    // read-mostly
    [FieldOffset(0)] private readonly byte[] _array;
    [FieldOffset(8)] private SlabMemoryPool.SegmentOwner? _segment;
    [FieldOffset(16)] private readonly bool _isSlab;

    // written per disposed frame: 64 bytes or more away from the fields above and from the next object
    [FieldOffset(88)] private int _references;
    [FieldOffset(160)] private long _tail;

    internal MsgBuffer(byte[] array, bool isSlab)
    {
        _array = array;
        _isSlab = isSlab;
        _tail = 0;
    }

    /// <summary>The backing bytes, the same for the buffer's whole life; for a dedicated buffer it may be longer than the frame.</summary>
    internal byte[] Array => _array;

    /// <summary>True for the shared 64 KiB slabs, false for a dedicated large-frame buffer.</summary>
    internal bool IsSlab => _isSlab;

    internal int References => Volatile.Read(ref _references);

    /// <summary>True once this buffer has served as a receive segment (frames over it were not copied).</summary>
    internal bool HasServedAsSegment => _segment is not null;

    /// <summary>This buffer as a PipeReader segment (created once, reused with the buffer).</summary>
    internal SlabMemoryPool.SegmentOwner Segment => _segment ??= new SlabMemoryPool.SegmentOwner(this);

    internal void Reset(int references)
    {
        Debug.Assert(Volatile.Read(ref _references) == 0, "a pooled buffer must have no holders");
        _references = references;
    }

    internal void AddReference() => Interlocked.Increment(ref _references);

    /// <summary>Takes <paramref name="count"/> references at once, for an owner that hands them out one by one without atomics.</summary>
    internal void AddReferences(int count) => Interlocked.Add(ref _references, count);

    internal void Release() => Release(1);

    /// <summary>Gives back <paramref name="count"/> references at once (a batch of frames, or unused reservations).</summary>
    internal void Release(int count)
    {
        int left = Interlocked.Add(ref _references, -count);
        if (left == 0)
        {
            MsgPool.Return(this);
        }
        else if (left < 0)
        {
            // A frame was disposed twice through copies of the same Msg value. Refuse to hand the
            // buffer out again, since its bytes may still be read by the other copy.
            Debug.Fail("Msg released more often than it was referenced");
        }
    }
}
