using NetMQ;
using NetMQ.Sockets;

namespace Engine.Benchmarks.Implementations;

// Inside the namespace: Engine.Msg would otherwise win the lookup.
using Msg = NetMQ.Msg;

/// <summary>
/// NetMQ 4.0 through its allocation-free <see cref="Msg"/> API: <c>InitPool</c> + <c>TrySend(ref msg)</c>
/// out, <c>TryReceive(ref msg)</c> + <c>Close</c> in.
/// </summary>
/// <remarks>
/// NetMQ's buffer pool stays its default (the garbage collector: a new array per frame). Its pooled
/// alternative (<c>BufferPool.SetBufferManagerBufferPool</c>) was tried on this machine: 16 B
/// throughput fell from 0.73 M to 0.48 M msgs/s, and in one run of three the receiver never got the
/// run's last message. The rival runs in its fastest correct configuration.
/// </remarks>
internal sealed class NetMQMessaging : IMessaging
{
    private bool _disposed;

    public IMessageSink ConnectPush(string endpoint, int maxSize)
    {
        var push = new PushSocket();
        push.Options.Linger = Messaging.Linger;
        push.Connect(endpoint);
        return new Sink(push);
    }

    public IMessageSource BindPull(string endpoint, int maxSize, out string bound)
    {
        var pull = new PullSocket();
        bound = Bind(pull, endpoint);
        return new Source(pull);
    }

    public IRequester ConnectReq(string endpoint, int maxSize)
    {
        var req = new RequestSocket();
        req.Connect(endpoint);
        return new Requester(req);
    }

    public IReplier BindRep(string endpoint, int maxSize, out string bound)
    {
        var rep = new ResponseSocket();
        rep.Options.Linger = Messaging.Linger;
        bound = Bind(rep, endpoint);
        return new Replier(rep);
    }

    /// <summary>Stops NetMQ's I/O thread, after lingering sockets have sent what they hold.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            NetMQConfig.Cleanup(block: true);
        }
    }

    /// <summary>NetMQ picks a free port with BindRandomPort rather than port 0.</summary>
    private static string Bind(NetMQSocket socket, string endpoint)
    {
        const string AnyPortSuffix = ":0";
        if (endpoint.StartsWith("tcp://", StringComparison.Ordinal) && endpoint.EndsWith(AnyPortSuffix, StringComparison.Ordinal))
        {
            string host = endpoint[..^AnyPortSuffix.Length];
            int port = socket.BindRandomPort(host);
            return $"{host}:{port}";
        }

        socket.Bind(endpoint);
        return endpoint;
    }

    private static void Create(ref Msg msg, int size)
    {
        if (size == 0)
        {
            msg.InitEmpty();
        }
        else
        {
            msg.InitPool(size);
        }
    }

    private sealed class Sink(PushSocket push) : IMessageSink
    {
        private Msg _msg;

        public void Send(int size)
        {
            Create(ref _msg, size);
            if (!push.TrySend(ref _msg, Messaging.Timeout, more: false))
            {
                throw new TimeoutException($"NetMQ could not send within {Messaging.Timeout}.");
            }

            _msg.Close();
        }

        public void Dispose() => push.Dispose();
    }

    private sealed class Source(PullSocket pull) : IMessageSource
    {
        private Msg _msg;
        private TimeSpan _timeout = Messaging.Timeout;

        public TimeSpan Timeout
        {
            set => _timeout = value;
        }

        public int Receive()
        {
            _msg.InitEmpty();
            if (!pull.TryReceive(ref _msg, _timeout))
            {
                throw new TimeoutException($"NetMQ received nothing within {_timeout}.");
            }

            int size = _msg.Size;
            _msg.Close();
            return size;
        }

        public void Dispose() => pull.Dispose();
    }

    private sealed class Requester(RequestSocket req) : IRequester
    {
        private Msg _msg;

        public int Request(int size)
        {
            Create(ref _msg, size);
            if (!req.TrySend(ref _msg, Messaging.Timeout, more: false))
            {
                throw new TimeoutException($"NetMQ could not send within {Messaging.Timeout}.");
            }

            _msg.Close();
            _msg.InitEmpty();
            if (!req.TryReceive(ref _msg, Messaging.Timeout))
            {
                throw new TimeoutException($"NetMQ received no reply within {Messaging.Timeout}.");
            }

            int replySize = _msg.Size;
            _msg.Close();
            return replySize;
        }

        public void Dispose() => req.Dispose();
    }

    private sealed class Replier(ResponseSocket rep) : IReplier
    {
        private Msg _msg;

        public int ReplyOne()
        {
            _msg.InitEmpty();
            if (!rep.TryReceive(ref _msg, Messaging.Timeout))
            {
                throw new TimeoutException($"NetMQ received no request within {Messaging.Timeout}.");
            }

            // The request's own frame goes back, as libzmq's echo does.
            int size = _msg.Size;
            if (!rep.TrySend(ref _msg, Messaging.Timeout, more: false))
            {
                throw new TimeoutException($"NetMQ could not reply within {Messaging.Timeout}.");
            }

            _msg.Close();
            return size;
        }

        public void Dispose() => rep.Dispose();
    }
}
