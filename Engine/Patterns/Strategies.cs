using Engine.Sessions;

namespace Engine.Patterns;

/// <summary>
/// How a socket routes outgoing messages over its peers. Runs only on the thread that sends, so it
/// needs no locks; peers come and go through <see cref="Attach"/>/<see cref="Detach"/>, which the
/// socket calls on that same thread.
/// </summary>
internal interface ISendStrategy
{
    void Attach(Peer peer);

    /// <summary>The peer is gone and its session has ended: its pipe may be read from here.</summary>
    void Detach(Peer peer);

    /// <summary>
    /// Routes one whole message: <paramref name="staged"/> frames (all with More) and then
    /// <paramref name="last"/>. On success every frame has been taken; on failure none has.
    /// </summary>
    bool TrySend(Span<Msg> staged, ref Msg last);

    /// <summary>Called before the sender sleeps: true when a retry could succeed now.</summary>
    bool HasRoom();

    /// <summary>The peer is draining: route nothing more to it, then say so (<see cref="Peer.RoutingStopped"/>).</summary>
    void StopRouting(Peer peer)
    {
        peer.RoutingStopped = true;
        peer.SendLoopWaiter.Signal();
    }

    /// <summary>Routes messages taken back from departed peers, if there is room; true when none are left.</summary>
    bool TryFlushRequeued() => true;

    /// <summary>The peer handed back messages (in <see cref="Peer.Returned"/>) for other peers to carry.</summary>
    void TakeBack(Peer peer)
    {
        while (peer.Returned.TryDequeue(out Msg frame))
        {
            frame.Dispose();
        }
    }
}

/// <summary>How a socket picks the next incoming message from its peers. Runs only on the receiving thread.</summary>
internal interface IReceiveStrategy
{
    void Attach(Peer peer);

    /// <summary>The peer's connection has ended; what it already delivered must still be read.</summary>
    void Detach(Peer peer);

    bool TryReceive(out Msg frame);

    /// <summary>
    /// The only peer messages can come from now, or null (none, several, or a pattern that does not
    /// queue fairly). A blocking receive with one stream peer may read that peer's socket itself.
    /// </summary>
    Peer? SolePeer { get; }
}
