using Engine.Tests.Interop;

namespace Engine.Benchmarks.Implementations;

/// <summary>
/// libzmq 4.3 (Debian's libzmq5) through the test suite's P/Invoke shim: <c>zmq_send</c> from one
/// reused payload buffer and <c>zmq_recv</c> into one reused receive buffer, one I/O thread. One
/// context per process, so that inproc sockets of the same run can find each other.
/// </summary>
internal sealed class LibZmqMessaging : IMessaging
{
    private const int ZMQ_IO_THREADS = 1;
    private const int ZMQ_REQ = 3;
    private const int ZMQ_REP = 4;

    private readonly ZmqContext _context;

    internal LibZmqMessaging()
    {
        _context = new ZmqContext();
        // The default is already 1; set it so the comparison does not depend on a build's default.
        if (LibZmq.zmq_ctx_set(_context.Handle, ZMQ_IO_THREADS, 1) != 0)
        {
            throw ZmqException.Last("zmq_ctx_set(ZMQ_IO_THREADS)");
        }
    }

    public IMessageSink ConnectPush(string endpoint, int maxSize)
    {
        ZmqSocket push = Open(LibZmq.ZMQ_PUSH);
        // The shim's sockets default to linger 0, which would drop whatever is still queued at close.
        push.SetOption(LibZmq.ZMQ_LINGER, (int)Messaging.Linger.TotalMilliseconds);
        push.Connect(endpoint);
        return new Sink(push, new byte[maxSize]);
    }

    public IMessageSource BindPull(string endpoint, int maxSize, out string bound)
    {
        ZmqSocket pull = Open(LibZmq.ZMQ_PULL);
        bound = pull.Bind(ForLibZmq(endpoint));
        return new Source(pull, new byte[Math.Max(maxSize, 1)]);
    }

    public IRequester ConnectReq(string endpoint, int maxSize)
    {
        ZmqSocket req = Open(ZMQ_REQ);
        req.Connect(endpoint);
        return new Requester(req, new byte[maxSize], new byte[Math.Max(maxSize, 1)]);
    }

    public IReplier BindRep(string endpoint, int maxSize, out string bound)
    {
        ZmqSocket rep = Open(ZMQ_REP);
        rep.SetOption(LibZmq.ZMQ_LINGER, (int)Messaging.Linger.TotalMilliseconds);
        bound = rep.Bind(ForLibZmq(endpoint));
        return new Replier(rep, new byte[Math.Max(maxSize, 1)]);
    }

    /// <summary>Terminates the context: blocks until lingering sockets have sent what they hold.</summary>
    public void Dispose() => _context.Dispose();

    private ZmqSocket Open(int type)
    {
        ZmqSocket socket = _context.CreateSocket(type);
        socket.SetOption(LibZmq.ZMQ_SNDTIMEO, (int)Messaging.Timeout.TotalMilliseconds);
        socket.SetOption(LibZmq.ZMQ_RCVTIMEO, (int)Messaging.Timeout.TotalMilliseconds);
        return socket;
    }

    /// <summary>libzmq spells "any free port" as <c>*</c>; the suite uses the OS's spelling, port 0.</summary>
    private static string ForLibZmq(string endpoint) =>
        endpoint.StartsWith("tcp://", StringComparison.Ordinal) && endpoint.EndsWith(":0", StringComparison.Ordinal)
            ? endpoint[..^1] + "*"
            : endpoint;

    private sealed class Sink(ZmqSocket push, byte[] payload) : IMessageSink
    {
        public void Send(int size) => push.Send(payload.AsSpan(0, size));

        public void Dispose() => push.Dispose();
    }

    private sealed class Source(ZmqSocket pull, byte[] buffer) : IMessageSource
    {
        public TimeSpan Timeout
        {
            set => pull.SetOption(LibZmq.ZMQ_RCVTIMEO, (int)value.TotalMilliseconds);
        }

        public int Receive() => pull.ReceiveInto(buffer, out _);

        public void Dispose() => pull.Dispose();
    }

    private sealed class Requester(ZmqSocket req, byte[] payload, byte[] replyBuffer) : IRequester
    {
        public int Request(int size)
        {
            req.Send(payload.AsSpan(0, size));
            return req.ReceiveInto(replyBuffer, out _);
        }

        public void Dispose() => req.Dispose();
    }

    private sealed class Replier(ZmqSocket rep, byte[] buffer) : IReplier
    {
        public int ReplyOne()
        {
            int size = rep.ReceiveInto(buffer, out _);
            rep.Send(buffer.AsSpan(0, size));
            return size;
        }

        public void Dispose() => rep.Dispose();
    }
}
