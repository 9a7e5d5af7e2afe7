using System.Collections.Concurrent;
using System.Diagnostics;
using Engine.Pipes;

namespace Engine.Sessions;

/// <summary>
/// What a socket's pattern sees of one remote peer: its pipes, its identity and whether it is up.
/// </summary>
/// <remarks>
/// A peer on the connecting side lives as long as the <c>Connect</c> (its pipes survive reconnects,
/// as in libzmq); a peer on the binding side lives as long as one accepted connection. The pattern
/// (user thread) writes <see cref="Outbound"/> and reads <see cref="Inbound"/>; the session's send
/// and receive loops own the other ends.
/// </remarks>
[DebuggerDisplay("Peer {Address}")]
internal sealed class Peer
{
    internal Peer(string address, MessagePipe? outbound, MessagePipe? inbound, bool persistent, bool inproc = false)
    {
        Address = address;
        Outbound = outbound;
        Inbound = inbound;
        Persistent = persistent;
        IsInproc = inproc;
        if (inproc)
        {
            // The other socket's waiters are wired in by the inproc link; no session loops here.
            return;
        }

        if (outbound is not null)
        {
            outbound.ReaderWaiter = SendLoopWaiter;
        }

        if (inbound is not null)
        {
            inbound.WriterWaiter = ReceiveLoopWaiter;
        }
    }

    /// <summary>An inproc peer: its pipes are read and written directly by another socket.</summary>
    internal bool IsInproc { get; }

    /// <summary>Inproc: the socket that reads this peer's outbound pipe is gone (or never came), so this side may read it to reroute or discard.</summary>
    internal volatile bool InprocReaderGone;

    /// <summary>True when this socket may read the outbound pipe after the peer left: always over a stream, over inproc only once the other socket stopped reading.</summary>
    private bool MayTakeBackOutbound => !IsInproc || InprocReaderGone;

    /// <summary>The peer left for good: drops what was still queued for it, unless another socket still reads that pipe (inproc).</summary>
    internal void DiscardPending()
    {
        if (MayTakeBackOutbound)
        {
            Outbound?.DiscardAll();
        }
    }

    /// <summary>The peer's address as we know it (the endpoint we connected to, or the accepted remote address).</summary>
    internal string Address { get; }

    /// <summary>Socket -> wire. Null for patterns that never send.</summary>
    internal MessagePipe? Outbound { get; }

    /// <summary>Wire -> socket. Null for patterns that never receive.</summary>
    internal MessagePipe? Inbound { get; }

    /// <summary>True on the connecting side: the peer and its pipes outlive a connection.</summary>
    internal bool Persistent { get; }

    /// <summary>Parks the session's send loop until the outbound pipe has frames (reader side of <see cref="Outbound"/>).</summary>
    internal Waiter SendLoopWaiter { get; } = new(inlineContinuations: true);

    /// <summary>Parks the session's receive loop while the inbound pipe is at its HWM (writer side of <see cref="Inbound"/>).</summary>
    internal Waiter ReceiveLoopWaiter { get; } = new(inlineContinuations: true);

    /// <summary>How a ROUTER addresses this peer: its announced identity or one we generated. Set before attach.</summary>
    internal byte[]? RoutingId { get; set; }

    /// <summary>The session serving this peer now, if any (to close it on a ROUTER handover).</summary>
    internal volatile Session? CurrentSession;

    /// <summary>True once the peer was handed to the routing strategies.</summary>
    internal bool Attached { get; set; }

    /// <summary>PUB/XPUB side: the topics this subscriber asked for (a set per peer).</summary>
    internal Patterns.SubscriptionTrie? Subscriptions { get; set; }

    /// <summary>Identity the peer announced in READY, if any.</summary>
    internal byte[]? Identity { get; set; }

    /// <summary>The peer's socket type, once a handshake has completed.</summary>
    internal SocketType? PeerType { get; set; }

    /// <summary>Set by the pattern (user thread) when the socket let go of this peer.</summary>
    internal bool Detached { get; set; }

    /// <summary>Set by the send loop while it is parked with everything flushed; read by a lingering close.</summary>
    internal volatile bool SendIdle;

    /// <summary>True while a session's loops serve this peer.</summary>
    internal volatile bool SessionActive;

    /// <summary>True when messages written now will go out: a live connection, or an inproc link.</summary>
    internal bool IsUp => SessionActive && !DrainRequested;

    // ---- graceful drain (see MessageSocket.Drain.cs): set by sessions, read across threads.

    /// <summary>The peer announced <c>X-Drain</c> in READY: it understands DRAIN/DRAINED.</summary>
    internal volatile bool SupportsDrain;

    /// <summary>Upstream side: the peer is draining and asked us to stop sending to it.</summary>
    internal volatile bool DrainRequested;

    /// <summary>Upstream side: the sending thread has taken the peer out of its rotation.</summary>
    internal volatile bool RoutingStopped;

    /// <summary>Downstream side: our send loop must tell the peer to stop sending (DRAIN).</summary>
    internal volatile bool SendDrainCommand;

    /// <summary>Downstream side: 1 once this connection was asked to stop (by the drain or by the session that came up during it): DRAIN goes out once.</summary>
    internal int DrainAsked;

    /// <summary>Downstream side: the peer said nothing more will come (DRAINED).</summary>
    internal volatile bool EndOfStream;

    /// <summary>When the receive loop last read anything from this peer (Environment.TickCount64).</summary>
    internal long LastReceivedTicks;

    /// <summary>Messages handed back for re-routing; filled by the pipe's reader, emptied by the sending thread.</summary>
    internal ConcurrentQueue<Msg> Returned { get; } = new();

    /// <summary>
    /// Moves everything not yet handed to a connection (the pipe's contents) into
    /// <see cref="Returned"/>, in order. Only the pipe's current reader may call this: the session
    /// after its loops ended, or the connector between connections; over inproc, only once the
    /// other socket stopped reading (otherwise nothing is taken: it reads the rest itself).
    /// </summary>
    /// <returns>Whole messages handed back.</returns>
    internal int ReturnPending()
    {
        int messages = 0;
        if (Outbound is not null && MayTakeBackOutbound)
        {
            while (Outbound.TryRead(out Msg frame))
            {
                messages += frame._more ? 0 : 1;
                Returned.Enqueue(frame);
            }

            Outbound.CommitRead();
        }

        return messages;
    }

    /// <summary>True when frames wait to be sent to this peer (reader's view).</summary>
    internal bool HasPending => Outbound?.HasData ?? false;
}
