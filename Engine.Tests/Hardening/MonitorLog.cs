using System.Collections.Concurrent;
using Engine.Sockets;

namespace Engine.Tests.Hardening;

/// <summary>Keeps every monitor event of a socket so tests can wait for the one about a given connection.</summary>
internal sealed class MonitorLog : IDisposable
{
    private readonly ConcurrentQueue<MonitorEvent> _events = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;

    /// <param name="socket">Whose events to keep.</param>
    /// <param name="keep">Which events to keep (all by default); a long fuzz run keeps only the suspicious ones.</param>
    internal MonitorLog(MessageSocket socket, Func<MonitorEvent, bool>? keep = null)
    {
        _reader = Task.Run(async () =>
        {
            try
            {
                await foreach (MonitorEvent e in socket.MonitorAsync(_stop.Token))
                {
                    if (keep is null || keep(e))
                    {
                        _events.Enqueue(e);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
    }

    internal IReadOnlyCollection<MonitorEvent> Events => _events;

    internal IEnumerable<MonitorEvent> For(string address) => _events.Where(e => e.Endpoint == address);

    /// <summary>Waits for an event of <paramref name="kind"/> about <paramref name="address"/>; fails with what did arrive.</summary>
    internal MonitorEvent WaitFor(string address, MonitorEventKind kind, TimeSpan timeout)
    {
        MonitorEvent? found = null;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (found is null && clock.Elapsed < timeout)
        {
            found = For(address).Where(e => e.Kind == kind).Select(e => (MonitorEvent?)e).FirstOrDefault();
            if (found is null)
            {
                Thread.Sleep(5);
            }
        }

        Assert.That(found, Is.Not.Null, $"no {kind} event for {address} within {timeout.TotalSeconds:0.#} s; got: {string.Join(" | ", For(address))}");
        return found!.Value;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _reader.Wait(TimeSpan.FromSeconds(5));
    }
}
