using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Engine.Transport;

/// <summary>
/// One non-blocking sendmsg over many pieces of memory (Linux): frames leave from their own
/// buffers, many per system call, without being copied into a write buffer first. .NET's gathered
/// Socket.Send takes a list of array segments and handles at most a few without allocating; here
/// the caller hands pointers (slabs are pinned for life, other buffers for the call).
/// </summary>
internal static unsafe class VectorSend
{
    private const int NoSignal = 0x4000;
    private const int DontWait = 0x40;
    private const int Again = 11;
    private const int Interrupted = 4;
    private const int BrokenPipe = 32;
    private const int ResetByPeer = 104;

    [StructLayout(LayoutKind.Sequential)]
    internal struct Piece
    {
        internal byte* Start;
        internal nuint Length;
    }

    // struct msghdr of LP64 Linux (glibc; musl's has the same bytes for counts below 2^32).
    [StructLayout(LayoutKind.Sequential)]
    private struct MessageHeader
    {
        internal void* Name;
        internal uint NameLength;
        internal Piece* Pieces;
        internal nuint PieceCount;
        internal void* Control;
        internal nuint ControlLength;
        internal int Flags;
    }

    [DllImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    private static extern nint SendNative(int fd, MessageHeader* header, int flags);

    /// <summary>Sends what the socket takes now of <paramref name="count"/> pieces.</summary>
    /// <returns>Bytes sent; 0 when the socket is full.</returns>
    internal static long Send(int fd, Piece* pieces, int count)
    {
        MessageHeader header = default;
        header.Pieces = pieces;
        header.PieceCount = (nuint)count;
        while (true)
        {
            nint sent = SendNative(fd, &header, NoSignal | DontWait);
            if (sent >= 0)
            {
                return sent;
            }

            int error = Marshal.GetLastPInvokeError();
            switch (error)
            {
                case Again:
                    return 0;
                case Interrupted:
                    continue;
                case BrokenPipe:
                    throw new SocketException((int)SocketError.Shutdown);
                case ResetByPeer:
                    throw new SocketException((int)SocketError.ConnectionReset);
                default:
                    throw new IOException($"sendmsg failed (errno {error})");
            }
        }
    }
}
