using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Engine.Transport;

/// <summary>
/// Reads and writes of the reactor's sockets, as libc calls with per-call flags. Those sockets are
/// blocking at the descriptor (with a receive timeout), and every call that must not wait says so
/// with MSG_DONTWAIT: that lets an application thread that waits for a message block in recv()
/// itself, one system call where a non-blocking socket needs poll() and then recv().
/// </summary>
internal static unsafe class LinuxSocket
{
    private const int DontWait = 0x40;
    private const int NoSignal = 0x4000;
    private const int Again = 11;
    internal const int Interrupted = 4;
    private const int DuplicateCloseOnExec = 1030;
    private const int GetFlags = 3;
    private const int SetFlags = 4;
    private const int NonBlocking = 0x800;
    private const int SocketLevel = 1;
    private const int ReceiveTimeoutOption = 20;

    /// <summary>One piece of memory of a gathered send (struct iovec).</summary>
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
    private static extern nint SendPiecesNative(int fd, MessageHeader* header, int flags);

    [DllImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static extern nint ReceiveNative(int fd, byte* buffer, nuint length, int flags);

    [DllImport("libc", EntryPoint = "send", SetLastError = true)]
    private static extern nint SendNative(int fd, byte* buffer, nuint length, int flags);

    [DllImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static extern int ControlNative(int fd, int command, int argument);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int CloseNative(int fd);

    [DllImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    private static extern int SetOptionNative(int fd, int level, int name, void* value, uint length);

    /// <summary>
    /// Makes the descriptor blocking, with receives that give up after <paramref name="receiveTimeoutMs"/>.
    /// Called once the socket is connected (connecting needs it non-blocking).
    /// </summary>
    internal static void MakeBlocking(int fd, int receiveTimeoutMs)
    {
        int flags = ControlNative(fd, GetFlags, 0);
        if (flags < 0 || ControlNative(fd, SetFlags, flags & ~NonBlocking) < 0)
        {
            throw new SocketException((int)ToSocketError(Marshal.GetLastPInvokeError()));
        }

        // struct timeval { long tv_sec; long tv_usec; } on LP64.
        long* timeout = stackalloc long[2];
        timeout[0] = receiveTimeoutMs / 1000;
        timeout[1] = (receiveTimeoutMs % 1000) * 1000;
        SetOptionNative(fd, SocketLevel, ReceiveTimeoutOption, timeout, 16);
    }

    /// <summary>One receive; <paramref name="wait"/>: block until something comes or the receive timeout passes.</summary>
    /// <returns>Bytes received (0: the end of the stream); WouldBlock when nothing came.</returns>
    internal static int Receive(int fd, Span<byte> buffer, bool wait, out SocketError error)
    {
        fixed (byte* start = buffer)
        {
            while (true)
            {
                nint received = ReceiveNative(fd, start, (nuint)buffer.Length, wait ? 0 : DontWait);
                if (received >= 0)
                {
                    error = SocketError.Success;
                    return (int)received;
                }

                int errno = Marshal.GetLastPInvokeError();
                if (errno == Interrupted && !wait)
                {
                    continue;
                }

                // (A wait cut short by a signal looks like a timeout: the caller looks again.)
                error = errno is Interrupted ? SocketError.WouldBlock : ToSocketError(errno);
                return 0;
            }
        }
    }

    /// <summary>One non-blocking send.</summary>
    /// <returns>Bytes sent; 0 when the socket is full. Other errors throw.</returns>
    internal static int Send(int fd, ReadOnlySpan<byte> bytes)
    {
        fixed (byte* start = bytes)
        {
            while (true)
            {
                nint sent = SendNative(fd, start, (nuint)bytes.Length, DontWait | NoSignal);
                if (sent >= 0)
                {
                    return (int)sent;
                }

                int errno = Marshal.GetLastPInvokeError();
                if (errno == Interrupted)
                {
                    continue;
                }

                SocketError error = ToSocketError(errno);
                return error == SocketError.WouldBlock ? 0 : throw new SocketException((int)error);
            }
        }
    }

    /// <summary>
    /// One non-blocking sendmsg over <paramref name="count"/> pieces of memory: frames leave from
    /// their own buffers, many per system call, without being copied into a write buffer first.
    /// (.NET's gathered Socket.Send takes a list of array segments and handles only a few without
    /// allocating; here the caller hands pointers: slabs are pinned for life, other buffers for the call.)
    /// </summary>
    /// <returns>Bytes sent; 0 when the socket is full. Other errors throw.</returns>
    internal static long SendPieces(int fd, Piece* pieces, int count)
    {
        MessageHeader header = default;
        header.Pieces = pieces;
        header.PieceCount = (nuint)count;
        while (true)
        {
            nint sent = SendPiecesNative(fd, &header, DontWait | NoSignal);
            if (sent >= 0)
            {
                return sent;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno == Interrupted)
            {
                continue;
            }

            SocketError error = ToSocketError(errno);
            return error == SocketError.WouldBlock ? 0 : throw new SocketException((int)error);
        }
    }

    /// <summary>A second descriptor for the same socket (close-on-exec), so that it can have an epoll entry of its own.</summary>
    internal static int Duplicate(int fd) => ControlNative(fd, DuplicateCloseOnExec, 0);

    internal static void Close(int fd) => CloseNative(fd);

    internal static SocketError ToSocketError(int errno) => errno switch
    {
        Again => SocketError.WouldBlock,
        32 => SocketError.Shutdown,
        104 => SocketError.ConnectionReset,
        103 => SocketError.ConnectionAborted,
        107 => SocketError.NotConnected,
        110 => SocketError.TimedOut,
        9 => SocketError.OperationAborted,
        _ => SocketError.SocketError,
    };
}
