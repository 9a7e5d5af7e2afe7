using System.Text;
using Engine.Sockets;
using NetMQ;

namespace Engine.Tests.Interop;

/// <summary>The foreign library at the other end of an interop test.</summary>
public enum ForeignPeer
{
    /// <summary>libzmq 4.3 through P/Invoke: announces ZMTP 3.1 (subscriptions as SUBSCRIBE/CANCEL commands).</summary>
    LibZmq,

    /// <summary>NetMQ 4.0: announces ZMTP 3.0 (subscriptions as <c>0x01 topic</c> / <c>0x00 topic</c> messages).</summary>
    NetMQ,
}

/// <summary>How the two ends are connected.</summary>
public enum InteropTransport
{
    /// <summary>tcp on 127.0.0.1, ports from the OS.</summary>
    Tcp,

    /// <summary>Unix domain sockets, a fresh path under /tmp per test (libzmq only: NetMQ's ipc is not libzmq's).</summary>
    Ipc,
}

/// <summary>
/// One end of an interop pairing, whatever library it comes from: bind, connect, whole messages
/// in and out, and (for SUB) subscriptions. Every wait is bounded.
/// </summary>
internal interface IPatternSocket : IDisposable
{
    /// <summary>Who this is, for failure messages: "engine REQ", "libzmq ROUTER"...</summary>
    string Name { get; }

    /// <summary>Binds to a fresh local endpoint of <paramref name="transport"/> and returns the endpoint to connect to.</summary>
    string Bind(InteropTransport transport);

    void Connect(string endpoint);

    /// <summary>Sends one whole message; fails with <see cref="TimeoutException"/> when there is no room within the operation timeout.</summary>
    void Send(params byte[][] frames);

    /// <summary>Receives the next whole message, waiting up to <paramref name="timeout"/> for its first frame.</summary>
    bool TryReceive(TimeSpan timeout, out List<byte[]> message);

    /// <summary>SUB only: subscribes to messages starting with <paramref name="topic"/>.</summary>
    void Subscribe(byte[] topic);

    /// <summary>SUB only: removes one subscription.</summary>
    void Unsubscribe(byte[] topic);
}

internal static class PatternSocketExtensions
{
    /// <summary>The next whole message; fails the test when none comes within the operation timeout.</summary>
    internal static List<byte[]> Receive(this IPatternSocket socket)
    {
        if (!socket.TryReceive(InteropSettings.OperationTimeout, out List<byte[]> message))
        {
            throw new TimeoutException($"{socket.Name} received nothing within {InteropSettings.OperationTimeout.TotalSeconds:0} s.");
        }

        return message;
    }

    internal static void Send(this IPatternSocket socket, string text) => socket.Send(Encoding.UTF8.GetBytes(text));

    internal static void Subscribe(this IPatternSocket socket, string topic) => socket.Subscribe(Encoding.UTF8.GetBytes(topic));

    internal static void Unsubscribe(this IPatternSocket socket, string topic) => socket.Unsubscribe(Encoding.UTF8.GetBytes(topic));

    internal static string Text(this byte[] frame) => Encoding.UTF8.GetString(frame);

    internal static byte[] Bytes(this string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>The frames of a message as text, for failure messages.</summary>
    internal static string Describe(this List<byte[]> message) =>
        "[" + string.Join(", ", message.Select(f => f.Length <= 40 ? $"\"{Escape(f)}\"" : $"{f.Length} bytes")) + "]";

    private static string Escape(byte[] frame) =>
        string.Concat(frame.Select(b => b is >= 0x20 and < 0x7f ? ((char)b).ToString() : $"\\x{b:x2}"));
}

/// <summary>Creates sockets of each library and fresh endpoints for each transport.</summary>
internal static class PatternPeers
{
    /// <summary>A fresh Unix domain socket path for one test (short enough for sun_path's 108 bytes).</summary>
    internal static string NewIpcEndpoint() => $"ipc:///tmp/engine-interop-{Guid.NewGuid():N}.sock";

    internal static EnginePatternSocket Engine(MessageSocket socket) => new(socket);

    /// <summary>A foreign socket of the given type; libzmq sockets need <paramref name="context"/>.</summary>
    internal static IPatternSocket Foreign(ForeignPeer peer, SocketType type, ZmqContext? context, Action<ZmqSocket>? configureLibZmq = null, Action<NetMQSocket>? configureNetMQ = null)
    {
        if (peer == ForeignPeer.LibZmq)
        {
            ZmqSocket socket = (context ?? throw new ArgumentNullException(nameof(context))).CreateSocket(LibZmqType(type));
            try
            {
                configureLibZmq?.Invoke(socket);
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            return new LibZmqPatternSocket(socket, type);
        }

        NetMQSocket netmq = type switch
        {
            SocketType.Pair => new NetMQ.Sockets.PairSocket(),
            SocketType.Pub => new NetMQ.Sockets.PublisherSocket(),
            SocketType.Sub => new NetMQ.Sockets.SubscriberSocket(),
            SocketType.XPub => new NetMQ.Sockets.XPublisherSocket(),
            SocketType.XSub => new NetMQ.Sockets.XSubscriberSocket(),
            SocketType.Req => new NetMQ.Sockets.RequestSocket(),
            SocketType.Rep => new NetMQ.Sockets.ResponseSocket(),
            SocketType.Dealer => new NetMQ.Sockets.DealerSocket(),
            SocketType.Router => new NetMQ.Sockets.RouterSocket(),
            SocketType.Push => new NetMQ.Sockets.PushSocket(),
            SocketType.Pull => new NetMQ.Sockets.PullSocket(),
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
        };
        netmq.Options.Linger = TimeSpan.Zero;
        try
        {
            configureNetMQ?.Invoke(netmq);
        }
        catch
        {
            netmq.Dispose();
            throw;
        }

        return new NetMQPatternSocket(netmq, type);
    }

    internal static int LibZmqType(SocketType type) => type switch
    {
        SocketType.Pair => LibZmq.ZMQ_PAIR,
        SocketType.Pub => LibZmq.ZMQ_PUB,
        SocketType.Sub => LibZmq.ZMQ_SUB,
        SocketType.Req => LibZmq.ZMQ_REQ,
        SocketType.Rep => LibZmq.ZMQ_REP,
        SocketType.Dealer => LibZmq.ZMQ_DEALER,
        SocketType.Router => LibZmq.ZMQ_ROUTER,
        SocketType.Pull => LibZmq.ZMQ_PULL,
        SocketType.Push => LibZmq.ZMQ_PUSH,
        SocketType.XPub => LibZmq.ZMQ_XPUB,
        SocketType.XSub => LibZmq.ZMQ_XSUB,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    internal static string WireName(SocketType type) => type switch
    {
        SocketType.XPub => "XPUB",
        SocketType.XSub => "XSUB",
        _ => type.ToString().ToUpperInvariant(),
    };
}

/// <summary>One of our sockets, through the public API only.</summary>
internal sealed class EnginePatternSocket(MessageSocket socket) : IPatternSocket
{
    internal MessageSocket Socket { get; } = socket;

    public string Name => $"engine {PatternPeers.WireName(Socket.Type)}";

    public string Bind(InteropTransport transport) =>
        Socket.Bind(transport == InteropTransport.Tcp ? InteropSettings.OurBindAddress : PatternPeers.NewIpcEndpoint());

    public void Connect(string endpoint) => Socket.Connect(endpoint);

    public void Send(params byte[][] frames) =>
        ((ISendSocket)Socket).SendMultipart(frames);

    public bool TryReceive(TimeSpan timeout, out List<byte[]> message)
    {
        var receiver = (IReceiveSocket)Socket;
        message = new List<byte[]>();
        if (!receiver.TryReceive(out Msg first, timeout))
        {
            return false;
        }

        bool more = first.More;
        message.Add(first.ToArray());
        first.Dispose();
        while (more)
        {
            // The rest of a message arrives with its first frame (messages are atomic).
            message.Add(receiver.ReceiveBytes(out more));
        }

        return true;
    }

    /// <summary>SUB: <see cref="SubSocket.Subscribe(ReadOnlySpan{byte})"/>; XSUB: sends the subscription message <c>0x01 topic</c>.</summary>
    public void Subscribe(byte[] topic) => Update(1, topic);

    /// <summary>SUB: <see cref="SubSocket.Unsubscribe(ReadOnlySpan{byte})"/>; XSUB: sends <c>0x00 topic</c>.</summary>
    public void Unsubscribe(byte[] topic) => Update(0, topic);

    private void Update(byte kind, byte[] topic)
    {
        switch (Socket)
        {
            case SubSocket sub when kind == 1:
                sub.Subscribe(topic);
                break;
            case SubSocket sub:
                sub.Unsubscribe(topic);
                break;
            case XSubSocket xsub:
                xsub.Send([kind, .. topic]);
                break;
            default:
                throw new InvalidOperationException($"{Name} does not subscribe.");
        }
    }

    public void Dispose() => Socket.Dispose();
}

/// <summary>A libzmq socket. Used by one thread at a time, like every libzmq socket.</summary>
internal sealed class LibZmqPatternSocket(ZmqSocket socket, SocketType type) : IPatternSocket
{
    internal ZmqSocket Socket { get; } = socket;

    public string Name => $"libzmq {PatternPeers.WireName(type)}";

    public string Bind(InteropTransport transport) =>
        Socket.Bind(transport == InteropTransport.Tcp ? InteropSettings.LibZmqBindAddress : PatternPeers.NewIpcEndpoint());

    public void Connect(string endpoint) => Socket.Connect(endpoint);

    public void Send(params byte[][] frames)
    {
        for (int i = 0; i < frames.Length; i++)
        {
            Socket.Send(frames[i], more: i < frames.Length - 1);
        }
    }

    public bool TryReceive(TimeSpan timeout, out List<byte[]> message)
    {
        message = new List<byte[]>();
        Socket.SetReceiveTimeout(timeout);
        bool received;
        try
        {
            received = Socket.TryReceive(out byte[] first, out bool more);
            if (received)
            {
                message.Add(first);
                Socket.SetReceiveTimeout(InteropSettings.OperationTimeout);
                while (more)
                {
                    message.Add(Socket.Receive(out more));
                }
            }
        }
        finally
        {
            Socket.SetReceiveTimeout(InteropSettings.OperationTimeout);
        }

        return received;
    }

    public void Subscribe(byte[] topic) => Socket.SetOption(LibZmq.ZMQ_SUBSCRIBE, topic);

    public void Unsubscribe(byte[] topic) => Socket.SetOption(LibZmq.ZMQ_UNSUBSCRIBE, topic);

    public void Dispose() => Socket.Dispose();
}

/// <summary>A NetMQ socket (ZMTP 3.0). Used by one thread at a time.</summary>
internal sealed class NetMQPatternSocket(NetMQSocket socket, SocketType type) : IPatternSocket
{
    internal NetMQSocket Socket { get; } = socket;

    public string Name => $"NetMQ {PatternPeers.WireName(type)}";

    public string Bind(InteropTransport transport)
    {
        if (transport != InteropTransport.Tcp)
        {
            throw new NotSupportedException("NetMQ's ipc is not libzmq's (it is tcp on loopback on every platform); only tcp pairs with NetMQ.");
        }

        return InteropSettings.BindNetMQ(Socket);
    }

    public void Connect(string endpoint) => Socket.Connect(endpoint);

    public void Send(params byte[][] frames) => new NetMQSender(Socket).SendMessage(frames);

    public bool TryReceive(TimeSpan timeout, out List<byte[]> message)
    {
        message = new List<byte[]>();
        if (!Socket.TryReceiveFrameBytes(timeout, out byte[]? first, out bool more))
        {
            return false;
        }

        message.Add(first);
        while (more)
        {
            if (!Socket.TryReceiveFrameBytes(InteropSettings.OperationTimeout, out byte[]? frame, out more))
            {
                throw new TimeoutException($"{Name}: frame {message.Count} of a message did not follow within {InteropSettings.OperationTimeout}.");
            }

            message.Add(frame);
        }

        return true;
    }

    public void Subscribe(byte[] topic) => ((NetMQ.Sockets.SubscriberSocket)Socket).Subscribe(topic);

    public void Unsubscribe(byte[] topic) => ((NetMQ.Sockets.SubscriberSocket)Socket).Unsubscribe(topic);

    public void Dispose() => Socket.Dispose();
}
