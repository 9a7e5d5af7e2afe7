using System.Runtime.InteropServices;

namespace Engine.Transport;

/// <summary>
/// The few Linux calls the <see cref="Reactor"/> needs. "libc" is mapped to the C library by the
/// runtime (glibc and musl alike).
/// </summary>
internal static unsafe class Epoll
{
    internal const uint In = 0x001;
    internal const uint Out = 0x004;
    internal const uint RdHup = 0x2000;
    internal const uint OneShot = 1u << 30;

    internal const int Add = 1;
    internal const int Delete = 2;
    internal const int Modify = 3;

    private const int CloseOnExec = 0x80000;

    internal const int NoEntry = 2;
    internal const int Exists = 17;

    /// <summary>
    /// Size of one struct epoll_event: the kernel packs it on x86-64 (a 4-byte event mask followed
    /// directly by the 8-byte user data) and aligns it everywhere else.
    /// </summary>
    internal static readonly int EventSize = RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.X86 ? 12 : 16;

    private static readonly int s_dataOffset = EventSize - 8;

    [DllImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    private static extern int CreateNative(int flags);

    [DllImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    private static extern int ControlNative(int epoll, int op, int fd, byte* ev);

    [DllImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    private static extern int WaitNative(int epoll, byte* events, int capacity, int timeoutMs);

    internal static int Create()
    {
        int fd = CreateNative(CloseOnExec);
        return fd >= 0 ? fd : throw new InvalidOperationException($"epoll_create1 failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <returns>0, or the errno of the failure.</returns>
    internal static int Control(int epoll, int op, int fd, uint events, ulong data)
    {
        byte* ev = stackalloc byte[16];
        *(uint*)ev = events;
        *(ulong*)(ev + s_dataOffset) = data;
        return ControlNative(epoll, op, fd, op == Delete ? null : ev) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <returns>How many events were written, or minus the errno.</returns>
    internal static int Wait(int epoll, byte* events, int capacity)
    {
        int n = WaitNative(epoll, events, capacity, -1);
        return n >= 0 ? n : -Marshal.GetLastPInvokeError();
    }

    internal static ulong DataAt(byte* events, int index) => *(ulong*)(events + (index * EventSize) + s_dataOffset);

}
