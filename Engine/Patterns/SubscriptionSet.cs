using Engine.Pipes;
using Engine.Sessions;

namespace Engine.Patterns;

/// <summary>
/// A SUB/XSUB socket's own subscriptions, and the one place that writes them to peers.
/// </summary>
/// <remarks>
/// <para>Subscriptions are counted: a topic subscribed twice needs two unsubscribes, and only the
/// last one is sent upstream (publishers keep a set per peer).</para>
/// <para>The lock orders two writers of a peer's outbound pipe: the application (subscribe and
/// unsubscribe, written to every peer) and a session that has just connected (which drops what
/// was queued for an older connection and writes the whole current set, as libzmq does after a
/// reconnect). Publishers treat a repeated subscribe from one peer as a no-op, so the overlap of
/// the two is harmless. Pipes for subscriptions have no HWM: a subscription is never dropped.</para>
/// <para>The peers are listed inside the lock, never before it: a list taken before could miss a
/// peer whose session resends the set in between, before this change is in it, and that peer
/// would never hear of the change (a subscription lost for the connection's lifetime).</para>
/// </remarks>
internal sealed class SubscriptionSet
{
    private readonly object _gate = new();
    private readonly SubscriptionTrie _topics = new();
    private readonly Func<IEnumerable<Peer>> _peers;
    private readonly bool _updatedByAnyThread;

    /// <param name="peers">The socket's current peers; a session adds its peer before it calls <see cref="Resend"/>.</param>
    /// <param name="updatedByAnyThread">
    /// True for XSUB, whose subscriptions are messages it sends: a thread that sends may not be
    /// the one that receives (a proxy forwards subscriptions on one and messages on the other),
    /// so the filter is read under the lock. A SUB subscribes from its receiving thread.
    /// </param>
    internal SubscriptionSet(Func<IEnumerable<Peer>> peers, bool updatedByAnyThread = false)
    {
        _peers = peers;
        _updatedByAnyThread = updatedByAnyThread;
    }

    /// <summary>Filter for incoming messages, on the receiving thread.</summary>
    internal bool Matches(ReadOnlySpan<byte> message)
    {
        if (!_updatedByAnyThread)
        {
            return _topics.Matches(message);
        }

        lock (_gate)
        {
            return _topics.Matches(message);
        }
    }

    /// <returns>True when the message must go to the peers.</returns>
    internal bool Update(ReadOnlySpan<byte> subscription)
    {
        lock (_gate)
        {
            bool subscribe = subscription[0] == 1;
            ReadOnlySpan<byte> topic = subscription[1..];
            if (subscribe)
            {
                _topics.Add(topic);
            }
            else if (!_topics.Remove(topic))
            {
                return false;
            }

            WriteToAll(subscription, more: false);
            return true;
        }
    }

    /// <summary>Sends any message (XSUB) to every peer, ordered with the subscriptions.</summary>
    internal void WriteToAll(ReadOnlySpan<byte> message, bool more)
    {
        lock (_gate)
        {
            foreach (Peer peer in _peers())
            {
                MessagePipe? pipe = peer.Outbound;
                if (pipe is null)
                {
                    continue;
                }

                Msg frame = Msg.Copy(message, more);
                pipe.Write(ref frame);
                if (!more)
                {
                    pipe.Flush();
                }
            }
        }
    }

    /// <summary>A connection to <paramref name="peer"/> was just made: replace what was queued with the current set.</summary>
    internal void Resend(Peer peer)
    {
        MessagePipe? pipe = peer.Outbound;
        if (pipe is null)
        {
            return;
        }

        lock (_gate)
        {
            // After a reconnect what was queued for the old connection is replaced by the full set.
            // Only here is this thread the pipe's reader; an inproc pipe is read by the other socket.
            if (peer.Persistent && !peer.IsInproc)
            {
                pipe.DiscardAll();
            }

            foreach ((byte[] topic, _) in _topics.Snapshot())
            {
                Msg frame = Msg.Allocate(topic.Length + 1);
                frame.WritableSpan[0] = 1;
                topic.CopyTo(frame.WritableSpan[1..]);
                pipe.Write(ref frame);
            }

            pipe.Flush();
        }
    }
}
