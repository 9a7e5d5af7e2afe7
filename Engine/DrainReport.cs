namespace Engine;

/// <summary>Messages a drain could not deliver, and why.</summary>
/// <param name="Count">Whole messages.</param>
/// <param name="Reason">Where they were and why they did not make it.</param>
public readonly record struct UndeliveredMessages(long Count, string Reason);

/// <summary>What one socket's drain did. The goal is no <see cref="Undelivered"/> entries.</summary>
public sealed record DrainReport
{
    /// <summary>The socket: type and endpoint.</summary>
    public required string Socket { get; init; }

    /// <summary>True when every step finished within the timeout.</summary>
    public required bool Completed { get; init; }

    /// <summary>How long the drain took.</summary>
    public required TimeSpan Elapsed { get; init; }

    /// <summary>Messages the application received after the drain began.</summary>
    public required long DeliveredToApplication { get; init; }

    /// <summary>Messages written to peers after the drain began.</summary>
    public required long FlushedToPeers { get; init; }

    /// <summary>Messages that could not be delivered, with the reason for each group (ideally empty).</summary>
    public required IReadOnlyList<UndeliveredMessages> Undelivered { get; init; }

    /// <summary>How each kind of peer was drained (for example the fallback used for libzmq and NetMQ peers).</summary>
    public required IReadOnlyList<string> Notes { get; init; }

    /// <summary>Sum of <see cref="Undelivered"/>.</summary>
    public long UndeliveredCount
    {
        get
        {
            long total = 0;
            foreach (UndeliveredMessages group in Undelivered)
            {
                total += group.Count;
            }

            return total;
        }
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"{Socket}: {(Completed ? "drained" : "timed out")} in {Elapsed.TotalMilliseconds:0} ms, delivered {DeliveredToApplication}, flushed {FlushedToPeers}, undelivered {UndeliveredCount}"
        + (Undelivered.Count > 0 ? " (" + string.Join("; ", Undelivered) + ")" : string.Empty)
        + (Notes.Count > 0 ? " [" + string.Join("; ", Notes) + "]" : string.Empty);
}
