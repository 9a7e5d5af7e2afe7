namespace Engine.Lifetime;

/// <summary>
/// Why a connection ended. Grouped like Pipelines.Sockets.Unofficial's PipeShutdownKind:
/// 0xx local decisions, 1xx receive side, 2xx send side, 3xx protocol. The first reason recorded
/// wins; later ones are only logged.
/// </summary>
internal enum ShutdownReason
{
    None = 0,
    SocketClosed = 1,
    Disconnected = 2,
    Unbound = 3,
    SelfConnect = 4,
    PeerDead = 5,
    ReceiveEndOfStream = 100,
    ReceiveSocketError = 101,
    SendSocketError = 200,
    ProtocolViolation = 300,
    HandshakeTimeout = 301,
    PeerSentError = 302,
    IncompatiblePeer = 303,
    AuthenticationFailed = 304,
}
