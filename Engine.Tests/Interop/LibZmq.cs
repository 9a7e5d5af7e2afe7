using System.Runtime.InteropServices;

namespace Engine.Tests.Interop;

// A minimal P/Invoke binding of the system libzmq (libzmq5, 4.3.x), used as the reference peer in
// the interop tests and as the rival in the benchmarks. It is deliberately self-contained (no test
// framework, no Engine types) so that the benchmark project can link this one file.

/// <summary>The raw libzmq C API: entry points and the constants the wrappers need.</summary>
internal static unsafe class LibZmq
{
    // The soname, not "libzmq": Debian's runtime package ships only libzmq.so.5 (the unversioned
    // name comes with libzmq3-dev, which a test machine should not need).
    private const string Library = "libzmq.so.5";

    // Socket types (zmq.h).
    internal const int ZMQ_PAIR = 0;
    internal const int ZMQ_PUB = 1;
    internal const int ZMQ_SUB = 2;
    internal const int ZMQ_REQ = 3;
    internal const int ZMQ_REP = 4;
    internal const int ZMQ_DEALER = 5;
    internal const int ZMQ_ROUTER = 6;
    internal const int ZMQ_PULL = 7;
    internal const int ZMQ_PUSH = 8;
    internal const int ZMQ_XPUB = 9;
    internal const int ZMQ_XSUB = 10;

    // Socket options (zmq.h).
    internal const int ZMQ_ROUTING_ID = 5;
    internal const int ZMQ_SUBSCRIBE = 6;
    internal const int ZMQ_UNSUBSCRIBE = 7;
    internal const int ZMQ_SNDBUF = 11;
    internal const int ZMQ_RCVBUF = 12;
    internal const int ZMQ_RCVMORE = 13;
    internal const int ZMQ_LINGER = 17;
    internal const int ZMQ_SNDHWM = 23;
    internal const int ZMQ_RCVHWM = 24;
    internal const int ZMQ_RCVTIMEO = 27;
    internal const int ZMQ_SNDTIMEO = 28;
    internal const int ZMQ_LAST_ENDPOINT = 32;
    internal const int ZMQ_PLAIN_SERVER = 44;
    internal const int ZMQ_PLAIN_USERNAME = 45;
    internal const int ZMQ_PLAIN_PASSWORD = 46;
    internal const int ZMQ_CURVE_SERVER = 47;
    internal const int ZMQ_CURVE_PUBLICKEY = 48;
    internal const int ZMQ_CURVE_SECRETKEY = 49;
    internal const int ZMQ_CURVE_SERVERKEY = 50;
    internal const int ZMQ_MECHANISM = 43;
    internal const int ZMQ_ROUTER_MANDATORY = 33;
    internal const int ZMQ_XPUB_VERBOSE = 40;

    // Context options (zmq.h).
    internal const int ZMQ_BLOCKY = 70;

    // Send and receive flags (zmq.h).
    internal const int ZMQ_DONTWAIT = 1;
    internal const int ZMQ_SNDMORE = 2;

    // errno values libzmq reports through zmq_errno (Linux numbering).
    internal const int EINTR = 4;
    internal const int EAGAIN = 11;
    internal const int EHOSTUNREACH = 113;

    /// <summary>sizeof(zmq_msg_t) in libzmq 4.x: an opaque 64-byte, pointer-aligned block.</summary>
    internal const int ZmqMsgSize = 64;

    [DllImport(Library)] internal static extern IntPtr zmq_ctx_new();
    [DllImport(Library)] internal static extern int zmq_ctx_term(IntPtr context);
    [DllImport(Library)] internal static extern int zmq_ctx_set(IntPtr context, int option, int value);
    [DllImport(Library)] internal static extern IntPtr zmq_socket(IntPtr context, int type);
    [DllImport(Library)] internal static extern int zmq_close(IntPtr socket);
    [DllImport(Library)] internal static extern int zmq_setsockopt(IntPtr socket, int option, void* value, nuint size);
    [DllImport(Library)] internal static extern int zmq_getsockopt(IntPtr socket, int option, void* value, nuint* size);

    [DllImport(Library, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    internal static extern int zmq_bind(IntPtr socket, string endpoint);

    [DllImport(Library, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    internal static extern int zmq_connect(IntPtr socket, string endpoint);

    [DllImport(Library)] internal static extern int zmq_send(IntPtr socket, void* buffer, nuint length, int flags);
    [DllImport(Library)] internal static extern int zmq_recv(IntPtr socket, void* buffer, nuint length, int flags);
    [DllImport(Library)] internal static extern int zmq_msg_init(IntPtr message);
    [DllImport(Library)] internal static extern int zmq_msg_recv(IntPtr message, IntPtr socket, int flags);
    [DllImport(Library)] internal static extern IntPtr zmq_msg_data(IntPtr message);
    [DllImport(Library)] internal static extern nuint zmq_msg_size(IntPtr message);
    [DllImport(Library)] internal static extern int zmq_msg_more(IntPtr message);
    [DllImport(Library)] internal static extern int zmq_msg_close(IntPtr message);

    [DllImport(Library, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    internal static extern IntPtr zmq_msg_gets(IntPtr message, string property);

    [DllImport(Library)] internal static extern int zmq_errno();
    [DllImport(Library)] internal static extern IntPtr zmq_strerror(int errnum);
    [DllImport(Library)] internal static extern int zmq_curve_keypair(byte* z85PublicKey, byte* z85SecretKey);
    [DllImport(Library)] internal static extern void zmq_version(out int major, out int minor, out int patch);

    /// <summary>The loaded library's version, e.g. 4.3.4 (also proves the library can be loaded).</summary>
    internal static Version Version
    {
        get
        {
            zmq_version(out int major, out int minor, out int patch);
            return new Version(major, minor, patch);
        }
    }

    /// <summary>libzmq's text for an error number.</summary>
    internal static string StrError(int errno) => Marshal.PtrToStringAnsi(zmq_strerror(errno)) ?? $"errno {errno}";
}

/// <summary>A libzmq call failed; carries zmq_errno and zmq_strerror's text.</summary>
internal sealed class ZmqException : Exception
{
    internal ZmqException(string operation, int errno)
        : base($"{operation} failed: {LibZmq.StrError(errno)} (errno {errno})")
    {
        Errno = errno;
    }

    internal int Errno { get; }

    /// <summary>Throws for the error libzmq just reported on this thread.</summary>
    internal static ZmqException Last(string operation) => new(operation, LibZmq.zmq_errno());
}

/// <summary>
/// One libzmq context. Created non-blocky (ZMQ_BLOCKY = 0) so that terminating it never waits for
/// unsent messages; dispose every <see cref="ZmqSocket"/> first, or <c>zmq_ctx_term</c> blocks.
/// </summary>
internal sealed class ZmqContext : IDisposable
{
    private IntPtr _handle;

    internal ZmqContext()
    {
        _handle = LibZmq.zmq_ctx_new();
        if (_handle == IntPtr.Zero)
        {
            throw ZmqException.Last("zmq_ctx_new");
        }

        // Sockets of a non-blocky context default to linger 0: a test that fails half-way cannot
        // leave zmq_ctx_term waiting forever for a peer that will never read.
        if (LibZmq.zmq_ctx_set(_handle, LibZmq.ZMQ_BLOCKY, 0) != 0)
        {
            throw ZmqException.Last("zmq_ctx_set(ZMQ_BLOCKY)");
        }
    }

    internal IntPtr Handle => _handle != IntPtr.Zero ? _handle : throw new ObjectDisposedException(nameof(ZmqContext));

    /// <summary>A new socket of a libzmq socket type (<see cref="LibZmq.ZMQ_PUSH"/>, <see cref="LibZmq.ZMQ_PULL"/>...).</summary>
    internal ZmqSocket CreateSocket(int type) => new(this, type);

    public void Dispose()
    {
        if (_handle == IntPtr.Zero)
        {
            return;
        }

        // zmq_ctx_term may be interrupted by a signal before it is done; it must then be called again.
        while (LibZmq.zmq_ctx_term(_handle) != 0)
        {
            int errno = LibZmq.zmq_errno();
            if (errno != LibZmq.EINTR)
            {
                throw new ZmqException("zmq_ctx_term", errno);
            }
        }

        _handle = IntPtr.Zero;
    }
}

/// <summary>
/// One libzmq socket with blocking, timeout-bounded send and receive. Like every libzmq socket it
/// is used by one thread at a time.
/// </summary>
/// <remarks>
/// Send and receive timeouts default to 10 s and linger to 0, so that a peer that never shows up
/// makes a call fail with <see cref="TimeoutException"/> instead of hanging. Frames are received
/// through a zmq_msg_t, so frames of any size (1 MiB and more) come out whole.
/// </remarks>
internal sealed unsafe class ZmqSocket : IDisposable
{
    internal static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private IntPtr _handle;

    // One zmq_msg_t per socket, in native memory: libzmq keeps small frames inside the struct and
    // may point into it, so it must never move (a managed struct could be relocated by the GC).
    private IntPtr _message;

    internal ZmqSocket(ZmqContext context, int type)
    {
        _handle = LibZmq.zmq_socket(context.Handle, type);
        if (_handle == IntPtr.Zero)
        {
            throw ZmqException.Last("zmq_socket");
        }

        _message = (IntPtr)NativeMemory.AlignedAlloc(LibZmq.ZmqMsgSize, 8);
        SetOption(LibZmq.ZMQ_LINGER, 0);
        SetOption(LibZmq.ZMQ_SNDTIMEO, (int)DefaultTimeout.TotalMilliseconds);
        SetOption(LibZmq.ZMQ_RCVTIMEO, (int)DefaultTimeout.TotalMilliseconds);
    }

    private IntPtr Handle => _handle != IntPtr.Zero ? _handle : throw new ObjectDisposedException(nameof(ZmqSocket));

    /// <summary>Sets an int option (ZMQ_LINGER, ZMQ_SNDHWM, ZMQ_RCVHWM, ZMQ_SNDTIMEO, ZMQ_RCVTIMEO...).</summary>
    internal void SetOption(int option, int value)
    {
        if (LibZmq.zmq_setsockopt(Handle, option, &value, sizeof(int)) != 0)
        {
            throw ZmqException.Last($"zmq_setsockopt({option})");
        }
    }

    /// <summary>Sets a binary option (ZMQ_SUBSCRIBE, ZMQ_ROUTING_ID, ZMQ_CURVE_*KEY as 32 raw bytes, ZMQ_PLAIN_*...).</summary>
    internal void SetOption(int option, ReadOnlySpan<byte> value)
    {
        fixed (byte* bytes = value)
        {
            if (LibZmq.zmq_setsockopt(Handle, option, bytes, (nuint)value.Length) != 0)
            {
                throw ZmqException.Last($"zmq_setsockopt({option})");
            }
        }
    }

    /// <summary>Sets a text option as its UTF-8 bytes, without a terminator (libzmq takes the length given).</summary>
    internal void SetOption(int option, string value) => SetOption(option, System.Text.Encoding.UTF8.GetBytes(value));
    /// <summary>Sets ZMQ_RCVTIMEO: how long the next receives may wait.</summary>
    internal void SetReceiveTimeout(TimeSpan timeout) => SetOption(LibZmq.ZMQ_RCVTIMEO, (int)timeout.TotalMilliseconds);

    /// <summary>Reads an int option.</summary>
    internal int GetOption(int option)
    {
        int value = 0;
        nuint size = sizeof(int);
        if (LibZmq.zmq_getsockopt(Handle, option, &value, &size) != 0)
        {
            throw ZmqException.Last($"zmq_getsockopt({option})");
        }

        return value;
    }

    /// <summary>Binds and returns the endpoint as bound (ZMQ_LAST_ENDPOINT), with the real port for <c>tcp://host:*</c>.</summary>
    internal string Bind(string endpoint)
    {
        if (LibZmq.zmq_bind(Handle, endpoint) != 0)
        {
            throw ZmqException.Last($"zmq_bind({endpoint})");
        }

        byte* buffer = stackalloc byte[256];
        nuint size = 256;
        if (LibZmq.zmq_getsockopt(Handle, LibZmq.ZMQ_LAST_ENDPOINT, buffer, &size) != 0)
        {
            throw ZmqException.Last("zmq_getsockopt(ZMQ_LAST_ENDPOINT)");
        }

        // The value is NUL-terminated and size counts the NUL.
        return Marshal.PtrToStringAnsi((IntPtr)buffer) ?? throw new InvalidOperationException("ZMQ_LAST_ENDPOINT is empty.");
    }

    /// <summary>Connects (libzmq connects and reconnects in the background).</summary>
    internal void Connect(string endpoint)
    {
        if (LibZmq.zmq_connect(Handle, endpoint) != 0)
        {
            throw ZmqException.Last($"zmq_connect({endpoint})");
        }
    }

    /// <summary>Sends one frame; <paramref name="more"/> says another frame of the same message follows.</summary>
    /// <exception cref="TimeoutException">No room within ZMQ_SNDTIMEO (no peer, or every peer at its HWM).</exception>
    internal void Send(ReadOnlySpan<byte> data, bool more = false)
    {
        if (!TrySend(data, more))
        {
            throw new TimeoutException($"libzmq could not send within ZMQ_SNDTIMEO ({GetOption(LibZmq.ZMQ_SNDTIMEO)} ms).");
        }
    }

    /// <summary>Sends one frame, waiting up to ZMQ_SNDTIMEO; false when it timed out (EAGAIN).</summary>
    internal bool TrySend(ReadOnlySpan<byte> data, bool more = false)
    {
        int flags = more ? LibZmq.ZMQ_SNDMORE : 0;
        fixed (byte* bytes = data)
        {
            while (LibZmq.zmq_send(Handle, bytes, (nuint)data.Length, flags) < 0)
            {
                int errno = LibZmq.zmq_errno();
                if (errno == LibZmq.EAGAIN)
                {
                    return false;
                }

                // A signal interrupted the wait; nothing was sent, so try again.
                if (errno != LibZmq.EINTR)
                {
                    throw new ZmqException("zmq_send", errno);
                }
            }
        }

        return true;
    }

    /// <summary>Receives one frame of any size and says whether more frames of the same message follow.</summary>
    /// <exception cref="TimeoutException">Nothing arrived within ZMQ_RCVTIMEO.</exception>
    internal byte[] Receive(out bool more)
    {
        if (!TryReceive(out byte[] frame, out more))
        {
            throw new TimeoutException($"libzmq received nothing within ZMQ_RCVTIMEO ({GetOption(LibZmq.ZMQ_RCVTIMEO)} ms).");
        }

        return frame;
    }

    /// <summary>
    /// Receives one frame into <paramref name="buffer"/> without allocating (zmq_recv), for hot loops
    /// such as benchmarks. Returns the frame's real size: when it is larger than the buffer, libzmq
    /// kept only the first buffer.Length bytes.
    /// </summary>
    /// <exception cref="TimeoutException">Nothing arrived within ZMQ_RCVTIMEO.</exception>
    internal int ReceiveInto(Span<byte> buffer, out bool more)
    {
        int size;
        fixed (byte* bytes = buffer)
        {
            while ((size = LibZmq.zmq_recv(Handle, bytes, (nuint)buffer.Length, 0)) < 0)
            {
                int errno = LibZmq.zmq_errno();
                if (errno == LibZmq.EAGAIN)
                {
                    throw new TimeoutException($"libzmq received nothing within ZMQ_RCVTIMEO ({GetOption(LibZmq.ZMQ_RCVTIMEO)} ms).");
                }

                if (errno != LibZmq.EINTR)
                {
                    throw new ZmqException("zmq_recv", errno);
                }
            }
        }

        more = GetOption(LibZmq.ZMQ_RCVMORE) != 0;
        return size;
    }

    /// <summary>Receives one frame, waiting up to ZMQ_RCVTIMEO; false when nothing arrived (EAGAIN).</summary>
    internal bool TryReceive(out byte[] frame, out bool more) => TryReceive(out frame, out more, null, out _);

    /// <summary>
    /// Receives one frame and reads one metadata property of the connection it came from
    /// (zmq_msg_gets: "Socket-Type", "Peer-Address", or any property the peer sent in READY);
    /// null when the peer did not send it.
    /// </summary>
    /// <exception cref="TimeoutException">Nothing arrived within ZMQ_RCVTIMEO.</exception>
    internal byte[] Receive(string property, out string? value, out bool more)
    {
        if (!TryReceive(out byte[] frame, out more, property, out value))
        {
            throw new TimeoutException($"libzmq received nothing within ZMQ_RCVTIMEO ({GetOption(LibZmq.ZMQ_RCVTIMEO)} ms).");
        }

        return frame;
    }

    private bool TryReceive(out byte[] frame, out bool more, string? property, out string? value)
    {
        value = null;
        IntPtr socket = Handle;
        if (LibZmq.zmq_msg_init(_message) != 0)
        {
            throw ZmqException.Last("zmq_msg_init");
        }

        try
        {
            while (LibZmq.zmq_msg_recv(_message, socket, 0) < 0)
            {
                int errno = LibZmq.zmq_errno();
                if (errno == LibZmq.EAGAIN)
                {
                    frame = Array.Empty<byte>();
                    more = false;
                    return false;
                }

                if (errno != LibZmq.EINTR)
                {
                    throw new ZmqException("zmq_msg_recv", errno);
                }
            }

            // zmq_msg_recv returns the size as an int; zmq_msg_size is exact for any size.
            int size = checked((int)LibZmq.zmq_msg_size(_message));
            frame = size == 0 ? Array.Empty<byte>() : new byte[size];
            if (size != 0)
            {
                new ReadOnlySpan<byte>((void*)LibZmq.zmq_msg_data(_message), size).CopyTo(frame);
            }

            more = LibZmq.zmq_msg_more(_message) != 0;
            if (property is not null)
            {
                // The metadata belongs to the message: read it before zmq_msg_close.
                IntPtr text = LibZmq.zmq_msg_gets(_message, property);
                value = text == IntPtr.Zero ? null : Marshal.PtrToStringAnsi(text);
            }

            return true;
        }
        finally
        {
            LibZmq.zmq_msg_close(_message);
        }
    }

    public void Dispose()
    {
        if (_handle != IntPtr.Zero)
        {
            LibZmq.zmq_close(_handle);
            _handle = IntPtr.Zero;
        }

        if (_message != IntPtr.Zero)
        {
            NativeMemory.AlignedFree((void*)_message);
            _message = IntPtr.Zero;
        }
    }
}
