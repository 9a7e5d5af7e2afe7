using System.Runtime.InteropServices;

namespace Engine;

/// <summary>
/// Ctrl+C / SIGTERM hookup: <c>using var shutdown = GracefulShutdown.OnSignals(TimeSpan.FromSeconds(10));</c>
/// turns the signal into <see cref="Drain.AllAsync"/> instead of an abrupt exit. The application's
/// receive loops end when their sockets report drained; <see cref="Completion"/> has the reports.
/// </summary>
public sealed class GracefulShutdown : IDisposable
{
    private readonly TimeSpan _timeout;
    private readonly PosixSignalRegistration[] _registrations;
    private readonly TaskCompletionSource<IReadOnlyList<DrainReport>> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _requested = new();
    private int _started;

    private GracefulShutdown(TimeSpan timeout)
    {
        _timeout = timeout;
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
        ];
    }

    /// <summary>Drains every socket on SIGINT (Ctrl+C) or SIGTERM, within <paramref name="timeout"/>.</summary>
    public static GracefulShutdown OnSignals(TimeSpan timeout) => new(timeout);

    /// <summary>Fires when a shutdown signal arrived (stop producing new work).</summary>
    public CancellationToken ShutdownRequested => _requested.Token;

    /// <summary>Completes with every socket's drain report once the drain is over.</summary>
    public Task<IReadOnlyList<DrainReport>> Completion => _completion.Task;

    /// <summary>Starts the drain now, as if a signal had arrived.</summary>
    public void Trigger()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            return;
        }

        _requested.Cancel();
        _ = RunAsync();
    }

    private void OnSignal(PosixSignalContext context)
    {
        // Keep the process alive: the drain decides when it is done.
        context.Cancel = true;
        Trigger();
    }

    private async Task RunAsync()
    {
        try
        {
            _completion.TrySetResult(await Drain.AllAsync(_timeout).ConfigureAwait(false));
        }
        catch (Exception e)
        {
            _completion.TrySetException(e);
        }
    }

    public void Dispose()
    {
        foreach (PosixSignalRegistration registration in _registrations)
        {
            registration.Dispose();
        }
    }
}
