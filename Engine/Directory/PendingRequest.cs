namespace Engine.Directory;

internal enum RequestKind : byte
{
    Register,
    Unregister,
    Resolve,
    Watch,
    Unwatch,
    Ping,
}

/// <summary>
/// A request the client sent to one or more servers under one request id, waiting for their
/// answers. Owned by the client's loop.
/// </summary>
internal sealed class PendingRequest(RequestKind kind, uint id, byte[][] frames, long deadline)
{
    internal RequestKind Kind { get; } = kind;

    internal uint Id { get; } = id;

    /// <summary>The request as sent; kept so a server that connects late gets it too.</summary>
    internal byte[][] Frames { get; } = frames;

    internal long Deadline { get; } = deadline;

    internal List<ServerLink> Targets { get; } = new();

    internal HashSet<ServerLink> Answered { get; } = new();

    /// <summary>Answers that carried data (RESOLVE); errors are not counted.</summary>
    internal int Answers { get; set; }

    internal string Name { get; init; } = string.Empty;

    internal DirectoryRegistration? Registration { get; init; }

    internal TaskCompletionSource? Done { get; init; }

    internal TaskCompletionSource<IReadOnlyList<string>>? Resolved { get; init; }

    internal HashSet<string>? Union { get; init; }

    internal string? LastError { get; set; }

    /// <summary>True when every target answered, not counting (for RESOLVE) the ones known to be unreachable.</summary>
    internal bool AllAnswered(bool skipUnreachable)
    {
        foreach (ServerLink target in Targets)
        {
            if (!Answered.Contains(target) && !(skipUnreachable && target.State == LinkState.Unreachable))
            {
                return false;
            }
        }

        return true;
    }
}
