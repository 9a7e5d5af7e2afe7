using Engine.Sockets;

namespace Engine.Benchmarks.Implementations;

/// <summary>
/// Our engine through its allocation-free API: <see cref="Msg.Allocate"/> + <c>Send(ref msg)</c> on
/// the way out, <c>Receive()</c> + <see cref="Msg.Dispose"/> on the way in. The payload of an
/// allocated frame is left as the pool hands it out: the engine never needs a copy of user bytes
/// when the user fills the frame in place.
/// </summary>
internal sealed class EngineMessaging : IMessaging
{
    public IMessageSink ConnectPush(string endpoint, int maxSize)
    {
        var push = new PushSocket(new SocketOptions { Linger = Messaging.Linger, SendTimeout = Messaging.Timeout });
        push.Connect(endpoint);
        return new Sink(push);
    }

    public IMessageSource BindPull(string endpoint, int maxSize, out string bound)
    {
        var pull = new PullSocket(new SocketOptions { ReceiveTimeout = Messaging.Timeout });
        bound = pull.Bind(endpoint);
        return new Source(pull);
    }

    public IRequester ConnectReq(string endpoint, int maxSize)
    {
        var req = new ReqSocket(new SocketOptions { SendTimeout = Messaging.Timeout, ReceiveTimeout = Messaging.Timeout, Linger = TimeSpan.Zero });
        req.Connect(endpoint);
        return new Requester(req);
    }

    public IReplier BindRep(string endpoint, int maxSize, out string bound)
    {
        var rep = new RepSocket(new SocketOptions { SendTimeout = Messaging.Timeout, ReceiveTimeout = Messaging.Timeout, Linger = Messaging.Linger });
        bound = rep.Bind(endpoint);
        return new Replier(rep);
    }

    public void Dispose()
    {
    }

    private sealed class Sink(PushSocket push) : IMessageSink
    {
        public void Send(int size)
        {
            Msg frame = Msg.Allocate(size);
            push.Send(ref frame);
        }

        public void Dispose() => push.Dispose();
    }

    private sealed class Source(PullSocket pull) : IMessageSource
    {
        public TimeSpan Timeout
        {
            set => pull.Options.ReceiveTimeout = value;
        }

        public int Receive()
        {
            Msg frame = pull.Receive();
            int size = frame.Length;
            frame.Dispose();
            return size;
        }

        public void Dispose() => pull.Dispose();
    }

    private sealed class Requester(ReqSocket req) : IRequester
    {
        public int Request(int size)
        {
            Msg request = Msg.Allocate(size);
            req.Send(ref request);
            Msg reply = req.Receive();
            int replySize = reply.Length;
            reply.Dispose();
            return replySize;
        }

        public void Dispose() => req.Dispose();
    }

    private sealed class Replier(RepSocket rep) : IReplier
    {
        public int ReplyOne()
        {
            // The request's own frame goes back: an echo needs no new buffer.
            Msg request = rep.Receive();
            int size = request.Length;
            rep.Send(ref request);
            return size;
        }

        public void Dispose() => rep.Dispose();
    }
}
