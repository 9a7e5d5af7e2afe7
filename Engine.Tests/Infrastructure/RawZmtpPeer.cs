using System.Net;
using System.Net.Sockets;
using Engine.Wire;

namespace Engine.Tests.Infrastructure;

/// <summary>
/// A hand-driven ZMTP peer on a raw socket: completes a NULL handshake as the given socket type
/// and then does only what the test tells it (for example, nothing at all: a frozen peer).
/// </summary>
internal sealed class RawZmtpPeer : IDisposable
{
    private readonly Socket _listener;
    private Socket? _connection;

    internal RawZmtpPeer()
    {
        _listener = new Socket(AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(4);
        Endpoint = $"tcp://127.0.0.1:{((IPEndPoint)_listener.LocalEndPoint!).Port}";
    }

    internal string Endpoint { get; }

    internal Socket Connection => _connection ?? throw new InvalidOperationException("not accepted yet");

    /// <summary>Accepts one connection and completes the handshake as <paramref name="type"/>.</summary>
    internal void AcceptAndHandshake(string type, TimeSpan timeout)
    {
        AcceptGreetingOnly(timeout);
        FinishHandshake(type, drainCapable: false);
    }

    /// <summary>Accepts one connection and exchanges greetings only: the handshake stays open until <see cref="FinishHandshake"/>.</summary>
    internal Socket AcceptGreetingOnly(TimeSpan timeout)
    {
        var accept = _listener.AcceptAsync();
        if (!accept.Wait(timeout))
        {
            Assert.Fail("no connection to the raw peer");
        }

        _connection = accept.Result;
        _connection.ReceiveTimeout = (int)timeout.TotalMilliseconds;
        var greeting = new byte[Greeting.Size];
        Greeting.Write(greeting, "NULL", asServer: false);
        _connection.Send(greeting);
        ReadExactly(Greeting.Size);
        return _connection;
    }

    /// <summary>Sends READY as <paramref name="type"/> (announcing DRAIN/DRAINED if asked) and reads the peer's READY.</summary>
    internal void FinishHandshake(string type, bool drainCapable)
    {
        var metadata = new Metadata();
        metadata.Add(Metadata.SocketTypeName, System.Text.Encoding.ASCII.GetBytes(type));
        if (drainCapable)
        {
            metadata.Add(Metadata.DrainName, "1"u8.ToArray());
        }

        Connection.Send(Commands.BuildReady(metadata));
        (bool command, _) = ReadFrame();
        Assert.That(command, Is.True, "the peer's READY");
    }

    /// <summary>Reads one frame: whether it is a command, and its body.</summary>
    internal (bool Command, byte[] Body) ReadFrame()
    {
        byte flags = ReadExactly(1)[0];
        long size = (flags & 0x02) != 0 ? (long)System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(ReadExactly(8)) : ReadExactly(1)[0];
        return ((flags & 0x04) != 0, ReadExactly(checked((int)size)));
    }

    /// <summary>Sends a one-frame message (short form).</summary>
    internal void SendMessage(ReadOnlySpan<byte> body)
    {
        var frame = new byte[2 + body.Length];
        frame[1] = checked((byte)body.Length);
        body.CopyTo(frame.AsSpan(2));
        Connection.Send(frame);
    }

    internal byte[] ReadExactly(int count)
    {
        var buffer = new byte[count];
        int read = 0;
        while (read < count)
        {
            int n = Connection.Receive(buffer, read, count - read, SocketFlags.None);
            if (n == 0)
            {
                throw new IOException("peer closed");
            }

            read += n;
        }

        return buffer;
    }

    public void Dispose()
    {
        _connection?.Dispose();
        _listener.Dispose();
    }
}
