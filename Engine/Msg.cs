using System.Runtime.CompilerServices;
using Engine.Buffers;

namespace Engine;

/// <summary>
/// One frame of a message, backed by pooled memory.
/// </summary>
/// <remarks>
/// <para>A <see cref="Msg"/> has exactly one owner. Sending it hands it to the socket (the variable is
/// reset to an empty frame); a received one belongs to the caller, who gives its memory back with
/// <see cref="Dispose"/>. Copying the struct does not copy the bytes: dispose only one of the copies.</para>
/// <para><see cref="More"/> says that another frame of the same message follows. A message is
/// delivered whole or not at all.</para>
/// </remarks>
public struct Msg : IDisposable
{
    internal MsgBuffer? _buffer;
    internal int _offset;
    internal int _length;
    internal bool _more;

    internal Msg(MsgBuffer buffer, int offset, int length)
    {
        _buffer = buffer;
        _offset = offset;
        _length = length;
        _more = false;
    }

    /// <summary>Number of bytes in the frame.</summary>
    public readonly int Length => _length;

    /// <summary>True when the frame holds no bytes (also for a default or disposed value).</summary>
    public readonly bool IsEmpty => _length == 0;

    /// <summary>True when another frame of the same message follows this one.</summary>
    public bool More
    {
        readonly get => _more;
        set => _more = value;
    }

    /// <summary>The frame's bytes. Valid until the frame is sent or disposed.</summary>
    public readonly ReadOnlySpan<byte> Span =>
        _buffer is null ? default : new ReadOnlySpan<byte>(_buffer.Array, _offset, _length);

    /// <summary>The frame's bytes as memory. Valid until the frame is sent or disposed.</summary>
    public readonly ReadOnlyMemory<byte> Memory =>
        _buffer is null ? default : new ReadOnlyMemory<byte>(_buffer.Array, _offset, _length);

    /// <summary>
    /// The frame's bytes for writing, for a frame made with <see cref="Allocate"/> and not yet sent.
    /// </summary>
    public readonly Span<byte> WritableSpan =>
        _buffer is null ? default : new Span<byte>(_buffer.Array, _offset, _length);

    /// <summary>A frame of <paramref name="size"/> uninitialised bytes from the pool; fill it through <see cref="WritableSpan"/>.</summary>
    public static Msg Allocate(int size)
    {
        if (size < 0)
        {
            ThrowNegativeSize(size);
        }

        return SlabAllocator.ForCurrentThread.Allocate(size);
    }

    /// <summary>A pooled frame holding a copy of <paramref name="data"/>.</summary>
    public static Msg Copy(ReadOnlySpan<byte> data, bool more = false)
    {
        Msg msg = SlabAllocator.ForCurrentThread.Allocate(data.Length);
        if (data.Length != 0)
        {
            data.CopyTo(msg.WritableSpan);
        }

        msg._more = more;
        return msg;
    }

    /// <summary>A new array with a copy of the frame's bytes.</summary>
    public readonly byte[] ToArray() => Span.ToArray();

    /// <summary>Gives the frame's memory back to the pool and leaves this value empty.</summary>
    public void Dispose()
    {
        MsgBuffer? buffer = _buffer;
        this = default;
        buffer?.Release();
    }

    /// <summary>Moves the frame out of <paramref name="source"/>, leaving it empty.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Msg Take(ref Msg source)
    {
        Msg taken = source;
        source = default;
        return taken;
    }

    /// <inheritdoc />
    public override readonly string ToString() => $"Msg[{_length} bytes{(_more ? ", more" : "")}]";

    private static void ThrowNegativeSize(int size) =>
        throw new ArgumentOutOfRangeException(nameof(size), size, "A frame size must be 0 or more bytes.");
}
