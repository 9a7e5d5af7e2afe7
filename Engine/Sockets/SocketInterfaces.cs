namespace Engine.Sockets;

/// <summary>A socket that sends: PUSH, DEALER, REQ, REP, ROUTER, PAIR, PUB, XPUB, XSUB.</summary>
/// <remarks>
/// The two members here are the primitives; <see cref="SendExtensions"/> adds the conveniences
/// (spans, strings, multipart, blocking). A socket is used by one thread at a time for sending
/// (and, independently, one for receiving).
/// </remarks>
public interface ISendSocket
{
    /// <summary>The socket's options.</summary>
    SocketOptions Options { get; }

    /// <summary>
    /// Sends one frame, waiting up to <paramref name="timeout"/> for room (zero: do not wait;
    /// <see cref="Timeout.InfiniteTimeSpan"/>: wait forever). A frame with <see cref="Msg.More"/>
    /// is held until the message's last frame, and the whole message is routed at once.
    /// </summary>
    /// <returns>True when sent: the socket took the frame and <paramref name="frame"/> is now empty.
    /// False on timeout: the caller still owns the frame.</returns>
    bool TrySend(ref Msg frame, TimeSpan timeout);

    /// <summary>Sends one frame, waiting asynchronously for room. The socket takes the frame, also when canceled (it is then disposed).</summary>
    ValueTask SendAsync(Msg frame, CancellationToken cancellationToken = default);
}

/// <summary>A socket that receives: PULL, DEALER, REQ, REP, ROUTER, PAIR, SUB, XSUB, XPUB.</summary>
public interface IReceiveSocket
{
    /// <summary>The socket's options.</summary>
    SocketOptions Options { get; }

    /// <summary>
    /// Receives one frame, waiting up to <paramref name="timeout"/>. The caller owns the frame and
    /// disposes it; <see cref="Msg.More"/> says another frame of the same message follows.
    /// </summary>
    bool TryReceive(out Msg frame, TimeSpan timeout);

    /// <summary>Receives one frame, waiting asynchronously.</summary>
    ValueTask<Msg> ReceiveAsync(CancellationToken cancellationToken = default);
}
