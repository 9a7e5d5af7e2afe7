using Engine.Sockets;
using NetMQ;

namespace Engine.Tests.Interop;

/// <summary>Which end of a pairing listens; the other connects to the endpoint it bound.</summary>
public enum BindingSide
{
    /// <summary>Our socket binds, the peer library connects.</summary>
    Ours,

    /// <summary>The peer library binds, our socket connects.</summary>
    Theirs,
}

/// <summary>Sends whole messages through one library's socket; every call is bounded by a send timeout.</summary>
internal interface IMessageSender
{
    void SendMessage(byte[][] frames);
}

/// <summary>Receives whole messages (all frames up to the one without MORE); throws <see cref="TimeoutException"/> when nothing comes.</summary>
internal interface IMessageReceiver
{
    List<byte[]> ReceiveMessage();
}

/// <summary>Settings shared by every interop test.</summary>
internal static class InteropSettings
{
    /// <summary>How long a single send or receive may wait before the test fails instead of hanging.</summary>
    internal static readonly TimeSpan OperationTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Our bind address: port 0 lets the OS pick a free port; Bind returns the real one.</summary>
    internal const string OurBindAddress = "tcp://127.0.0.1:0";

    /// <summary>libzmq's bind address: '*' is libzmq's "any free port"; ZMQ_LAST_ENDPOINT says which.</summary>
    internal const string LibZmqBindAddress = "tcp://127.0.0.1:*";

    /// <summary>Options for our sockets: bounded waits, and a short linger so teardown after a failure is quick.</summary>
    internal static SocketOptions EngineOptions(int? highWaterMark = null)
    {
        var options = new SocketOptions
        {
            SendTimeout = OperationTimeout,
            ReceiveTimeout = OperationTimeout,
            Linger = TimeSpan.FromSeconds(1),
        };
        if (highWaterMark is int hwm)
        {
            options.SendHighWatermark = hwm;
            options.ReceiveHighWatermark = hwm;
        }

        return options;
    }

    /// <summary>A libzmq socket with both high-water marks set (before bind/connect, which is when libzmq reads them).</summary>
    internal static ZmqSocket CreateLibZmqSocket(ZmqContext context, int type, int? highWaterMark)
    {
        ZmqSocket socket = context.CreateSocket(type);
        if (highWaterMark is int hwm)
        {
            socket.SetOption(LibZmq.ZMQ_SNDHWM, hwm);
            socket.SetOption(LibZmq.ZMQ_RCVHWM, hwm);
        }

        return socket;
    }

    /// <summary>Linger 0 (nothing to wait for at teardown) and both high-water marks, before bind/connect.</summary>
    internal static T Configure<T>(T socket, int? highWaterMark)
        where T : NetMQSocket
    {
        socket.Options.Linger = TimeSpan.Zero;
        if (highWaterMark is int hwm)
        {
            socket.Options.SendHighWatermark = hwm;
            socket.Options.ReceiveHighWatermark = hwm;
        }

        return socket;
    }

    /// <summary>Binds a NetMQ socket to a free loopback port and returns the endpoint to connect to.</summary>
    internal static string BindNetMQ(NetMQSocket socket) => $"tcp://127.0.0.1:{socket.BindRandomPort("tcp://127.0.0.1")}";
}

/// <summary>Our PUSH, through the public convenience API (SendMultipart).</summary>
internal sealed class EngineSender(PushSocket socket) : IMessageSender
{
    public void SendMessage(byte[][] frames) => socket.SendMultipart(frames);
}

/// <summary>Our PULL, through the public convenience API (ReceiveMultipart).</summary>
internal sealed class EngineReceiver(PullSocket socket) : IMessageReceiver
{
    public List<byte[]> ReceiveMessage() => socket.ReceiveMultipart();
}

/// <summary>A libzmq socket, frame by frame with ZMQ_SNDMORE.</summary>
internal sealed class LibZmqSender(ZmqSocket socket) : IMessageSender
{
    public void SendMessage(byte[][] frames)
    {
        for (int i = 0; i < frames.Length; i++)
        {
            socket.Send(frames[i], more: i < frames.Length - 1);
        }
    }
}

/// <summary>A libzmq socket, frame by frame until ZMQ_RCVMORE is off.</summary>
internal sealed class LibZmqReceiver(ZmqSocket socket) : IMessageReceiver
{
    public List<byte[]> ReceiveMessage()
    {
        var frames = new List<byte[]>();
        bool more;
        do
        {
            frames.Add(socket.Receive(out more));
        }
        while (more);

        return frames;
    }
}

/// <summary>A NetMQ socket, frame by frame, each frame bounded by <see cref="InteropSettings.OperationTimeout"/>.</summary>
internal sealed class NetMQSender(NetMQSocket socket) : IMessageSender
{
    public void SendMessage(byte[][] frames)
    {
        for (int i = 0; i < frames.Length; i++)
        {
            if (!socket.TrySendFrame(InteropSettings.OperationTimeout, frames[i], more: i < frames.Length - 1))
            {
                throw new TimeoutException($"NetMQ could not send frame {i} within {InteropSettings.OperationTimeout}.");
            }
        }
    }
}

/// <summary>A NetMQ socket, frame by frame until MORE is off, each frame bounded by <see cref="InteropSettings.OperationTimeout"/>.</summary>
internal sealed class NetMQReceiver(NetMQSocket socket) : IMessageReceiver
{
    public List<byte[]> ReceiveMessage()
    {
        var frames = new List<byte[]>();
        bool more;
        do
        {
            if (!socket.TryReceiveFrameBytes(InteropSettings.OperationTimeout, out byte[]? frame, out more))
            {
                throw new TimeoutException($"NetMQ received nothing within {InteropSettings.OperationTimeout} (after {frames.Count} frame(s) of this message).");
            }

            frames.Add(frame);
        }
        while (more);

        return frames;
    }
}
