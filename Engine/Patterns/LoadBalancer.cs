using Engine.Pipes;
using Engine.Sessions;

namespace Engine.Patterns;

/// <summary>
/// Round-robin over the peers whose pipe has room (PUSH, DEALER): when a pipe is full the message
/// goes to the next one, and only when every pipe is full does the sender wait.
/// </summary>
/// <remarks>
/// <para>Peers with room are kept in <c>[0, _active)</c> of the list (libzmq's lb_t trick), so the hot
/// loop never scans full pipes. A full pipe is parked at the end and re-checked one per send, so it
/// rejoins the rotation soon after its reader catches up.</para>
/// <para>A peer that goes away hands back what it never sent; those messages are sent first, in
/// order, to the remaining peers (libzmq strands them in the dead peer's pipe).</para>
/// </remarks>
internal sealed class LoadBalancer : ISendStrategy
{
    private readonly List<Peer> _peers = new();
    private readonly Queue<Msg> _requeued = new();
    private readonly Func<bool> _connectedOnly;
    private int _active;
    private int _next;
    private int _probe;

    /// <param name="connectedOnly">
    /// Evaluated per send: true when only peers with a live connection may get new messages
    /// (Immediate, or re-routing while some peer is up).
    /// </param>
    internal LoadBalancer(Func<bool>? connectedOnly = null)
    {
        _connectedOnly = connectedOnly ?? (static () => false);
    }

    /// <summary>Messages taken back from departed peers and routed again.</summary>
    internal long Rerouted { get; private set; }

    /// <summary>Told how many messages a departed peer handed back (for monitor events and counters).</summary>
    internal Action<int>? OnRerouted { get; set; }

    internal int PeerCount => _peers.Count;

    public void Attach(Peer peer)
    {
        if (_peers.Contains(peer))
        {
            return;
        }

        _peers.Add(peer);
        Swap(_peers.Count - 1, _active);
        _active++;
    }

    public void Detach(Peer peer)
    {
        if (Remove(peer))
        {
            TakeBack(peer);
        }
    }

    void ISendStrategy.StopRouting(Peer peer)
    {
        Remove(peer);
        peer.RoutingStopped = true;
        peer.SendLoopWaiter.Signal();
    }

    private bool Remove(Peer peer)
    {
        int index = _peers.IndexOf(peer);
        if (index < 0)
        {
            return false;
        }

        if (index < _active)
        {
            _active--;
            Swap(index, _active);
            index = _active;
        }

        Swap(index, _peers.Count - 1);
        _peers.RemoveAt(_peers.Count - 1);
        if (_next >= _active)
        {
            _next = 0;
        }

        return true;
    }

    /// <summary>Bound-side peer gone for good: its session has ended, so its pipe is ours to read.</summary>
    private void TakeBack(Peer peer)
    {
        peer.ReturnPending();
        ((ISendStrategy)this).TakeBack(peer);
    }

    void ISendStrategy.TakeBack(Peer peer)
    {
        int messages = 0;
        while (peer.Returned.TryDequeue(out Msg frame))
        {
            _requeued.Enqueue(frame);
            messages += frame.More ? 0 : 1;
        }

        if (messages > 0)
        {
            Rerouted += messages;
            OnRerouted?.Invoke(messages);
        }
    }

    public bool TrySend(Span<Msg> staged, ref Msg last) => Route(staged, ref last) is not null;

    /// <summary>As <see cref="TrySend(Span{Msg}, ref Msg)"/>, and says which peer got the message.</summary>
    internal bool TrySend(Span<Msg> staged, ref Msg last, out Peer? chosen)
    {
        chosen = Route(staged, ref last);
        return chosen is not null;
    }

    /// <summary>Writes the message to the next peer with room.</summary>
    /// <returns>The peer that got it (returned rather than stored through an out parameter: that store
    /// costs a write barrier per message), or null when no peer has room.</returns>
    private Peer? Route(Span<Msg> staged, ref Msg last)
    {
        if (_requeued.Count > 0 && !SendRequeued())
        {
            return null;
        }

        Peer? peer = NextWithRoom();
        if (peer is null)
        {
            return null;
        }

        MessagePipe pipe = peer.Outbound!;
        for (int i = 0; i < staged.Length; i++)
        {
            pipe.Write(ref staged[i]);
        }

        pipe.Write(ref last);
        pipe.Flush();
        return peer;
    }

    public bool HasRoom()
    {
        _active = _peers.Count;
        bool connectedOnly = _connectedOnly();
        for (int i = 0; i < _peers.Count; i++)
        {
            Peer peer = _peers[i];
            if ((!connectedOnly || peer.IsUp) && peer.Outbound!.CanWrite)
            {
                return true;
            }
        }

        return false;
    }

    private Peer? NextWithRoom()
    {
        if (_active < _peers.Count)
        {
            ProbeOneFull();
        }

        bool connectedOnly = _connectedOnly();
        int skipped = 0;
        while (_active > 0 && skipped < _active)
        {
            if (_next >= _active)
            {
                _next = 0;
            }

            Peer peer = _peers[_next];
            if (connectedOnly && !peer.IsUp)
            {
                // Down (or never up): keep its place in the rotation, give it nothing new.
                _next++;
                skipped++;
                continue;
            }

            if (peer.Outbound!.CanWrite)
            {
                _next++;
                return peer;
            }

            _active--;
            Swap(_next, _active);
        }

        return null;
    }

    private void ProbeOneFull()
    {
        int full = _peers.Count - _active;
        int candidate = _active + (int)((uint)_probe++ % (uint)full);
        if (_peers[candidate].Outbound!.CanWrite)
        {
            Swap(candidate, _active);
            _active++;
        }
    }

    bool ISendStrategy.TryFlushRequeued() => _requeued.Count == 0 || SendRequeued();

    private bool SendRequeued()
    {
        while (_requeued.Count > 0)
        {
            MessagePipe? pipe = NextWithRoom()?.Outbound;
            if (pipe is null)
            {
                return false;
            }

            Msg frame;
            do
            {
                frame = _requeued.Dequeue();
                bool more = frame.More;
                pipe.Write(ref frame);
                if (!more)
                {
                    break;
                }
            }
            while (_requeued.Count > 0);

            pipe.Flush();
        }

        return true;
    }

    private void Swap(int a, int b)
    {
        if (a != b)
        {
            (_peers[a], _peers[b]) = (_peers[b], _peers[a]);
        }
    }
}
