using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Engine.Buffers;
using Engine.Pipes;
using Engine.Transport;
using Engine.Wire;

namespace Engine.Sessions;

/// <summary>Large frames leave from their own buffers: no copy into the PipeWriter.</summary>
internal sealed partial class Session
{
    /// <summary>
    /// Without gathered sends, frames at least this long are written from their own buffer (header
    /// and body in one system call) instead of being copied into the PipeWriter first: at this size
    /// the copy costs more than the extra call, and the frame alone fills a write anyway.
    /// </summary>
    private const int DirectSendBytes = 32 * 1024;

    /// <summary>
    /// With gathered sends, every frame with a buffer of its own (larger than a slab's share) goes
    /// out from it: the copy into the PipeWriter was the sender's largest cost at 4 KiB (a cold
    /// read of the frame written on the application's core), and a run of such frames leaves in
    /// one system call.
    /// </summary>
    /// <remarks>
    /// Those buffers are pinned for the call (a GC handle each, no allocation). Keeping them on the
    /// pinned object heap instead was tried: receiving 64 KiB frames then ran at half speed, the
    /// copy of a frame's first part into such a buffer being several times slower (likely its
    /// alignment against the receive segment).
    /// </remarks>
    private const int GatherBytes = MsgPool.SmallFrameLimit + 1;

    /// <summary>Frames per gathered send (two pieces each; the kernel takes up to 1024 pieces).</summary>
    private const int MaxGatherFrames = 32;

    private readonly byte[] _directHeader = new byte[FrameCodec.MaxHeaderSize];
    private readonly ArraySegment<byte>[] _directPieces = new ArraySegment<byte>[2];
    private Msg[]? _gathered;
    private GCHandle[]? _gatherPins;
    private byte[]? _gatherHeaders;

    /// <summary>
    /// Sends a large frame straight from its buffer with one non-blocking gathered send; what the
    /// socket did not take now is copied into the PipeWriter, whose flush (next) waits for room.
    /// Only for plain connections, whose socket is non-blocking and written by this loop alone.
    /// </summary>
    /// <returns>Bytes of the frame, header included.</returns>
    private int SendFromFrame(PipeWriter output, ref Msg frame)
    {
        try
        {
            int length = frame._length;
            int header = FrameCodec.HeaderSize(length);
            FrameCodec.WriteHeader(_directHeader, frame._more, command: false, length);
            _directPieces[0] = new ArraySegment<byte>(_directHeader, 0, header);
            _directPieces[1] = new ArraySegment<byte>(frame._buffer!.Array, frame._offset, length);
            int sent = _connection.Socket.Send(_directPieces, SocketFlags.None, out SocketError error);
            if (error == SocketError.WouldBlock)
            {
                sent = 0;
            }
            else if (error != SocketError.Success)
            {
                throw new SocketException((int)error);
            }

            if (sent < header)
            {
                output.Write(_directHeader.AsSpan(sent, header - sent));
                output.Write(frame.Span);
            }
            else if (sent < header + length)
            {
                output.Write(frame.Span[(sent - header)..]);
            }

            return header + length;
        }
        finally
        {
            _directPieces[1] = default;
            frame.Dispose();
        }
    }

    /// <summary>
    /// Sends <paramref name="first"/> and the large frames right behind it in the pipe (a run of
    /// up to <see cref="MaxGatherFrames"/>) with one non-blocking sendmsg straight from their
    /// buffers. What the socket did not take is copied into the PipeWriter, whose flush
    /// (next) waits for room; every frame is released here.
    /// </summary>
    /// <returns>Bytes of the frames, headers included.</returns>
    private unsafe long SendGathered(
        PipeWriter output, MessagePipe outbound, ref Msg first, ref int frames, ref long messages, ref bool midMessage, long budget, int fd)
    {
        Msg[] gathered = _gathered ??= new Msg[MaxGatherFrames];
        GCHandle[] pins = _gatherPins ??= new GCHandle[MaxGatherFrames];
        // Pinned, so that the headers' address can go to the kernel as it is.
        byte[] headers = _gatherHeaders ??= GC.AllocateArray<byte>(MaxGatherFrames * FrameCodec.MaxHeaderSize, pinned: true);
        int count = 0;
        try
        {
            gathered[count++] = first;
            first = default;
            long total = gathered[0]._length;
            while (count < MaxGatherFrames && frames < MaxBatchFrames && total < budget
                && outbound.TryPeek(out int length, out MsgBuffer? buffer) && length >= GatherBytes && buffer is not null
                && outbound.TryRead(out Msg next))
            {
                midMessage = next._more;
                messages += next._more ? 0 : 1;
                frames++;
                total += length;
                gathered[count++] = next;
            }

            LinuxSocket.Piece* pieces = stackalloc LinuxSocket.Piece[2 * MaxGatherFrames];
            byte* headerBase = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(headers));
            total = 0;
            for (int i = 0; i < count; i++)
            {
                ref Msg frame = ref gathered[i];
                byte* header = headerBase + (i * FrameCodec.MaxHeaderSize);
                int headerSize = FrameCodec.HeaderSize(frame._length);
                FrameCodec.WriteHeader(new Span<byte>(header, headerSize), frame._more, command: false, frame._length);
                pieces[2 * i] = new LinuxSocket.Piece { Start = header, Length = (nuint)headerSize };
                MsgBuffer buffer = frame._buffer!;
                if (!buffer.IsSlab)
                {
                    // Slabs live on the pinned object heap; a dedicated buffer is pinned for the call.
                    pins[i] = GCHandle.Alloc(buffer.Array, GCHandleType.Pinned);
                }

                byte* body = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer.Array)) + frame._offset;
                pieces[(2 * i) + 1] = new LinuxSocket.Piece { Start = body, Length = (nuint)frame._length };
                total += headerSize + frame._length;
            }

            long sent = LinuxSocket.SendPieces(fd, pieces, 2 * count);
            if (sent < total)
            {
                // The rest waits in the PipeWriter (copied: the frames are released below).
                for (int i = 0; i < 2 * count; i++)
                {
                    long length = (long)pieces[i].Length;
                    if (sent >= length)
                    {
                        sent -= length;
                        continue;
                    }

                    output.Write(new ReadOnlySpan<byte>(pieces[i].Start + sent, (int)(length - sent)));
                    sent = 0;
                }
            }

            return total;
        }
        finally
        {
            for (int i = 0; i < count; i++)
            {
                if (pins[i].IsAllocated)
                {
                    pins[i].Free();
                }

                gathered[i].Dispose();
                gathered[i] = default;
            }
        }
    }
}
