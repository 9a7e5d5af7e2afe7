using System.Net.Sockets;
using Engine.Buffers;
using Engine.Lifetime;
using Engine.Sockets;
using Engine.Transport;
using System.Buffers;
using Engine.Wire;

namespace Engine.Sessions;

/// <summary>
/// One ZMTP connection of a socket: the handshake, then exactly one receive loop and one send loop
/// until either ends, then cleanup.
/// </summary>
/// <remarks>
/// The handshake is one linear async method (<c>Session.Handshake.cs</c>). The loops
/// (<c>Session.Receive.cs</c>, <c>Session.Send.cs</c>) move whole batches between the connection's
/// pipelines and the peer's message pipes: per message they run synchronous code only (decoding
/// in <c>Session.Decode.cs</c>, shared with direct reads).
/// </remarks>
internal sealed partial class Session
{
    private readonly MessageSocket _owner;
    private readonly StreamConnection _connection;
    private readonly Peer? _persistentPeer;
    private readonly SlabAllocator _allocator = new();
    private Peer? _peer;
    private string? _violation;
    private long _inFlightAtEnd;
    private bool _peerIs31;

    private static readonly TimeSpan ErrorFlushGrace = TimeSpan.FromMilliseconds(250);

    internal Session(MessageSocket owner, StreamConnection connection, Peer? persistentPeer)
    {
        _owner = owner;
        _connection = connection;
        _persistentPeer = persistentPeer;
    }

    internal StreamConnection Connection => _connection;

    /// <summary>The peer this session serves once its handshake succeeded.</summary>
    internal Peer? CurrentPeer => _peer;

    /// <summary>True once the handshake succeeded (used by tests and by the connector's back-off).</summary>
    internal bool WasEstablished { get; private set; }

    /// <summary>True from the start until the peer is active (or the session ends): a drain must wait for such a connection.</summary>
    internal bool ComingUp => _comingUp;

    private volatile bool _comingUp = true;

    /// <summary>Stops the session: both loops end soon after, and <see cref="RunAsync"/> completes.</summary>
    internal void Abort(ShutdownReason reason, string? detail = null)
    {
        _connection.Abort(reason, detail);
        try
        {
            _ended.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }

        Peer? peer = _peer;
        peer?.SendLoopWaiter.Signal();
        peer?.ReceiveLoopWaiter.Signal();
        _readTokenWaiter.Signal();
    }

    /// <summary>Runs the connection to its end; never throws.</summary>
    internal async Task RunAsync()
    {
        string address = _connection.RemoteAddress;
        _owner.TrackSession(this);
        try
        {
            HandshakeResult handshake = await RunHandshakeAsync().ConfigureAwait(false);
            if (!handshake.Succeeded)
            {
                _owner.Monitor.Raise(MonitorEventKind.HandshakeFailed, address, handshake.Failure);
                return;
            }

            Peer peer = _persistentPeer ?? _owner.CreatePeer(address, persistent: false);
            peer.Identity = handshake.PeerIdentity;
            peer.PeerType = handshake.PeerType;
            peer.SupportsDrain = handshake.PeerSupportsDrain;
            // A new connection is a new stream: a drain seen on an older one does not carry over,
            // and a peer taken out of the rotation by that drain goes back in.
            bool rejoin = peer.RoutingStopped && _persistentPeer is not null;
            peer.DrainRequested = peer.RoutingStopped = peer.SendDrainCommand = peer.EndOfStream = false;
            Volatile.Write(ref peer.DrainAsked, 0);
            if (rejoin)
            {
                _owner.AttachPeer(peer);
            }
            string? refusal = _owner.AdmitPeer(peer, handshake);
            if (refusal is not null)
            {
                await RefuseAsync(refusal).ConfigureAwait(false);
                if (_persistentPeer is null)
                {
                    _owner.DetachPeer(peer);
                }

                _owner.Monitor.Raise(MonitorEventKind.HandshakeFailed, address, refusal);
                return;
            }

            WasEstablished = true;
            _peerIs31 = handshake.PeerIs31;
            _peer = peer;
            peer.CurrentSession = this;
            _owner.Monitor.Raise(MonitorEventKind.HandshakeSucceeded, address);
            if (_persistentPeer is null && !_owner.AttachUnlessHandedOver(peer))
            {
                // Handed over before it could be attached: the newcomer keeps the id.
                Abort(ShutdownReason.Disconnected, "routing id taken over by a new connection");
            }

            if (_connection.IsAborted)
            {
                // Closed while we were attaching: make sure no loop parks forever.
                Abort(_connection.Reason);
            }

            // The quiet period a drain waits out for a foreign peer counts from the connection.
            Volatile.Write(ref peer.LastReceivedTicks, Environment.TickCount64);
            ReadMessageLimits();
            if (!_connection.IsEncrypted)
            {
                // Whatever came with READY is in the receive pipe already: decode it before reading more.
                _connection.ReadSocketDirectly(ref _undecodedBytes);
            }

            peer.SessionActive = true;
            // After SessionActive: whoever sees this false sees the peer active (or ended).
            _comingUp = false;
            _owner.OnPeerConnected();
            // A connection that was still in its handshake when a drain listed the peers is not on
            // that list: it must be told to stop too, or its stream never ends and what it sends
            // after the drain gave up would be left unread. (OnPeerConnected is a full fence: the
            // drain sees this session as active, or this sees the drain, or both.)
            if (_owner.IsDraining)
            {
                _owner.AskToStopSending(peer);
            }
            Task receiving = _connection.ReadsSocketDirectly ? ReceiveDirectLoopAsync(peer) : ReceiveLoopAsync(peer);
            Task sending = SendLoopAsync(peer);
            StartHeartbeatsIfConfigured();
            await Task.WhenAny(receiving, sending).ConfigureAwait(false);
            string? violation = Volatile.Read(ref _violation);
            if (violation is not null)
            {
                // Give the send loop a moment to write ERROR; a peer that does not read gets none.
                await Task.WhenAny(sending, Task.Delay(ErrorFlushGrace)).ConfigureAwait(false);
                Abort(ShutdownReason.ProtocolViolation, violation);
            }

            Abort(ShutdownReason.Disconnected);
            await Task.WhenAll(receiving, sending).ConfigureAwait(false);
            // An application thread may be reading the socket for the loop: wait until it is out.
            await CloseReadingAsync().ConfigureAwait(false);
            peer.SessionActive = false;
            DeliverDisconnectMessage(peer);
            peer.CurrentSession = null;
            if (_persistentPeer is null)
            {
                // Detach before anything observable says the peer left: a send made after the event
                // (or after ConnectedCount drops) must already find it gone.
                _owner.DetachPeer(peer);
            }

            _owner.OnPeerDisconnected();
            if (_persistentPeer is not null)
            {
                // Our loops are done, so this thread is the pipe's reader: hand what never went out to the live peers.
                _owner.HandBackIfUseful(peer);
            }

            string reason = DescribeEnd();
            _owner.Monitor.Raise(
                _connection.Reason switch
                {
                    ShutdownReason.ProtocolViolation => MonitorEventKind.ProtocolError,
                    ShutdownReason.PeerDead => MonitorEventKind.PeerDead,
                    _ => MonitorEventKind.Disconnected,
                },
                address,
                reason);
        }
        catch (Exception unexpected)
        {
            // A bug, not a peer's fault: still close only this connection and say why.
            _connection.Abort(ShutdownReason.ProtocolViolation, unexpected.Message);
            _owner.Monitor.Raise(MonitorEventKind.Disconnected, address, "internal error: " + unexpected.Message);
        }
        finally
        {
            _comingUp = false;
            if (_peer is { } admitted)
            {
                _owner.LeavePairSlot(admitted);
            }

            _ended.Cancel();
            await CloseReadingAsync().ConfigureAwait(false);
            DiscardPartialMessage();
            _allocator.Release();
            await _connection.DisposeAsync().ConfigureAwait(false);
            _owner.UntrackSession(this);
        }
    }

    /// <summary>The application asked to hear when a peer goes: a message in its inbound stream, after everything the peer sent.</summary>
    private void DeliverDisconnectMessage(Peer peer)
    {
        byte[]? message = _owner.Options.DisconnectMessage;
        if (message is null || peer.Inbound is null || _owner.Type is SocketType.Pub or SocketType.XPub)
        {
            return;
        }

        // The receive loop has ended: this thread is now the inbound pipe's only writer.
        Msg frame = Msg.Copy(message);
        peer.Inbound.Write(ref frame);
        peer.Inbound.Flush();
    }

    /// <summary>Says why (ERROR) and closes; used when the socket type cannot take this peer.</summary>
    private async Task RefuseAsync(string reason)
    {
        try
        {
            _connection.Output.Write(Wire.Commands.BuildError(reason));
            await _connection.Output.FlushAsync(_owner.ClosingToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsConnectionError(e))
        {
            // The peer is gone already; the refusal stands.
        }

        _connection.Abort(ShutdownReason.IncompatiblePeer, reason);
    }

    private string DescribeEnd()
    {
        string? detail = _connection.ReasonDetail;
        string kind = _connection.Reason switch
        {
            ShutdownReason.ReceiveEndOfStream => "peer closed the connection",
            ShutdownReason.ReceiveSocketError => "receive failed",
            ShutdownReason.SendSocketError => "send failed",
            ShutdownReason.ProtocolViolation => "protocol violation",
            ShutdownReason.PeerSentError => "peer sent ERROR",
            ShutdownReason.SocketClosed => "socket closed",
            ShutdownReason.Disconnected => "disconnected",
            ShutdownReason.Unbound => "unbound",
            ShutdownReason.PeerDead => "peer declared dead",
            _ => _connection.Reason.ToString(),
        };
        string text = detail is null ? kind : $"{kind}: {detail}";
        return _inFlightAtEnd > 0 ? $"{text} ({_inFlightAtEnd} message(s) were being written and may not have arrived)" : text;
    }

    private static bool IsConnectionError(Exception e) =>
        e is IOException or SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException;
}
