using Engine.Pipes;
using Engine.Sessions;
using Engine.Sockets;
using Engine.Wire;

namespace Engine.Transport.Inproc;

/// <summary>
/// One inproc connection: two message pipes shared by two sockets. Frames pass as they are (no
/// encoding, no copy); each socket sees the other as an ordinary peer.
/// </summary>
/// <remarks>
/// The connecting side's peer exists from <c>Connect</c> on, so messages sent before the bind are
/// queued. A pipe's HWM is the sum of the sender's send HWM and the receiver's receive HWM, as in
/// libzmq (0 on either side means no limit); before the bind the receiver's share is the default 1000.
/// </remarks>
internal sealed class InprocLink
{
    private const int UnknownReceiveHwm = 1000;

    private readonly MessageSocket _connecting;
    private readonly MessagePipe? _toBound;
    private readonly MessagePipe? _toConnecting;
    private MessageSocket? _bound;
    private Peer? _boundPeer;
    private int _broken;

    internal InprocLink(MessageSocket connecting, string name)
    {
        _connecting = connecting;
        Name = name;
        if (connecting.NeedsOutboundPipes)
        {
            _toBound = new MessagePipe(SumHwm(connecting.Options.SendHighWatermark, UnknownReceiveHwm, connecting.Subscriptions is not null))
            {
                WriterWaiter = connecting.SendWaiter,
            };
        }

        if (connecting.NeedsInboundPipes)
        {
            _toConnecting = new MessagePipe(SumHwm(UnknownReceiveHwm, connecting.Options.ReceiveHighWatermark, subscriptions: false))
            {
                ReaderWaiter = connecting.ReceiveWaiter,
            };
        }

        ConnectingPeer = connecting.CreateInprocPeer($"inproc://{name}", _toBound, _toConnecting, persistent: true);
        if (connecting.AttachesOnConnect)
        {
            connecting.AttachPeer(ConnectingPeer);
        }
    }

    internal string Name { get; }

    internal Peer ConnectingPeer { get; }

    private static int SumHwm(int a, int b, bool subscriptions) =>
        subscriptions || a == 0 || b == 0 ? 0 : (int)Math.Min(int.MaxValue, (long)a + b);

    /// <summary>The name is bound: give the bound socket its end of the pipes.</summary>
    internal void Complete(MessageSocket bound)
    {
        if (!SocketTypes.AreCompatible(_connecting.Type, bound.Type))
        {
            string reason = $"{SocketTypes.WireName(_connecting.Type)} cannot talk to {SocketTypes.WireName(bound.Type)}";
            _connecting.Monitor.Raise(MonitorEventKind.HandshakeFailed, $"inproc://{Name}", reason);
            bound.Monitor.Raise(MonitorEventKind.HandshakeFailed, $"inproc://{Name}", reason);
            return;
        }

        _bound = bound;
        if (_toBound is not null)
        {
            _toBound.ReaderWaiter = bound.ReceiveWaiter;
        }

        if (_toConnecting is not null)
        {
            _toConnecting.WriterWaiter = bound.SendWaiter;
        }

        // Only the directions both sides use carry messages.
        MessagePipe? boundOutbound = bound.NeedsOutboundPipes ? _toConnecting : null;
        MessagePipe? boundInbound = bound.NeedsInboundPipes ? _toBound : null;
        _boundPeer = bound.CreateInprocPeer($"inproc://{Name}", boundOutbound, boundInbound, persistent: false);
        _boundPeer.Identity = _connecting.Options.Identity;
        ConnectingPeer.Identity = bound.Options.Identity;
        var towardsBound = new HandshakeResult(true, null, _connecting.Type, _connecting.Options.Identity, PeerIs31: true);
        var towardsConnecting = new HandshakeResult(true, null, bound.Type, bound.Options.Identity, PeerIs31: true);
        string? refusal = bound.AdmitPeer(_boundPeer, towardsBound) ?? _connecting.AdmitPeer(ConnectingPeer, towardsConnecting);
        if (refusal is not null)
        {
            bound.DetachPeer(_boundPeer);
            bound.Monitor.Raise(MonitorEventKind.HandshakeFailed, $"inproc://{Name}", refusal);
            _connecting.Monitor.Raise(MonitorEventKind.HandshakeFailed, $"inproc://{Name}", refusal);
            return;
        }

        bound.AttachPeer(_boundPeer);
        bound.AddInprocLink(this);
        _boundPeer.SessionActive = true;
        ConnectingPeer.SessionActive = true;
        bound.OnPeerConnected();
        _connecting.OnPeerConnected();
        _connecting.Monitor.Raise(MonitorEventKind.Connected, $"inproc://{Name}");
        bound.Monitor.Raise(MonitorEventKind.Accepted, $"inproc://{Name}");
    }

    /// <summary>
    /// One side closed or disconnected: both sockets let go of their peer. What is queued in a
    /// pipe stays with the pipe's reader, which reads it to the end, unless that reader is the
    /// socket closing (or there is none yet): only then may the writer take it back to reroute.
    /// A pipe has one reader; a writer that read it while the other socket still did could
    /// deliver a message twice or release its buffer twice.
    /// </summary>
    /// <param name="initiator">The socket that disconnects or closes.</param>
    /// <param name="closing">True when <paramref name="initiator"/> is closing (it reads nothing more).</param>
    internal void Break(MessageSocket initiator, bool closing)
    {
        if (Interlocked.Exchange(ref _broken, 1) != 0)
        {
            return;
        }

        InprocRegistry.CancelPending(this);
        MessageSocket? bound = Interlocked.Exchange(ref _bound, null);
        ConnectingPeer.InprocReaderGone = bound is null || (closing && initiator == bound);
        if (_boundPeer is not null)
        {
            _boundPeer.InprocReaderGone = closing && initiator == _connecting;
        }

        _boundPeer?.SessionActive = false;
        ConnectingPeer.SessionActive = false;
        if (bound is not null && _boundPeer is not null)
        {
            bound.DetachPeer(_boundPeer);
            bound.OnPeerDisconnected();
            _connecting.OnPeerDisconnected();
            bound.ForgetInprocLink(this);
        }

        _connecting.DetachPeer(ConnectingPeer);
        _connecting.ForgetInprocLink(this);
    }
}
