using System.Buffers;

namespace Engine.Buffers;

/// <summary>
/// The memory pool behind each connection's PipeReader: its segments are <see cref="MsgBuffer"/>s,
/// so a received frame that lies within one segment becomes a <see cref="Msg"/> over those very
/// bytes (one more reference, no copy). The segment returns to <see cref="MsgPool"/> only when
/// the reader and every such frame have let go of it.
/// </summary>
internal sealed class SlabMemoryPool : MemoryPool<byte>
{
    internal static readonly SlabMemoryPool Instance = new();

    public override int MaxBufferSize => Array.MaxLength;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        MsgBuffer buffer = minBufferSize <= MsgPool.SlabSize ? MsgPool.RentSlab() : MsgPool.RentDedicated(minBufferSize);
        return buffer.Segment;
    }

    /// <summary>If <paramref name="memory"/> lies in one of our segments, the segment's buffer and where the bytes start.</summary>
    internal static bool TryLocate(ReadOnlyMemory<byte> memory, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out MsgBuffer? buffer, out int start)
    {
        if (System.Runtime.InteropServices.MemoryMarshal.TryGetMemoryManager(memory, out SegmentOwner? owner, out start, out _))
        {
            buffer = owner.Buffer;
            return true;
        }

        buffer = null;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
    }

    /// <summary>A buffer seen as pipe memory. One per <see cref="MsgBuffer"/>, reused with it.</summary>
    internal sealed class SegmentOwner : MemoryManager<byte>
    {
        internal SegmentOwner(MsgBuffer buffer)
        {
            Buffer = buffer;
        }

        internal MsgBuffer Buffer { get; }

        public override Span<byte> GetSpan() => Buffer.Array;

        public override Memory<byte> Memory => CreateMemory(Buffer.Array.Length);

        public override MemoryHandle Pin(int elementIndex = 0) => throw new NotSupportedException("Segments are never pinned by the pipe.");

        public override void Unpin()
        {
        }

        /// <summary>The PipeReader is done with the segment: drop its reference (frames may hold more).</summary>
        protected override void Dispose(bool disposing) => Buffer.Release();
    }
}
