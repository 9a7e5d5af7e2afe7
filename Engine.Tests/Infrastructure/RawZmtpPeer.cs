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
        _listener.ReceiveTimeout = (int)timeout.TotalMilliseconds;
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
        var metadata = new Metadata();
        metadata.Add(Metadata.SocketTypeName, System.Text.Encoding.ASCII.GetBytes(type));
        _connection.Send(Commands.BuildReady(metadata));
        byte[] header = ReadExactly(2);
        ReadExactly(header[1]);
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
