using Engine.Sockets;

namespace Engine;

/// <summary>Drains every open socket of the process in the order that loses nothing.</summary>
public static class Drain
{
    /// <summary>
    /// First every socket that takes input (they stop their peers, hand over what they hold, and
    /// wait for the application to read it, so the application sends its last responses), then
    /// every send-only socket (its queues flushed to the wire), then all are closed.
    /// </summary>
    public static async Task<IReadOnlyList<DrainReport>> AllAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        var inputs = new List<MessageSocket>();
        var outputs = new List<MessageSocket>();
        foreach (MessageSocket socket in MessageSocket.Live.Keys)
        {
            if (socket.IsDraining || socket.IsEngineInternal)
            {
                continue;
            }

            (socket.HasInput ? inputs : outputs).Add(socket);
        }

        var reports = new List<DrainReport>();
        reports.AddRange(await DrainEachAsync(inputs, deadline, cancellationToken).ConfigureAwait(false));
        reports.AddRange(await DrainEachAsync(outputs, deadline, cancellationToken).ConfigureAwait(false));
        return reports;
    }

    private static async Task<DrainReport[]> DrainEachAsync(List<MessageSocket> sockets, long deadline, CancellationToken cancellationToken)
    {
        var drains = new Task<DrainReport>[sockets.Count];
        TimeSpan left = TimeSpan.FromMilliseconds(Math.Max(0, deadline - Environment.TickCount64));
        for (int i = 0; i < sockets.Count; i++)
        {
            drains[i] = sockets[i].DrainAsync(left, cancellationToken);
        }

        return await Task.WhenAll(drains).ConfigureAwait(false);
    }
}
