using Engine.Sessions;

namespace Engine.Patterns;

/// <summary>
/// Takes incoming messages from peers in turn (PULL, DEALER), so that one busy sender cannot starve
/// the others ("senders gone berserk won't cause denial of service for decent senders").
/// </summary>
/// <remarks>
/// Pipes only ever hold whole messages, so once the first frame of a message is read the rest is
/// there: the queue stays on that peer until the last frame. A peer whose connection ended stays
/// in the rotation until everything it delivered has been read: nothing accepted is dropped.
/// </remarks>
internal sealed class FairQueue : IReceiveStrategy
{
    private readonly List<Peer> _peers = new();
    private int _current;
    private bool _midMessage;

    internal int PeerCount => _peers.Count;

    public void Attach(Peer peer) => _peers.Add(peer);

    public void Detach(Peer peer) => peer.Detached = true;

    public Peer? SolePeer => _peers.Count == 1 && !_peers[0].Detached ? _peers[0] : null;

    public bool TryReceive(out Msg frame) => Take(out frame) is not null;

    /// <summary>As <see cref="TryReceive(out Msg)"/>, and says which peer the frame came from.</summary>
    internal bool TryReceive(out Msg frame, out Peer? from)
    {
        from = Take(out frame);
        return from is not null;
    }

    /// <returns>The peer the frame came from (returned rather than stored through an out
    /// parameter: that store costs a write barrier per frame), or null when none is waiting.</returns>
    private Peer? Take(out Msg frame)
    {
        int count = _peers.Count;
        for (int tried = 0; tried < count; tried++)
        {
            if (_current >= _peers.Count)
            {
                _current = 0;
            }

            Peer peer = _peers[_current];
            if (peer.Inbound!.TryRead(out frame))
            {
                _midMessage = frame.More;
                if (!_midMessage)
                {
                    _current++;
                }

                return peer;
            }

            if (peer.Detached)
            {
                // Its receive loop has ended and the pipe is empty: nothing more can come from it.
                _peers.RemoveAt(_current);
                continue;
            }

            _current++;
        }

        frame = default;
        return null;
    }

    /// <summary>
    /// Finds the next peer with a message without reading it; the following <see cref="TryReceive(out Msg)"/>
    /// reads that message's frames from that peer.
    /// </summary>
    internal bool TryPeekPeer([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Peer? peer)
    {
        int count = _peers.Count;
        for (int tried = 0; tried < count; tried++)
        {
            if (_current >= _peers.Count)
            {
                _current = 0;
            }

            Peer candidate = _peers[_current];
            if (candidate.Inbound!.HasData)
            {
                peer = candidate;
                _midMessage = true;
                return true;
            }

            if (candidate.Detached)
            {
                _peers.RemoveAt(_current);
                continue;
            }

            _current++;
        }

        peer = null;
        return false;
    }

    /// <summary>Reads and disposes the rest of a message whose first frame was already taken from <paramref name="peer"/>.</summary>
    internal void DiscardRest(Peer peer)
    {
        if (!_midMessage)
        {
            return;
        }

        while (_midMessage && peer.Inbound!.TryRead(out Msg frame))
        {
            _midMessage = frame.More;
            frame.Dispose();
        }

        _midMessage = false;
        _current++;
    }
}
