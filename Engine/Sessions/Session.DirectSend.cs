using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Engine.Wire;

namespace Engine.Sessions;

/// <summary>Large frames leave from their own buffers: no copy into the PipeWriter.</summary>
internal sealed partial class Session
{
    /// <summary>
    /// Frames at least this long are written from their own buffer (header and body gathered into
    /// one system call) instead of being copied into the PipeWriter first: at this size the copy
    /// costs more than the extra call, and the frame alone fills a write anyway.
    /// </summary>
    private const int DirectSendBytes = 32 * 1024;

    private readonly byte[] _directHeader = new byte[FrameCodec.MaxHeaderSize];
    private readonly ArraySegment<byte>[] _directPieces = new ArraySegment<byte>[2];

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
}
