using System.Diagnostics.Metrics;
using System.Globalization;
using Engine;
using Engine.Sockets;

namespace Butterfly.Roles;

/// <summary>
/// What a role tells the orchestrator while it runs, on stdout: a <c>STAT</c> line four times a
/// second (its own counters, the messages queued in its sockets, what its sockets re-routed) and an
/// <c>EVENT kind endpoint reason</c> line for every socket event worth showing.
/// </summary>
/// <remarks>
/// Queue depth and re-routes come from the engine's public metrics (meter <c>Engine</c>), read
/// in-process with a <see cref="MeterListener"/>: the same numbers <c>dotnet-counters</c> shows.
/// </remarks>
internal sealed class StageReporter : IDisposable
{
    internal static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    private readonly Func<string> _counters;
    private readonly MeterListener _meters = new();
    private readonly Timer _timer;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _queued;
    private long _rerouted;

    /// <param name="counters">The role's own figures as <c>name=value</c> pairs, e.g. <c>processed=123</c>.</param>
    internal StageReporter(Func<string> counters)
    {
        _counters = counters;
        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Engine" && instrument.Name is "engine.queue.depth" or "engine.messages.rerouted")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _meters.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == "engine.queue.depth")
            {
                Volatile.Write(ref _queued, value);
            }
            else
            {
                Interlocked.Add(ref _rerouted, value);
            }
        });
        _meters.Start();
        _timer = new Timer(_ => Report(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Messages the engine re-routed in this process so far.</summary>
    internal long Rerouted => Interlocked.Read(ref _rerouted);

    /// <summary>Starts the STAT lines; called after READY, which must be the role's first line.</summary>
    internal void Start()
    {
        _timer.Change(Interval, Interval);
        _started.TrySetResult();
    }

    /// <summary>Forwards the socket's connection events as EVENT lines until the socket closes or the reporter is disposed.</summary>
    internal void Watch(MessageSocket socket) => _ = ForwardAsync(socket);

    /// <summary>Prints one STAT line now (also the last one, before DONE, so the final counts are exact).</summary>
    internal void Report()
    {
        _meters.RecordObservableInstruments();
        string line = string.Create(CultureInfo.InvariantCulture, $"STAT {_counters()} queued={Volatile.Read(ref _queued)} rerouted={Rerouted}");
        Console.Out.WriteLine(line);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _timer.Dispose();
        _meters.Dispose();
    }

    private async Task ForwardAsync(MessageSocket socket)
    {
        try
        {
            // Nothing before READY, which the orchestrator expects first; the monitor keeps the events meanwhile.
            await _started.Task.WaitAsync(_stop.Token).ConfigureAwait(false);
            await foreach (MonitorEvent e in socket.MonitorAsync(_stop.Token).ConfigureAwait(false))
            {
                if (IsWorthShowing(e.Kind))
                {
                    // One line, three fields the orchestrator splits on the first two spaces.
                    string reason = (e.Reason ?? string.Empty).ReplaceLineEndings(" ");
                    Console.Out.WriteLine($"EVENT {e.Kind} {e.Endpoint} {reason}".TrimEnd());
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static bool IsWorthShowing(MonitorEventKind kind) => kind is MonitorEventKind.PeerDead
        or MonitorEventKind.MessagesRerouted
        or MonitorEventKind.Disconnected
        or MonitorEventKind.HandshakeSucceeded
        or MonitorEventKind.HandshakeFailed
        or MonitorEventKind.DirectoryChanged
        or MonitorEventKind.DirectoryUnreachable
        or MonitorEventKind.DirectoryReachable;
}
