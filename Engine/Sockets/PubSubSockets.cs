using System.Text;
using Engine.Patterns;

namespace Engine.Sockets;

/// <summary>
/// PUB: sends each message to every subscriber whose subscription is a prefix of it (filtered
/// here). A subscriber at its HWM misses the message (see <see cref="DroppedMessages"/>); the
/// publisher never blocks. Never receives.
/// </summary>
public sealed class PubSocket : MessageSocket, ISendSocket
{
    /// <summary>A PUB socket with the given options (or the defaults).</summary>
    public PubSocket(SocketOptions? options = null)
        : base(SocketType.Pub, options, static (o, _) => (new PublisherPattern(isXPub: false, () => o.XPubVerbose), null))
    {
    }

    /// <summary>Messages a matching subscriber missed because its pipe was at its high-water mark.</summary>
    public long DroppedMessages => ((PublisherPattern)Sender!).Dropped;

    private protected override bool UsesInbound => true;

    /// <inheritdoc />
    public bool TrySend(ref Msg frame, TimeSpan timeout) => TrySendFrame(ref frame, timeout);

    /// <inheritdoc />
    public ValueTask SendAsync(Msg frame, CancellationToken cancellationToken = default) => SendFrameAsync(frame, cancellationToken);
}

/// <summary>
/// XPUB: a PUB that also receives the subscriptions (<c>0x01 topic</c>, <c>0x00 topic</c>) so that
/// proxies and "last value" caches can act on them. Send and receive from one thread at a time.
/// </summary>
public sealed class XPubSocket : MessageSocket, ISendSocket, IReceiveSocket
{
    /// <summary>An XPUB socket with the given options (or the defaults).</summary>
    public XPubSocket(SocketOptions? options = null)
        : base(SocketType.XPub, options, static (o, _) =>
        {
            var pattern = new PublisherPattern(isXPub: true, () => o.XPubVerbose);
            return (pattern, pattern);
        })
    {
    }

    /// <summary>Messages a matching subscriber missed because its pipe was at its high-water mark.</summary>
    public long DroppedMessages => ((PublisherPattern)Sender!).Dropped;

    /// <inheritdoc />
    public bool TrySend(ref Msg frame, TimeSpan timeout) => TrySendFrame(ref frame, timeout);

    /// <inheritdoc />
    public ValueTask SendAsync(Msg frame, CancellationToken cancellationToken = default) => SendFrameAsync(frame, cancellationToken);

    /// <inheritdoc />
    public bool TryReceive(out Msg frame, TimeSpan timeout) => TryReceiveFrame(out frame, timeout);

    /// <inheritdoc />
    public ValueTask<Msg> ReceiveAsync(CancellationToken cancellationToken = default) => ReceiveFrameAsync(cancellationToken);
}

/// <summary>
/// SUB: receives the messages that match its subscriptions, fair-queued from its publishers.
/// Subscriptions are counted and are sent again to a publisher after every reconnect.
/// Subscribe from the thread that receives.
/// </summary>
public sealed class SubSocket : MessageSocket, IReceiveSocket
{
    /// <summary>A SUB socket with the given options (or the defaults). It receives nothing until it subscribes.</summary>
    public SubSocket(SocketOptions? options = null)
        : base(SocketType.Sub, options, static (_, socket) =>
        {
            var subscriptions = new SubscriptionSet();
            socket.Subscriptions = subscriptions;
            return (null, new SubscriberPattern(subscriptions, () => socket.AllPeers));
        })
    {
    }

    private protected override bool UsesOutbound => true;

    /// <summary>Receives messages starting with <paramref name="topic"/> (empty: everything). Counted: subscribe twice, unsubscribe twice.</summary>
    public void Subscribe(ReadOnlySpan<byte> topic) => Update(1, topic);

    /// <summary>Subscribes to the UTF-8 bytes of <paramref name="topic"/>.</summary>
    public void Subscribe(string topic) => Subscribe(Encoding.UTF8.GetBytes(topic));

    /// <summary>Removes one subscription to <paramref name="topic"/>; the publishers are told when the last one goes.</summary>
    public void Unsubscribe(ReadOnlySpan<byte> topic) => Update(0, topic);

    /// <summary>Unsubscribes from the UTF-8 bytes of <paramref name="topic"/>.</summary>
    public void Unsubscribe(string topic) => Unsubscribe(Encoding.UTF8.GetBytes(topic));

    private void Update(byte kind, ReadOnlySpan<byte> topic)
    {
        ThrowIfDisposed();
        Span<byte> message = topic.Length < 256 ? stackalloc byte[topic.Length + 1] : new byte[topic.Length + 1];
        message[0] = kind;
        topic.CopyTo(message[1..]);
        Subscriptions!.Update(message, AllPeers);
    }

    /// <inheritdoc />
    public bool TryReceive(out Msg frame, TimeSpan timeout) => TryReceiveFrame(out frame, timeout);

    /// <inheritdoc />
    public ValueTask<Msg> ReceiveAsync(CancellationToken cancellationToken = default) => ReceiveFrameAsync(cancellationToken);
}

/// <summary>
/// XSUB: a SUB whose subscriptions are messages it sends (<c>0x01 topic</c> to subscribe,
/// <c>0x00 topic</c> to unsubscribe); other messages it sends go to every publisher.
/// </summary>
public sealed class XSubSocket : MessageSocket, ISendSocket, IReceiveSocket
{
    /// <summary>An XSUB socket with the given options (or the defaults).</summary>
    public XSubSocket(SocketOptions? options = null)
        : base(SocketType.XSub, options, static (_, socket) =>
        {
            var subscriptions = new SubscriptionSet();
            socket.Subscriptions = subscriptions;
            var pattern = new SubscriberPattern(subscriptions, () => socket.AllPeers);
            return (pattern, pattern);
        })
    {
    }

    /// <inheritdoc />
    public bool TrySend(ref Msg frame, TimeSpan timeout) => TrySendFrame(ref frame, timeout);

    /// <inheritdoc />
    public ValueTask SendAsync(Msg frame, CancellationToken cancellationToken = default) => SendFrameAsync(frame, cancellationToken);

    /// <inheritdoc />
    public bool TryReceive(out Msg frame, TimeSpan timeout) => TryReceiveFrame(out frame, timeout);

    /// <inheritdoc />
    public ValueTask<Msg> ReceiveAsync(CancellationToken cancellationToken = default) => ReceiveFrameAsync(cancellationToken);
}
