using Engine.Pipes;
using Engine.Sessions;

namespace Engine.Patterns;

/// <summary>
/// PUB and XPUB (RFC 29): every message goes to each subscriber with a matching subscription,
/// filtered here on the publisher side. A subscriber whose pipe is at its HWM misses the message
/// (counted in <see cref="Dropped"/>): a slow subscriber never holds the publisher back.
/// </summary>
/// <remarks>
/// <para>Subscriptions arrive in each peer's inbound pipe in the ZMTP 3.0 message form
/// (<c>0x01 topic</c> / <c>0x00 topic</c>); sessions turn 3.1 SUBSCRIBE/CANCEL commands into that
/// form, so one code path serves both protocol versions. They are applied before each send.</para>
/// <para>XPUB also hands subscriptions to the application: each topic when its first subscriber
/// arrives and when its last one leaves, or every single one with <c>XPubVerbose</c>.</para>
/// <para>A message is shared, not copied: each matching pipe gets a reference to the same buffers.</para>
/// </remarks>
internal sealed class PublisherPattern : ISendStrategy, IReceiveStrategy
{
    private readonly List<Peer> _peers = new();
    private readonly SubscriptionTrie _allTopics = new();
    private readonly Queue<Msg> _forApplication = new();
    private readonly bool _isXPub;
    private readonly Func<bool> _verbose;
    private Peer?[] _targets = new Peer?[8];

    private readonly Func<int> _maxSubscriptionBytes;

    internal PublisherPattern(bool isXPub, Func<bool> verbose, Func<int>? maxSubscriptionBytes = null)
    {
        _isXPub = isXPub;
        _verbose = verbose;
        _maxSubscriptionBytes = maxSubscriptionBytes ?? (static () => 0);
    }

    /// <summary>Messages not delivered to a matching subscriber because its pipe was full.</summary>
    internal long Dropped { get; private set; }

    // XPUB's send and receive run on one thread, so both sides share one peer list.
    void ISendStrategy.Attach(Peer peer) => Attach(peer);

    void IReceiveStrategy.Attach(Peer peer) => Attach(peer);

    void ISendStrategy.Detach(Peer peer) => Detach(peer);

    void IReceiveStrategy.Detach(Peer peer) => Detach(peer);

    Peer? IReceiveStrategy.SolePeer => null;

    private void Attach(Peer peer)
    {
        if (peer.Subscriptions is not null)
        {
            return;
        }

        peer.Subscriptions = new SubscriptionTrie();
        _peers.Add(peer);
    }

    private void Detach(Peer peer)
    {
        if (!_peers.Remove(peer))
        {
            return;
        }

        ApplySubscriptions(peer);
        foreach ((byte[] topic, _) in peer.Subscriptions!.Snapshot())
        {
            if (_allTopics.Remove(topic) && _isXPub)
            {
                Announce(0, topic);
            }
        }

        peer.DiscardPending();
    }

    public bool HasRoom() => true;

    public bool TrySend(Span<Msg> staged, ref Msg last)
    {
        ApplyAllSubscriptions();
        ReadOnlySpan<byte> head = staged.IsEmpty ? last.Span : staged[0].Span;
        int targets = 0;
        foreach (Peer peer in _peers)
        {
            if (!peer.Subscriptions!.Matches(head))
            {
                continue;
            }

            if (!peer.Outbound!.CanWrite)
            {
                Dropped++;
                Diagnostics.EngineMetrics.Dropped.Add(1);
                continue;
            }

            if (targets == _targets.Length)
            {
                Array.Resize(ref _targets, targets * 2);
            }

            _targets[targets++] = peer;
        }

        for (int t = 0; t < targets; t++)
        {
            MessagePipe pipe = _targets[t]!.Outbound!;
            _targets[t] = null;
            for (int i = 0; i < staged.Length; i++)
            {
                Msg share = Share(staged[i]);
                pipe.Write(ref share);
            }

            Msg lastShare = Share(last);
            pipe.Write(ref lastShare);
            pipe.Flush();
        }

        for (int i = 0; i < staged.Length; i++)
        {
            staged[i].Dispose();
        }

        last.Dispose();
        return true;
    }

    private static Msg Share(in Msg frame)
    {
        frame._buffer?.AddReference();
        return frame;
    }

    public bool TryReceive(out Msg frame)
    {
        ApplyAllSubscriptions();
        return _forApplication.TryDequeue(out frame);
    }

    private void ApplyAllSubscriptions()
    {
        foreach (Peer peer in _peers)
        {
            if (peer.Inbound!.HasData)
            {
                ApplySubscriptions(peer);
            }
        }
    }

    private void ApplySubscriptions(Peer peer)
    {
        while (peer.Inbound!.TryRead(out Msg frame))
        {
            ReadOnlySpan<byte> body = frame.Span;
            if (frame.More || body.IsEmpty || body[0] > 1)
            {
                // Not a subscription: XPUB passes other messages up (libzmq does), PUB ignores them.
                if (_isXPub)
                {
                    _forApplication.Enqueue(frame);
                    continue;
                }

                frame.Dispose();
                continue;
            }

            ReadOnlySpan<byte> topic = body[1..];
            bool subscribe = body[0] == 1;
            int limit = _maxSubscriptionBytes();
            if (subscribe && limit > 0 && peer.Subscriptions!.TopicBytes + topic.Length > limit && !peer.Subscriptions.Contains(topic))
            {
                // A subscriber asking for more than the tree may hold for it: refuse it, and close it.
                frame.Dispose();
                peer.CurrentSession?.Abort(Lifetime.ShutdownReason.ProtocolViolation, $"subscriptions exceed MaxSubscriptionBytes ({limit} bytes)");
                continue;
            }

            bool changed = subscribe ? peer.Subscriptions!.AddOnce(topic) : peer.Subscriptions!.RemoveAll(topic);
            bool unique = changed && (subscribe ? _allTopics.Add(topic) : _allTopics.Remove(topic));
            if (_isXPub && (unique || (subscribe && _verbose())))
            {
                _forApplication.Enqueue(frame);
                continue;
            }

            frame.Dispose();
        }
    }

    private void Announce(byte kind, byte[] topic)
    {
        Msg frame = Msg.Allocate(topic.Length + 1);
        frame.WritableSpan[0] = kind;
        topic.CopyTo(frame.WritableSpan[1..]);
        _forApplication.Enqueue(frame);
    }
}
