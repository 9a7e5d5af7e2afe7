using System.Net;
using System.Net.Sockets;
using Engine.Diagnostics;
using Engine.Lifetime;
using Engine.Sessions;
using Engine.Sockets;

namespace Engine.Transport;

/// <summary>
/// Keeps one outgoing connection alive: connect, run a session, and on any failure reconnect after
/// a doubling, jittered delay. The host name is resolved again on every attempt, so a peer that
/// moved to a new address is followed (NetMQ resolves once).
/// </summary>
internal sealed class StreamConnector
{
    private readonly MessageSocket _owner;
    private readonly Endpoint _endpoint;
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private Session? _current;

    internal StreamConnector(MessageSocket owner, Endpoint endpoint, string requested, Peer peer)
    {
        _owner = owner;
        _endpoint = endpoint;
        RequestedEndpoint = requested;
        Peer = peer;
    }

    internal string RequestedEndpoint { get; }

    /// <summary>The peer this connection feeds; it outlives each connection.</summary>
    internal Peer Peer { get; }

    private volatile bool _noReconnect;

    internal void Start() => _loop = RunAsync();

    /// <summary>Draining: keep the current connection, but do not make a new one after it ends.</summary>
    internal void StopReconnecting()
    {
        _noReconnect = true;
        Interlocked.MemoryBarrier();
    }

    /// <summary>
    /// True while a connection is being made and its session is not tracked by the socket yet: a
    /// drain waits for it (the session then says when it is up), since what that connection
    /// brings must be read too.
    /// </summary>
    internal bool ConnectionPending => _pending;

    private volatile bool _pending;

    private async Task RunAsync()
    {
        SocketOptions options = _owner.Options;
        TimeSpan delay = options.ReconnectInterval;
        string address = _endpoint.ToString();
        while (!_stop.IsCancellationRequested)
        {
            string? failure = null;
            _pending = true;
            // A drain that stopped reconnects before it saw us pending must not get a connection
            // it will never read from (it writes, then reads our flag; we write, then read its).
            Interlocked.MemoryBarrier();
            if (_noReconnect)
            {
                _pending = false;
                break;
            }

            try
            {
                (Socket socket, SocketReadiness readiness) = await ConnectOnceAsync(options).ConfigureAwait(false);
                _owner.Monitor.Raise(MonitorEventKind.Connected, address);
                var session = new Session(_owner, new StreamConnection(socket, address, readiness), Peer);
                _current = session;
                if (_stop.IsCancellationRequested)
                {
                    session.Abort(ShutdownReason.SocketClosed);
                }

                // RunAsync tracks the session before its first await: from here the socket sees it.
                Task running = session.RunAsync();
                _pending = false;
                await running.ConfigureAwait(false);
                _current = null;
                if (session.WasEstablished)
                {
                    delay = options.ReconnectInterval;
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                break;
            }
            catch (OperationCanceledException)
            {
                failure = $"connect timed out after {options.ConnectTimeout.TotalMilliseconds:0} ms";
            }
            catch (SocketException e)
            {
                failure = e.Message;
            }
            catch (SelfConnectionException e)
            {
                failure = e.Message;
            }
            finally
            {
                _pending = false;
            }

            if (_stop.IsCancellationRequested || _noReconnect)
            {
                break;
            }

            // Between connections this loop is the pipe's only reader: if another peer is up, it
            // should carry what waits here rather than let it sit until we are back.
            _owner.HandBackIfUseful(Peer);
            EngineMetrics.Reconnects.Add(1);
            TimeSpan wait = Jitter(delay);
            _owner.Monitor.Raise(MonitorEventKind.ConnectRetried, address, failure is null ? $"retry in {wait.TotalMilliseconds:0} ms" : $"{failure}; retry in {wait.TotalMilliseconds:0} ms");
            try
            {
                await Task.Delay(wait, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            if (_noReconnect)
            {
                // A drain began while this waited: no new connection now.
                break;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, Math.Max(options.ReconnectIntervalMax.Ticks, options.ReconnectInterval.Ticks)));
        }
    }

    private async Task<(Socket Socket, SocketReadiness Readiness)> ConnectOnceAsync(SocketOptions options)
    {
        EndPoint target = await ResolveAsync().ConfigureAwait(false);
        var socket = _owner.ConnectSocketFactory?.Invoke(target) ?? (target is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(target.AddressFamily, System.Net.Sockets.SocketType.Stream, ProtocolType.Tcp));
        SocketReadiness? readiness = null;
        try
        {
            socket.Blocking = false;
            readiness = SocketReadiness.For(socket, _owner.UseReactor);
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            attempt.CancelAfter(options.ConnectTimeout);
            await readiness.ConnectAsync(target, attempt.Token).ConfigureAwait(false);
            if (socket.LocalEndPoint is IPEndPoint local && socket.RemoteEndPoint is IPEndPoint remote && local.Equals(remote))
            {
                // TCP simultaneous open with ourselves: connecting to a dead port in the ephemeral
                // range can pick that very port as our source. Holding it would also stop the real
                // peer from binding its port again, so let go at once.
                throw new SelfConnectionException(remote.ToString());
            }

            StreamConnection.Configure(socket, options);
            return (socket, readiness);
        }
        catch
        {
            readiness?.Dispose();
            socket.Dispose();
            throw;
        }
    }

    private async ValueTask<EndPoint> ResolveAsync()
    {
        if (_endpoint.Transport == TransportKind.Ipc)
        {
            return new UnixDomainSocketEndPoint(_endpoint.Address);
        }

        string host = _endpoint.Host!;
        if (IPAddress.TryParse(host, out IPAddress? literal))
        {
            return new IPEndPoint(literal, _endpoint.Port);
        }

        IPAddress[] addresses = await Dns.GetHostAddressesAsync(host, _stop.Token).ConfigureAwait(false);
        foreach (IPAddress address in addresses)
        {
            if (address.AddressFamily == AddressFamily.InterNetwork)
            {
                return new IPEndPoint(address, _endpoint.Port);
            }
        }

        if (addresses.Length == 0)
        {
            throw new SocketException((int)SocketError.HostNotFound);
        }

        return new IPEndPoint(addresses[0], _endpoint.Port);
    }

    private static TimeSpan Jitter(TimeSpan delay) =>
        TimeSpan.FromTicks((long)(delay.Ticks * (0.75 + (Random.Shared.NextDouble() * 0.5))));

    internal async Task StopAsync()
    {
        _stop.Cancel();
        _current?.Abort(ShutdownReason.SocketClosed);
        await _loop.ConfigureAwait(false);
    }

    private sealed class SelfConnectionException : Exception
    {
        internal SelfConnectionException(string endpoint)
            : base($"connected to itself on {endpoint} (nothing listens there)")
        {
        }
    }
}
