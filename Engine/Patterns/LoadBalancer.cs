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
    private int _active;
    private int _next;
    private int _probe;

    /// <summary>Messages taken back from departed peers and routed again.</summary>
    internal long Rerouted { get; private set; }

    internal int PeerCount => _peers.Count;

    public void Attach(Peer peer)
    {
        _peers.Add(peer);
        Swap(_peers.Count - 1, _active);
        _active++;
    }

    public void Detach(Peer peer)
    {
        int index = _peers.IndexOf(peer);
        if (index < 0)
        {
            return;
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

        TakeBack(peer);
    }

    private void TakeBack(Peer peer)
    {
        while (peer.TryTakeUnsent(out Msg frame))
        {
            Requeue(frame);
        }

        MessagePipe? pipe = peer.Outbound;
        if (pipe is not null)
        {
            while (pipe.TryRead(out Msg frame))
            {
                Requeue(frame);
            }
        }
    }

    private void Requeue(Msg frame)
    {
        _requeued.Enqueue(frame);
        if (!frame.More)
        {
            Rerouted++;
        }
    }

    public bool TrySend(Span<Msg> staged, ref Msg last) => TrySend(staged, ref last, out _);

    /// <summary>As <see cref="TrySend(Span{Msg}, ref Msg)"/>, and says which peer got the message.</summary>
    internal bool TrySend(Span<Msg> staged, ref Msg last, out Peer? chosen)
    {
        chosen = null;
        if (_requeued.Count > 0 && !SendRequeued())
        {
            return false;
        }

        MessagePipe? pipe = NextWithRoom(out chosen);
        if (pipe is null)
        {
            return false;
        }

        for (int i = 0; i < staged.Length; i++)
        {
            pipe.Write(ref staged[i]);
        }

        pipe.Write(ref last);
        pipe.Flush();
        return true;
    }

    public bool HasRoom()
    {
        _active = _peers.Count;
        for (int i = 0; i < _peers.Count; i++)
        {
            if (_peers[i].Outbound!.CanWrite)
            {
                return true;
            }
        }

        return false;
    }

    private MessagePipe? NextWithRoom() => NextWithRoom(out _);

    private MessagePipe? NextWithRoom(out Peer? chosen)
    {
        chosen = null;
        if (_active < _peers.Count)
        {
            ProbeOneFull();
        }

        while (_active > 0)
        {
            if (_next >= _active)
            {
                _next = 0;
            }

            Peer peer = _peers[_next];
            MessagePipe pipe = peer.Outbound!;
            if (pipe.CanWrite)
            {
                _next++;
                chosen = peer;
                return pipe;
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

    private bool SendRequeued()
    {
        while (_requeued.Count > 0)
        {
            MessagePipe? pipe = NextWithRoom();
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
