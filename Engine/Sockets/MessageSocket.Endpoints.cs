using System.Net.Sockets;
using Engine.Transport;
using Engine.Transport.Inproc;

namespace Engine.Sockets;

public abstract partial class MessageSocket
{
    private readonly object _endpointsGate = new();
    private readonly List<StreamListener> _listeners = new();
    private readonly List<StreamConnector> _connectors = new();
    private readonly List<string> _inprocNames = new();
    private readonly List<InprocLink> _inprocLinks = new();

    /// <summary>
    /// Listens on <paramref name="endpoint"/> (<c>tcp://host:port</c>, <c>tcp://*:0</c> for a free
    /// port, <c>ipc:///path</c>) and returns the endpoint as bound, with the real port.
    /// </summary>
    /// <exception cref="ArgumentException">The endpoint is malformed.</exception>
    /// <exception cref="SocketException">The address is in use or cannot be bound.</exception>
    /// <exception cref="InvalidOperationException">The security options are incomplete or contradictory.</exception>
    public string Bind(string endpoint)
    {
        ThrowIfDisposed();
        Options.ValidateSecurity();
        Endpoint parsed = Endpoint.Parse(endpoint);
        RefuseDirectoryBind(parsed);
        if (parsed.Transport == TransportKind.Inproc)
        {
            InprocRegistry.Bind(this, parsed.Address);
            lock (_endpointsGate)
            {
                _inprocNames.Add(parsed.Address);
            }

            Monitor.Raise(MonitorEventKind.Listening, parsed.ToString());
            LastEndpoint = parsed.ToString();
            return LastEndpoint;
        }

        StreamListener listener;
        try
        {
            listener = StreamListener.Bind(this, parsed, endpoint);
        }
        catch (SocketException e)
        {
            Monitor.Raise(MonitorEventKind.BindFailed, endpoint, e.Message);
            throw;
        }

        lock (_endpointsGate)
        {
            _listeners.Add(listener);
        }

        LastEndpoint = listener.BoundEndpoint;
        return listener.BoundEndpoint;
    }

    /// <summary>
    /// Test seam: makes the socket for each outgoing connection attempt. A self-connection (TCP
    /// simultaneous open with our own port) happens only by chance in the wild; tests force it.
    /// </summary>
    internal Func<System.Net.EndPoint, Socket>? ConnectSocketFactory { get; set; }

    /// <summary>
    /// False: this socket's connections wait through .NET's socket engine instead of the engine's
    /// reactor (what non-Linux systems always do; tests use it to keep that path honest).
    /// </summary>
    internal bool UseReactor { get; set; } = true;

    /// <summary>The endpoint most recently bound, as bound (libzmq's ZMQ_LAST_ENDPOINT).</summary>
    public string? LastEndpoint { get; private set; }

    /// <summary>
    /// Connects to <paramref name="endpoint"/> in the background and keeps reconnecting (with
    /// back-off) whenever the connection is lost. <c>dir://name</c> connects to every endpoint
    /// registered under the name in <see cref="SocketOptions.Directory"/> and follows it as it changes. Messages sent before the peer is up are queued
    /// for it, up to the send high-water mark.
    /// </summary>
    public void Connect(string endpoint)
    {
        ThrowIfDisposed();
        Options.ValidateSecurity();
        Endpoint parsed = Endpoint.Parse(endpoint);
        if (parsed.Transport == TransportKind.Directory)
        {
            ConnectByName(parsed);
            return;
        }

        if (parsed.Transport == TransportKind.Inproc)
        {
            InprocLink link = InprocRegistry.Connect(this, parsed.Address);
            AddInprocLink(link);
            return;
        }

        if (parsed.Transport == TransportKind.Tcp && (parsed.Host == "*" || parsed.Port == 0))
        {
            throw new ArgumentException($"Cannot connect to '{endpoint}': name a host and a port (wildcards only make sense for Bind).", nameof(endpoint));
        }

        var connector = new StreamConnector(this, parsed, endpoint, CreatePeer(parsed.ToString(), persistent: true));
        lock (_endpointsGate)
        {
            _connectors.Add(connector);
        }

        if (AttachOnConnect)
        {
            AttachPeer(connector.Peer);
        }

        connector.Start();
    }

    /// <summary>Stops listening on an endpoint given to (or returned by) <see cref="Bind(string)"/>; accepted connections stay up.</summary>
    public void Unbind(string endpoint)
    {
        EndDirectoryRegistration(endpoint);
        if (Endpoint.Parse(endpoint) is { Transport: TransportKind.Inproc } inproc)
        {
            bool removed;
            lock (_endpointsGate)
            {
                removed = _inprocNames.Remove(inproc.Address);
            }

            if (!removed)
            {
                throw new ArgumentException($"'{endpoint}' is not bound on this socket.", nameof(endpoint));
            }

            InprocRegistry.Unbind(this, inproc.Address);
            return;
        }

        StreamListener? listener;
        lock (_endpointsGate)
        {
            listener = _listeners.Find(l => l.RequestedEndpoint == endpoint || l.BoundEndpoint == endpoint);
            if (listener is not null)
            {
                _listeners.Remove(listener);
            }
        }

        if (listener is null)
        {
            throw new ArgumentException($"'{endpoint}' is not bound on this socket.", nameof(endpoint));
        }

        listener.StopAsync().GetAwaiter().GetResult();
    }

    /// <summary>
    /// Stops connecting to an endpoint given to <see cref="Connect"/>. Messages still queued for it
    /// are routed to the remaining peers (libzmq discards them).
    /// </summary>
    public void Disconnect(string endpoint)
    {
        if (Endpoint.Parse(endpoint) is { Transport: TransportKind.Directory } name)
        {
            DisconnectByName(name);
            return;
        }

        if (Endpoint.Parse(endpoint) is { Transport: TransportKind.Inproc } inproc)
        {
            InprocLink? link;
            lock (_endpointsGate)
            {
                link = _inprocLinks.Find(l => l.Name == inproc.Address && l.ConnectingPeer.Persistent && _peers.ContainsKey(l.ConnectingPeer));
            }

            if (link is null)
            {
                throw new ArgumentException($"'{endpoint}' is not connected on this socket.", nameof(endpoint));
            }

            link.Break(this, closing: false);
            return;
        }

        StreamConnector? connector;
        lock (_endpointsGate)
        {
            connector = _connectors.Find(c => c.RequestedEndpoint == endpoint);
            if (connector is not null)
            {
                _connectors.Remove(connector);
            }
        }

        if (connector is null)
        {
            throw new ArgumentException($"'{endpoint}' is not connected on this socket.", nameof(endpoint));
        }

        connector.StopAsync().GetAwaiter().GetResult();
        DetachPeer(connector.Peer);
    }
}

public abstract partial class MessageSocket
{
    internal void AddInprocLink(InprocLink link)
    {
        lock (_endpointsGate)
        {
            _inprocLinks.Add(link);
        }
    }

    internal void ForgetInprocLink(InprocLink link)
    {
        lock (_endpointsGate)
        {
            _inprocLinks.Remove(link);
        }
    }

    /// <summary>Unbinds inproc names and breaks every inproc link; what the peers queued for us is still theirs to reroute.</summary>
    private void CloseInproc()
    {
        string[] names;
        InprocLink[] links;
        lock (_endpointsGate)
        {
            names = _inprocNames.ToArray();
            links = _inprocLinks.ToArray();
            _inprocNames.Clear();
        }

        foreach (string name in names)
        {
            InprocRegistry.Unbind(this, name);
        }

        foreach (InprocLink link in links)
        {
            link.Break(this, closing: true);
        }
    }
}
