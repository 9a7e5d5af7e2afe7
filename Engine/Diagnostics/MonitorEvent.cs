namespace Engine;

/// <summary>What happened to a socket's endpoint or connection.</summary>
public enum MonitorEventKind
{
    Listening,
    BindFailed,
    Accepted,
    Connected,
    ConnectRetried,
    HandshakeSucceeded,
    HandshakeFailed,
    Disconnected,
    ProtocolError,
    Closed,
    PeerDead,
    MessagesRerouted,

    /// <summary>A <c>dir://</c> name was resolved for the first time (the reason says to how many endpoints).</summary>
    DirectoryResolved,

    /// <summary>An endpoint appeared under or left a followed <c>dir://</c> name; the socket connected or disconnected it.</summary>
    DirectoryChanged,

    /// <summary>A directory server stopped answering; the socket keeps its connections and the client keeps retrying.</summary>
    DirectoryUnreachable,

    /// <summary>A directory server answers (again).</summary>
    DirectoryReachable,

    /// <summary>A connection was accepted and closed at once: the endpoint had <see cref="SocketOptions.MaxConnections"/> already.</summary>
    ConnectionRefused,
}

/// <summary>One socket event: what, on which endpoint or peer, and why (for failures and disconnects).</summary>
/// <param name="Kind">What happened.</param>
/// <param name="Endpoint">The local endpoint or the peer's address.</param>
/// <param name="Reason">Why, for failures and disconnects; otherwise null.</param>
/// <param name="Timestamp">When, in UTC.</param>
public readonly record struct MonitorEvent(MonitorEventKind Kind, string Endpoint, string? Reason, DateTime Timestamp)
{
    /// <inheritdoc />
    public override string ToString() => Reason is null ? $"{Kind} {Endpoint}" : $"{Kind} {Endpoint}: {Reason}";
}
