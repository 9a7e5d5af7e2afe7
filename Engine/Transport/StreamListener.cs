using System.Net;
using System.Net.Sockets;
using Engine.Sessions;
using Engine.Sockets;

namespace Engine.Transport;

/// <summary>
/// A bound tcp or ipc endpoint: accepts connections and starts a session for each until unbound.
/// </summary>
internal sealed class StreamListener
{
    private readonly MessageSocket _owner;
    private readonly Socket _listenSocket;
    private readonly CancellationTokenSource _stop = new();
    private readonly string? _ipcPath;
    private Task _acceptLoop = Task.CompletedTask;

    // Sessions this listener started that have not ended yet (handshaking ones included).
    private int _activeSessions;

    private StreamListener(MessageSocket owner, Socket listenSocket, string boundEndpoint, string requestedEndpoint, string? ipcPath)
    {
        _owner = owner;
        _listenSocket = listenSocket;
        BoundEndpoint = boundEndpoint;
        RequestedEndpoint = requestedEndpoint;
        _ipcPath = ipcPath;
    }

    /// <summary>The endpoint as bound, with the real port (what <c>tcp://*:0</c> turned into).</summary>
    internal string BoundEndpoint { get; }

    /// <summary>The endpoint as the application wrote it.</summary>
    internal string RequestedEndpoint { get; }

    internal static StreamListener Bind(MessageSocket owner, Endpoint endpoint, string requested)
    {
        Socket socket;
        string bound;
        string? ipcPath = null;
        if (endpoint.Transport == TransportKind.Tcp)
        {
            IPAddress address = ResolveBindAddress(endpoint.Host!);
            socket = new Socket(address.AddressFamily, System.Net.Sockets.SocketType.Stream, ProtocolType.Tcp);
            try
            {
                // Not ReuseAddress: two listeners on one port would split its connections silently.
                socket.Bind(new IPEndPoint(address, endpoint.Port));
                socket.Listen(512);
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            var local = (IPEndPoint)socket.LocalEndPoint!;
            string host = local.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{local.Address}]" : local.Address.ToString();
            bound = $"tcp://{host}:{local.Port}";
        }
        else
        {
            ipcPath = endpoint.Address;
            RemoveStaleSocketFile(ipcPath);
            socket = new Socket(AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                socket.Bind(new UnixDomainSocketEndPoint(ipcPath));
                socket.Listen(512);
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            bound = endpoint.ToString();
        }

        var listener = new StreamListener(owner, socket, bound, requested, ipcPath);
        listener._acceptLoop = listener.AcceptLoopAsync();
        return listener;
    }

    private static IPAddress ResolveBindAddress(string host)
    {
        if (host == "*")
        {
            return IPAddress.Any;
        }

        if (IPAddress.TryParse(host, out IPAddress? address))
        {
            return address;
        }

        IPAddress[] addresses = Dns.GetHostAddresses(host);
        return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
            ?? (addresses.Length > 0 ? addresses[0] : throw new ArgumentException($"Cannot bind '{host}': it resolves to no address.", "endpoint"));
    }

    private static void RemoveStaleSocketFile(string path)
    {
        // libzmq does the same: a socket file left by a dead process would make bind fail forever.
        if (File.Exists(path))
        {
            File.Delete(path);
        }
    }

    private async Task AcceptLoopAsync()
    {
        _owner.Monitor.Raise(MonitorEventKind.Listening, BoundEndpoint);
        while (!_stop.IsCancellationRequested)
        {
            Socket accepted;
            try
            {
                accepted = await _listenSocket.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (ObjectDisposedException)
            {
                break;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable)
            {
                // Out of file handles: back off instead of spinning a core (libzmq's accept loop spins).
                _owner.Monitor.Raise(MonitorEventKind.ProtocolError, BoundEndpoint, "accept failed: " + e.Message);
                try
                {
                    await Task.Delay(100, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                continue;
            }
            catch (SocketException e)
            {
                _owner.Monitor.Raise(MonitorEventKind.ProtocolError, BoundEndpoint, "accept failed: " + e.Message);
                continue;
            }

            string remote = accepted.RemoteEndPoint is IPEndPoint ip ? $"tcp://{ip}" : BoundEndpoint;
            int limit = _owner.Options.MaxConnections;
            if (limit > 0 && Volatile.Read(ref _activeSessions) >= limit)
            {
                Refuse(accepted, remote, limit);
                continue;
            }

            StreamConnection connection;
            try
            {
                StreamConnection.Configure(accepted, _owner.Options);
                connection = new StreamConnection(accepted, remote, useReactor: _owner.UseReactor);
            }
            catch (SocketException e)
            {
                // (The connection closed the socket.) Out of descriptors, most likely: this one
                // is refused, and the loop goes on accepting.
                accepted.Dispose();
                _owner.Monitor.Raise(MonitorEventKind.ProtocolError, remote, "accepted connection could not be set up: " + e.Message);
                continue;
            }

            _owner.Monitor.Raise(MonitorEventKind.Accepted, remote);
            Interlocked.Increment(ref _activeSessions);
            _ = RunSessionAsync(new Session(_owner, connection, persistentPeer: null));
        }
    }

    private async Task RunSessionAsync(Session session)
    {
        try
        {
            await session.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _activeSessions);
        }
    }

    /// <summary>
    /// Closes a connection beyond <see cref="SocketOptions.MaxConnections"/> at once, with a reset:
    /// the client learns now and backs off, no greeting or buffer is spent on it, and no socket
    /// lingers in TIME_WAIT on our side however many arrive.
    /// </summary>
    private void Refuse(Socket accepted, string remote, int limit)
    {
        try
        {
            accepted.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
            // Already reset by the client: closing is all that is left.
        }

        accepted.Dispose();
        _owner.Monitor.Raise(MonitorEventKind.ConnectionRefused, remote, $"{BoundEndpoint} already has {limit} connections (MaxConnections)");
    }

    /// <summary>Stops accepting; sessions already accepted carry on until the socket closes them.</summary>
    internal async Task StopAsync()
    {
        _stop.Cancel();
        _listenSocket.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        if (_ipcPath is not null)
        {
            try
            {
                File.Delete(_ipcPath);
            }
            catch (IOException)
            {
            }
        }

        _owner.Monitor.Raise(MonitorEventKind.Closed, BoundEndpoint);
    }
}
