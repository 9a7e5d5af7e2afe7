namespace Engine.Directory;

/// <summary>What happened to a watched name.</summary>
public enum DirectoryChangeKind
{
    /// <summary>The endpoint is now registered under the name (on at least one live directory server).</summary>
    Added,

    /// <summary>The endpoint is no longer registered under the name on any live directory server.</summary>
    Removed,

    /// <summary>
    /// The watcher has caught up: every endpoint known when the first server answered has been
    /// reported as <see cref="Added"/>. Sent once per watch; <see cref="DirectoryChange.Endpoint"/> is empty.
    /// </summary>
    Synced,
}

/// <summary>One change to a watched name, as merged over every live directory server.</summary>
/// <param name="Kind">Added, removed, or the one-time synced marker.</param>
/// <param name="Name">The watched name.</param>
/// <param name="Endpoint">The endpoint that appeared or went (empty for <see cref="DirectoryChangeKind.Synced"/>).</param>
public readonly record struct DirectoryChange(DirectoryChangeKind Kind, string Name, string Endpoint)
{
    /// <inheritdoc />
    public override string ToString() => Kind == DirectoryChangeKind.Synced ? $"{Kind} {Name}" : $"{Kind} {Name} {Endpoint}";
}

/// <summary>What a <see cref="DirectoryClient"/> noticed about one of its directory servers.</summary>
public enum DirectoryEventKind
{
    /// <summary>The server answered (for the first time, or again after being unreachable).</summary>
    ServerReachable,

    /// <summary>The server has not answered for longer than the probe interval plus the request timeout; the client carries on with the others.</summary>
    ServerUnreachable,

    /// <summary>The server answered a request with an error (the detail says which and why).</summary>
    RequestRefused,
}

/// <summary>One event about a directory server.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="Server">The directory server's endpoint.</param>
/// <param name="Detail">Why, in words.</param>
/// <param name="ReachableServers">How many of the client's servers were reachable right after the event.</param>
public readonly record struct DirectoryEvent(DirectoryEventKind Kind, string Server, string Detail, int ReachableServers)
{
    /// <inheritdoc />
    public override string ToString() => $"{Kind} {Server}: {Detail} ({ReachableServers} reachable)";
}
