using Engine.Sessions;

namespace Engine.Patterns;

/// <summary>
/// ROUTER (RFC 28): every received message is prefixed with the routing id of the peer it came
/// from; every sent message starts with the routing id of the peer it goes to.
/// </summary>
/// <remarks>
/// An unknown or departed id is dropped silently by default (as libzmq); with <c>RouterMandatory</c>
/// the send throws <see cref="PeerUnreachableException"/> at once, and a full pipe makes the send
/// wait (or time out) instead of dropping. A send waiting for room is woken when its peer leaves,
/// so it never blocks forever on a peer that is gone (libzmq PR #4665).
/// </remarks>
internal sealed class RouterPattern : ISendStrategy, IReceiveStrategy
{
    private readonly FairQueue _queue = new();
    private readonly Dictionary<byte[], Peer> _routes = new(RoutingIdComparer.Instance);
    private readonly Dictionary<byte[], Peer>.AlternateLookup<ReadOnlySpan<byte>> _routesBySpan;
    private readonly Func<bool> _mandatory;
    private Peer? _receivingFrom;

    // The peer a mandatory send found full and is waiting for (sending thread only).
    private Peer? _waitingFor;

    internal RouterPattern(Func<bool> mandatory)
    {
        _mandatory = mandatory;
        _routesBySpan = _routes.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    /// <summary>Messages dropped for an unknown id or a full pipe (without RouterMandatory).</summary>
    internal long Dropped { get; private set; }

    void ISendStrategy.Attach(Peer peer) => _routes[peer.RoutingId!] = peer;

    void ISendStrategy.Detach(Peer peer)
    {
        if (_routes.TryGetValue(peer.RoutingId!, out Peer? current) && current == peer)
        {
            _routes.Remove(peer.RoutingId!);
        }

        peer.DiscardPending();
    }

    void IReceiveStrategy.Attach(Peer peer) => _queue.Attach(peer);

    void IReceiveStrategy.Detach(Peer peer) => _queue.Detach(peer);

    Peer? IReceiveStrategy.SolePeer => _queue.SolePeer;

    public bool HasRoom()
    {
        // A mandatory send waits for its own peer, not for any peer: it can go on once that peer
        // has room, or has left (the retry then throws). Room elsewhere is no reason to retry:
        // the wait would spin, and never time out while another peer has room.
        if (_waitingFor is { } target)
        {
            return target.Outbound!.CanWrite || !IsRouted(target);
        }

        foreach (Peer peer in _routes.Values)
        {
            if (peer.Outbound!.CanWrite)
            {
                return true;
            }
        }

        return false;
    }

    private bool IsRouted(Peer peer) => _routes.TryGetValue(peer.RoutingId!, out Peer? current) && current == peer;

    public bool TrySend(Span<Msg> staged, ref Msg last)
    {
        _waitingFor = null;
        ref Msg idFrame = ref staged.IsEmpty ? ref last : ref staged[0];
        if (!_routesBySpan.TryGetValue(idFrame.Span, out Peer? peer))
        {
            if (_mandatory())
            {
                throw new PeerUnreachableException($"ROUTER: no connected peer has routing id {RoutingIdComparer.Format(idFrame.Span)}.");
            }

            Drop(staged, ref last);
            return true;
        }

        var pipe = peer.Outbound!;
        if (!pipe.CanWrite)
        {
            if (_mandatory())
            {
                _waitingFor = peer;
                return false;
            }

            Drop(staged, ref last);
            return true;
        }

        if (staged.IsEmpty)
        {
            // Only a routing id and no body: nothing to deliver.
            last.Dispose();
            return true;
        }

        staged[0].Dispose();
        for (int i = 1; i < staged.Length; i++)
        {
            pipe.Write(ref staged[i]);
        }

        staged.Clear();
        pipe.Write(ref last);
        pipe.Flush();
        return true;
    }

    private void Drop(Span<Msg> staged, ref Msg last)
    {
        Dropped++;
        Diagnostics.EngineMetrics.Dropped.Add(1);
        for (int i = 0; i < staged.Length; i++)
        {
            staged[i].Dispose();
        }

        last.Dispose();
    }

    public bool TryReceive(out Msg frame)
    {
        if (_receivingFrom is not null)
        {
            // The routing id went out; the frames of that peer's message are all in its pipe.
            bool read = _queue.TryReceive(out frame, out _);
            if (!read || !frame.More)
            {
                _receivingFrom = null;
            }

            return read;
        }

        if (!_queue.TryPeekPeer(out Peer? from))
        {
            frame = default;
            return false;
        }

        _receivingFrom = from;
        frame = Msg.Copy(from.RoutingId, more: true);
        return true;
    }
}
