using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Engine.Wire;

/// <summary>ZMTP frame flag bits (RFC 23/37, "Framing").</summary>
[Flags]
internal enum FrameFlags : byte
{
    None = 0,
    More = 0x01,
    Long = 0x02,
    Command = 0x04,
    Reserved = 0xF8,
}

/// <summary>
/// Encodes and decodes ZMTP frame headers. Pure: no I/O, no allocation, resumable by construction
/// (a header either parses whole or nothing is consumed).
/// </summary>
/// <remarks>
/// <code>
/// short frame: +-------+----------+----------------+
///              | flags | size (1) | body           |
///              +-------+----------+----------------+
/// long frame:  +-------+---------------------+----------------+
///              | flags | size (8, big-endian) | body           |
///              +-------+---------------------+----------------+
/// </code>
/// Bodies of 0..255 bytes use the short form; the size counts only the body.
/// </remarks>
internal static class FrameCodec
{
    internal const int MaxHeaderSize = 9;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int HeaderSize(long bodySize) => bodySize > 255 ? 9 : 2;

    /// <summary>Writes a header for a body of <paramref name="bodySize"/> bytes and returns its length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int WriteHeader(Span<byte> destination, bool more, bool command, long bodySize)
    {
        byte flags = (byte)((more ? 0x01 : 0) | (command ? 0x04 : 0));
        if (bodySize > 255)
        {
            destination[0] = (byte)(flags | 0x02);
            BinaryPrimitives.WriteInt64BigEndian(destination.Slice(1, 8), bodySize);
            return 9;
        }

        destination[1] = (byte)bodySize;
        destination[0] = flags;
        return 2;
    }

    /// <summary>Copies a frame body; bodies of 8 to 16 bytes without a call.</summary>
    /// <remarks>
    /// Span.CopyTo is a call into Memmove whatever the length: for the small frames that streams of
    /// short messages are made of, that call is a good part of encoding or decoding one frame.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void CopyBody(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        int length = source.Length;
        if ((uint)(length - 8) <= 8 && destination.Length >= length)
        {
            // Two 8-byte moves that overlap when the body is shorter than 16.
            ref byte from = ref MemoryMarshal.GetReference(source);
            ref byte to = ref MemoryMarshal.GetReference(destination);
            ulong head = Unsafe.ReadUnaligned<ulong>(ref from);
            ulong tail = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref from, length - 8));
            Unsafe.WriteUnaligned(ref to, head);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref to, length - 8), tail);
            return;
        }

        source.CopyTo(destination);
    }

    /// <summary>
    /// Reads one frame header. On <see cref="OperationStatus.Done"/> the reader has moved past it;
    /// otherwise it has not moved.
    /// </summary>
    internal static OperationStatus TryReadHeader(ref SequenceReader<byte> reader, out FrameFlags flags, out long bodySize, out ProtocolError error)
    {
        error = ProtocolError.None;
        bodySize = 0;
        ReadOnlySpan<byte> span = reader.UnreadSpan;
        if (span.Length >= MaxHeaderSize)
        {
            int consumed = ParseHeader(span, out flags, out bodySize, out error);
            if (consumed < 0)
            {
                return OperationStatus.InvalidData;
            }

            reader.Advance(consumed);
            return OperationStatus.Done;
        }

        Span<byte> copy = stackalloc byte[MaxHeaderSize];
        int available = (int)Math.Min(reader.Remaining, MaxHeaderSize);
        if (available < 2)
        {
            flags = available == 1 && reader.TryPeek(out byte first) ? (FrameFlags)first : FrameFlags.None;
            if (available == 1 && (flags & FrameFlags.Reserved) != 0)
            {
                error = ProtocolError.ReservedFlagsSet;
                return OperationStatus.InvalidData;
            }

            return OperationStatus.NeedMoreData;
        }

        reader.TryCopyTo(copy[..available]);
        flags = (FrameFlags)copy[0];
        if ((flags & FrameFlags.Long) != 0 && available < 9)
        {
            return (flags & FrameFlags.Reserved) != 0 ? Invalid(out error, ProtocolError.ReservedFlagsSet) : OperationStatus.NeedMoreData;
        }

        int length = ParseHeader(copy[..available], out flags, out bodySize, out error);
        if (length < 0)
        {
            return OperationStatus.InvalidData;
        }

        reader.Advance(length);
        return OperationStatus.Done;
    }

    /// <summary>Parses a header from a span holding all of it; returns its length or -1 with an error.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int ParseHeader(ReadOnlySpan<byte> span, out FrameFlags flags, out long bodySize, out ProtocolError error)
    {
        flags = (FrameFlags)span[0];
        error = ProtocolError.None;
        if ((flags & (FrameFlags.Reserved | FrameFlags.Long)) == 0)
        {
            bodySize = span[1];
            if ((flags & (FrameFlags.Command | FrameFlags.More)) == (FrameFlags.Command | FrameFlags.More))
            {
                error = ProtocolError.MoreOnCommand;
                return -1;
            }

            return 2;
        }

        bodySize = 0;
        if ((flags & FrameFlags.Reserved) != 0)
        {
            error = ProtocolError.ReservedFlagsSet;
            return -1;
        }

        if ((flags & (FrameFlags.Command | FrameFlags.More)) == (FrameFlags.Command | FrameFlags.More))
        {
            error = ProtocolError.MoreOnCommand;
            return -1;
        }

        bodySize = BinaryPrimitives.ReadInt64BigEndian(span.Slice(1, 8));
        if (bodySize < 0)
        {
            error = ProtocolError.FrameTooLarge;
            return -1;
        }

        return 9;
    }

    private static OperationStatus Invalid(out ProtocolError error, ProtocolError value)
    {
        error = value;
        return OperationStatus.InvalidData;
    }
}
