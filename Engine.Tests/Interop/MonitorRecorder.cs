using System.Collections.Concurrent;
using System.Diagnostics;
using Engine.Sockets;
using Engine.Tests.Infrastructure;

namespace Engine.Tests.Interop;

/// <summary>
/// Records a socket's monitor events in the background, so a test can wait for the n-th event of a
/// kind (with a deadline) and count events afterwards. Events raised before it starts are not lost:
/// the socket buffers them until someone reads.
/// </summary>
internal sealed class MonitorRecorder : IDisposable
{
    private readonly ConcurrentQueue<MonitorEvent> _events = new();
    private readonly CancellationTokenSource _stop = new();

    // Released once per recorded event, so waiting for an event blocks instead of polling.
    private readonly SemaphoreSlim _arrived = new(0);
    private readonly Task _reading;

    internal MonitorRecorder(MessageSocket socket)
    {
        _reading = Task.Run(async () =>
        {
            try
            {
                await foreach (MonitorEvent monitorEvent in socket.MonitorAsync(_stop.Token).ConfigureAwait(false))
                {
                    _events.Enqueue(monitorEvent);
                    _arrived.Release();
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
            }
        });
    }

    internal int Count(MonitorEventKind kind) => _events.Count(e => e.Kind == kind);

    /// <summary>Waits until <paramref name="count"/> events of <paramref name="kind"/> were seen and returns the last of them.</summary>
    /// <remarks>On timeout the failure lists every event seen, which usually says why.</remarks>
    internal MonitorEvent WaitFor(MonitorEventKind kind, int count, TimeSpan? timeout = null)
    {
        TimeSpan limit = timeout ?? Deadline.Default;
        var clock = Stopwatch.StartNew();
        while (Count(kind) < count)
        {
            TimeSpan remaining = limit - clock.Elapsed;
            if (remaining <= TimeSpan.Zero || !_arrived.Wait(remaining))
            {
                Assert.Fail($"Timed out after {limit.TotalSeconds:0.#} s waiting for {count} {kind} event(s); seen: {Describe()}");
            }
        }

        return _events.Where(e => e.Kind == kind).ElementAt(count - 1);
    }

    /// <summary>The events seen so far (the last 40, when a peer kept retrying), for failure messages and the test log.</summary>
    internal string Describe()
    {
        MonitorEvent[] events = _events.ToArray();
        string recent = string.Join("; ", events.TakeLast(40));
        return events.Length > 40 ? $"({events.Length - 40} earlier events) ... {recent}" : recent;
    }

    public void Dispose()
    {
        _stop.Cancel();

        // The reader ends at once on cancel (or when the socket closed first); should it not, leave
        // the two handles to the GC rather than dispose them under its feet.
        if (_reading.Wait(TimeSpan.FromSeconds(5)))
        {
            _stop.Dispose();
            _arrived.Dispose();
        }
    }
}
