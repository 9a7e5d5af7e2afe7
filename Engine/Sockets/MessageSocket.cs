using System.Collections.Concurrent;
using Engine.Diagnostics;
using Engine.Patterns;
using Engine.Pipes;
using Engine.Sessions;

namespace Engine.Sockets;

/// <summary>
/// What every socket type shares: endpoints (bind, connect), peers, options, monitor and close.
/// Sending and receiving come from <see cref="ISendSocket"/> and <see cref="IReceiveSocket"/>,
/// implemented by the socket types that can.
/// </summary>
/// <remarks>
/// <para>Threading: one thread (or one async flow) sends and one receives at a time; they may be
/// different. Connections run on their own loops and never touch the routing strategies: a peer
/// that comes or goes is queued as a command, and the sending and the receiving side each apply it
/// when they next run (libzmq's process_commands, without a mailbox thread).</para>
/// </remarks>
public abstract partial class MessageSocket : IDisposable, IAsyncDisposable
{
    private readonly ISendStrategy? _sender;
    private readonly IReceiveStrategy? _receiver;
    private readonly Waiter _sendWaiter = new();
    private readonly Waiter _receiveWaiter = new();
    private readonly ConcurrentQueue<PeerCommand> _sendCommands = new();
    private readonly ConcurrentQueue<PeerCommand> _receiveCommands = new();
    private readonly ConcurrentDictionary<Session, byte> _sessions = new();
    private readonly ConcurrentDictionary<Peer, byte> _peers = new();
    private readonly CancellationTokenSource _closing = new();
    private int _sendCommandsPending;
    private int _receiveCommandsPending;

    /// <summary>For patterns that need the socket's options or peers: <paramref name="strategies"/> builds them once both exist.</summary>
    private protected MessageSocket(
        SocketType type,
        SocketOptions? options,
        Func<SocketOptions, MessageSocket, (ISendStrategy? Sender, IReceiveStrategy? Receiver)> strategies)
    {
        Type = type;
        Options = options ?? new SocketOptions();
        Monitor = new SocketMonitor(Options.Logger);
        (_sender, _receiver) = strategies(Options, this);
        Live.TryAdd(this, 0);
    }

    private protected ISendStrategy? Sender => _sender;

    private protected IReceiveStrategy? Receiver => _receiver;

    /// <summary>SUB/XSUB: the socket's own subscriptions (null for other types).</summary>
    internal SubscriptionSet? Subscriptions { get; set; }

    /// <summary>Every peer the socket has, connected or not (for writes that go to all of them).</summary>
    internal IEnumerable<Peer> AllPeers => _peers.Keys;

    /// <summary>True when peers need an outbound pipe even without a send strategy (SUB sends subscriptions).</summary>
    private protected virtual bool UsesOutbound => _sender is not null;

    /// <summary>True when peers need an inbound pipe even without a receive strategy (PUB reads subscriptions).</summary>
    private protected virtual bool UsesInbound => _receiver is not null;

    /// <summary>The socket's ZeroMQ type.</summary>
    public SocketType Type { get; }

    /// <summary>The socket's options; set them before <see cref="Bind(string)"/>/<see cref="Connect"/>.</summary>
    public SocketOptions Options { get; }

    internal SocketMonitor Monitor { get; }

    internal CancellationToken ClosingToken => _closing.Token;

    /// <summary>Connections whose handshake is in progress or done (for tests and diagnostics).</summary>
    internal int SessionCount => _sessions.Count;

    /// <summary>Connections past their handshake, still up.</summary>
    internal int ConnectedCount => Volatile.Read(ref _connectedCount);

    private int _connectedCount;

    /// <summary>Whole messages received from peers and not yet read by the application (approximate while traffic flows).</summary>
    internal long InboundQueued => Queued(inbound: true);

    /// <summary>Whole messages sent by the application and not yet taken by a connection (approximate while traffic flows).</summary>
    internal long OutboundQueued => Queued(inbound: false);

    private long Queued(bool inbound)
    {
        long total = 0;
        foreach (Peer peer in _peers.Keys)
        {
            total += (inbound ? peer.Inbound : peer.Outbound)?.QueuedMessages ?? 0;
        }

        return total;
    }

    internal void OnPeerConnected()
    {
        Interlocked.Increment(ref _connectedCount);
        // A sender waiting for a live peer (Immediate, or re-routing) can go now.
        _sendWaiter.Wake();
    }

    internal void OnPeerDisconnected()
    {
        // With no peer up, peers that are down take messages again: a sender waiting for room may go on.
        if (Interlocked.Decrement(ref _connectedCount) == 0)
        {
            _sendWaiter.Wake();
        }
    }

    /// <summary>Socket events (listening, connected, handshake failures with reasons, disconnects...) as they happen.</summary>
    /// <remarks>Events are kept in a bounded buffer (the oldest are dropped when nobody reads), so an unread monitor costs nothing.</remarks>
    public IAsyncEnumerable<MonitorEvent> MonitorAsync(CancellationToken cancellationToken = default) =>
        Monitor.Reader.ReadAllAsync(cancellationToken);

    // ------------------------------------------------------------ called by sessions (any thread)

    /// <summary>Makes the pipes of a new peer, shaped by what the socket type does.</summary>
    internal Peer CreatePeer(string address, bool persistent)
    {
        MessagePipe? outbound = null;
        MessagePipe? inbound = null;
        if (UsesOutbound)
        {
            // Subscriptions are never dropped: their pipes have no HWM.
            int hwm = Subscriptions is null ? Options.SendHighWatermark : 0;
            outbound = new MessagePipe(hwm, wakeWriterAtHalf: true) { WriterWaiter = _sendWaiter };
        }

        if (UsesInbound)
        {
            inbound = new MessagePipe(Options.ReceiveHighWatermark, wakeWriterAtHalf: true) { ReaderWaiter = _receiveWaiter };
        }

        var peer = new Peer(address, outbound, inbound, persistent);
        // Strict alternation: each send is one message and then a wait, nothing to batch.
        peer.SendLoopWaiter.AlwaysInline = Type is SocketType.Req or SocketType.Rep;
        _peers.TryAdd(peer, 0);
        return peer;
    }

    internal Waiter SendWaiter => _sendWaiter;

    internal Waiter ReceiveWaiter => _receiveWaiter;

    internal bool NeedsOutboundPipes => UsesOutbound;

    internal bool NeedsInboundPipes => UsesInbound;

    internal bool AttachesOnConnect => AttachOnConnect;

    /// <summary>A peer over inproc: the pipes are shared with the other socket, which wired their waiters.</summary>
    internal Peer CreateInprocPeer(string address, MessagePipe? outbound, MessagePipe? inbound, bool persistent)
    {
        var peer = new Peer(address, outbound, inbound, persistent, inproc: true);
        _peers.TryAdd(peer, 0);
        return peer;
    }

    internal void AttachPeer(Peer peer)
    {
        peer.Attached = true;
        Enqueue(new PeerCommand(peer, PeerCommandKind.Attach));
    }

    internal void DetachPeer(Peer peer)
    {
        _peers.TryRemove(peer, out _);
        LeavePairSlot(peer);
        ReleaseRoutingId(peer);
        if (peer.Attached)
        {
            Enqueue(new PeerCommand(peer, PeerCommandKind.Detach));
        }
    }

    /// <summary>True for the load-balancing types that hand a departed peer's messages to the others.</summary>
    internal bool ReroutesOnDisconnect => Options.RerouteOnDisconnect && Type is SocketType.Push or SocketType.Dealer;

    /// <summary>
    /// Called by a connecting peer's current pipe reader (its session as it ends, or its connector
    /// between attempts): when another peer is up, hands everything queued for this one to the
    /// sending thread to route elsewhere. With no peer up the messages stay and wait.
    /// </summary>
    internal void HandBackIfUseful(Peer peer)
    {
        if (!ReroutesOnDisconnect || ConnectedCount == 0 || !peer.HasPending)
        {
            return;
        }

        if (peer.ReturnPending() > 0)
        {
            Enqueue(new PeerCommand(peer, PeerCommandKind.TakeBack));
        }
    }

    /// <summary>PUSH and DEALER keep a rotation that a draining peer must leave before it is told DRAINED.</summary>
    internal bool RoutesByLoadBalancer => Type is SocketType.Push or SocketType.Dealer;

    /// <summary>Session: the peer sent DRAIN.</summary>
    internal void OnPeerDraining(Peer peer, Session from)
    {
        if (RoutesByLoadBalancer)
        {
            Enqueue(new PeerCommand(peer, PeerCommandKind.StopRouting, from));
        }
        else
        {
            peer.RoutingStopped = true;
        }
    }

    /// <summary>Session send loop (the pipe's reader): the draining peer is out of the rotation; route what it still had elsewhere.</summary>
    internal void HandBack(Peer peer)
    {
        if (RoutesByLoadBalancer && peer.ReturnPending() > 0)
        {
            Enqueue(new PeerCommand(peer, PeerCommandKind.TakeBack));
        }
    }

    private void OnRerouted(int messages)
    {
        EngineMetrics.Rerouted.Add(messages);
        Monitor.Raise(MonitorEventKind.MessagesRerouted, LastEndpoint ?? Type.ToString(), $"{messages} message(s) re-routed from a departed peer");
    }

    /// <summary>The balancer PUSH and DEALER use: it skips peers that are down while some peer is up.</summary>
    private protected static LoadBalancer CreateBalancer(SocketOptions options, MessageSocket socket)
    {
        var balancer = new LoadBalancer(() => options.Immediate || (options.RerouteOnDisconnect && socket.ConnectedCount > 0));
        balancer.OnRerouted = socket.OnRerouted;
        return balancer;
    }

    private void Enqueue(PeerCommand command)
    {
        if (command.Kind is PeerCommandKind.TakeBack or PeerCommandKind.StopRouting)
        {
            if (_sender is null)
            {
                return;
            }

            _sendCommands.Enqueue(command);
            Interlocked.Increment(ref _sendCommandsPending);
            _sendWaiter.Wake();
            ScheduleRescue();
            return;
        }

        if (_sender is not null)
        {
            _sendCommands.Enqueue(command);
            Interlocked.Increment(ref _sendCommandsPending);
            _sendWaiter.Wake();
            if (command.Kind == PeerCommandKind.Detach && ReroutesOnDisconnect)
            {
                ScheduleRescue();
            }
        }

        if (_receiver is not null)
        {
            _receiveCommands.Enqueue(command);
            Interlocked.Increment(ref _receiveCommandsPending);
            _receiveWaiter.Wake();
        }
    }

    internal void TrackSession(Session session) => _sessions.TryAdd(session, 0);

    internal void UntrackSession(Session session) => _sessions.TryRemove(session, out _);

    // ------------------------------------------------------------ applied by the user threads

    private void ApplySendCommands()
    {
        while (_sendCommands.TryDequeue(out PeerCommand command))
        {
            Interlocked.Decrement(ref _sendCommandsPending);
            switch (command.Kind)
            {
                case PeerCommandKind.Attach:
                    _sender!.Attach(command.Peer);
                    break;
                case PeerCommandKind.Detach:
                    _sender!.Detach(command.Peer);
                    break;
                case PeerCommandKind.StopRouting:
                    // Only for the connection that asked: applied after a reconnect, it would
                    // take the new connection out of the rotation for good.
                    if (command.From == command.Peer.CurrentSession)
                    {
                        _sender!.StopRouting(command.Peer);
                    }

                    break;
                default:
                    _sender!.TakeBack(command.Peer);
                    break;
            }
        }
    }

    private void ApplyReceiveCommands()
    {
        while (_receiveCommands.TryDequeue(out PeerCommand command))
        {
            Interlocked.Decrement(ref _receiveCommandsPending);
            if (command.Kind == PeerCommandKind.Attach)
            {
                _receiver!.Attach(command.Peer);
            }
            else
            {
                _receiver!.Detach(command.Peer);
            }
        }
    }

    private enum PeerCommandKind : byte
    {
        Attach,
        Detach,
        TakeBack,
        StopRouting,
    }

    // From: for StopRouting, the connection whose peer said DRAIN.
    private readonly record struct PeerCommand(Peer Peer, PeerCommandKind Kind, Session? From = null);
}
