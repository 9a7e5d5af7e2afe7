using Engine.Patterns;

namespace Engine.Sockets;

/// <summary>PAIR: exactly one peer; sends and receives. A second peer is refused with a reason.</summary>
public sealed class PairSocket : MessageSocket, ISendSocket, IReceiveSocket
{
    /// <summary>A PAIR socket with the given options (or the defaults).</summary>
    public PairSocket(SocketOptions? options = null)
        : base(SocketType.Pair, options, new LoadBalancer(), new FairQueue())
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

/// <summary>DEALER: load-balances outgoing messages over peers with room, fair-queues incoming ones. No envelope handling.</summary>
public sealed class DealerSocket : MessageSocket, ISendSocket, IReceiveSocket
{
    /// <summary>A DEALER socket with the given options (or the defaults).</summary>
    public DealerSocket(SocketOptions? options = null)
        : base(SocketType.Dealer, options, static (o, socket) => (CreateBalancer(o, socket), new FairQueue()))
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

/// <summary>
/// REQ: sends a request to one peer (round-robin) and then receives exactly its reply. Misuse of
/// the alternation throws <see cref="InvalidOperationException"/>; see <see cref="SocketOptions.RequestRelaxed"/>
/// and <see cref="SocketOptions.RequestCorrelate"/> for retries.
/// </summary>
public sealed class ReqSocket : MessageSocket, ISendSocket, IReceiveSocket
{
    /// <summary>A REQ socket with the given options (or the defaults).</summary>
    public ReqSocket(SocketOptions? options = null)
        : base(SocketType.Req, options, static (o, _) =>
        {
            var pattern = new RequestPattern(() => o.RequestRelaxed, () => o.RequestCorrelate);
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

/// <summary>REP: receives a request (fair-queued) and then sends exactly one reply to its sender, envelope restored.</summary>
public sealed class RepSocket : MessageSocket, ISendSocket, IReceiveSocket
{
    /// <summary>A REP socket with the given options (or the defaults).</summary>
    public RepSocket(SocketOptions? options = null)
        : base(SocketType.Rep, options, static (_, _) =>
        {
            var pattern = new ReplyPattern();
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

/// <summary>
/// ROUTER: each received message starts with the sender's routing id; each sent message starts
/// with the routing id of its destination. See <see cref="SocketOptions.RouterMandatory"/> and
/// <see cref="SocketOptions.RouterHandover"/>.
/// </summary>
public sealed class RouterSocket : MessageSocket, ISendSocket, IReceiveSocket
{
    /// <summary>A ROUTER socket with the given options (or the defaults).</summary>
    public RouterSocket(SocketOptions? options = null)
        : base(SocketType.Router, options, static (o, _) =>
        {
            var pattern = new RouterPattern(() => o.RouterMandatory);
            return (pattern, pattern);
        })
    {
    }

    /// <summary>Messages dropped for an unknown routing id or a full peer pipe (without RouterMandatory).</summary>
    public long DroppedMessages => ((RouterPattern)Sender!).Dropped;

    /// <inheritdoc />
    public bool TrySend(ref Msg frame, TimeSpan timeout) => TrySendFrame(ref frame, timeout);

    /// <inheritdoc />
    public ValueTask SendAsync(Msg frame, CancellationToken cancellationToken = default) => SendFrameAsync(frame, cancellationToken);

    /// <inheritdoc />
    public bool TryReceive(out Msg frame, TimeSpan timeout) => TryReceiveFrame(out frame, timeout);

    /// <inheritdoc />
    public ValueTask<Msg> ReceiveAsync(CancellationToken cancellationToken = default) => ReceiveFrameAsync(cancellationToken);
}
