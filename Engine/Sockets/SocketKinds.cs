using Engine.Patterns;

namespace Engine.Sockets;

/// <summary>Base of the socket types that only send (PUSH, PUB).</summary>
public abstract class SendingSocket : MessageSocket, ISendSocket
{
    private protected SendingSocket(
        SocketType type,
        SocketOptions? options,
        Func<SocketOptions, MessageSocket, (ISendStrategy? Sender, IReceiveStrategy? Receiver)> strategies)
        : base(type, options, strategies)
    {
    }

    /// <inheritdoc />
    public bool TrySend(ref Msg frame, TimeSpan timeout) => TrySendFrame(ref frame, timeout);

    /// <inheritdoc />
    public ValueTask SendAsync(Msg frame, CancellationToken cancellationToken = default) => SendFrameAsync(frame, cancellationToken);
}

/// <summary>Base of the socket types that only receive (PULL, SUB).</summary>
public abstract class ReceivingSocket : MessageSocket, IReceiveSocket
{
    private protected ReceivingSocket(
        SocketType type,
        SocketOptions? options,
        Func<SocketOptions, MessageSocket, (ISendStrategy? Sender, IReceiveStrategy? Receiver)> strategies)
        : base(type, options, strategies)
    {
    }

    /// <inheritdoc />
    public bool TryReceive(out Msg frame, TimeSpan timeout) => TryReceiveFrame(out frame, timeout);

    /// <inheritdoc />
    public ValueTask<Msg> ReceiveAsync(CancellationToken cancellationToken = default) => ReceiveFrameAsync(cancellationToken);
}

/// <summary>Base of the socket types that send and receive (PAIR, DEALER, ROUTER, REQ, REP, XPUB, XSUB).</summary>
public abstract class DuplexSocket : MessageSocket, ISendSocket, IReceiveSocket
{
    private protected DuplexSocket(
        SocketType type,
        SocketOptions? options,
        Func<SocketOptions, MessageSocket, (ISendStrategy? Sender, IReceiveStrategy? Receiver)> strategies)
        : base(type, options, strategies)
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
