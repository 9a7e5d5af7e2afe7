namespace Butterfly.Orchestration;

/// <summary>
/// Every child process of the run: started here, their stdout lines handed to one callback, and
/// none left behind — <see cref="StopAllAsync"/> on every normal path, <see cref="KillAll"/> from
/// the process-exit handler as the last resort.
/// </summary>
internal sealed class Cluster : IDisposable
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);

    private readonly List<ChildProcess> _children = new();
    private readonly List<Task> _listeners = new();
    private readonly Action<ChildProcess, string> _onLine;
    private readonly Action<ChildProcess> _onExit;
    private readonly Action<string, string> _onError;

    /// <param name="onLine">Every stdout line after READY (called from the child's listener task).</param>
    /// <param name="onExit">The child closed stdout (it exited or was killed).</param>
    /// <param name="onError">Every stderr line, with the child's name.</param>
    internal Cluster(Action<ChildProcess, string> onLine, Action<ChildProcess> onExit, Action<string, string> onError)
    {
        _onLine = onLine;
        _onExit = onExit;
        _onError = onError;
    }

    internal IReadOnlyList<ChildProcess> Children
    {
        get
        {
            lock (_children)
            {
                return _children.ToArray();
            }
        }
    }

    internal ChildProcess Spawn(string name, string role, params string[] arguments) => Spawn(name, Array.Empty<string>(), role, arguments);

    internal ChildProcess Spawn(string name, IReadOnlyList<string> wrapper, string role, params string[] arguments)
    {
        ChildProcess child = ChildProcess.Start(name, wrapper, line => _onError(name, line), role, arguments);
        lock (_children)
        {
            _children.Add(child);
        }

        return child;
    }

    /// <summary>Waits for READY, then hands every further line to the callback; returns READY's endpoints.</summary>
    internal async Task<string[]> ReadyAsync(ChildProcess child, TimeSpan timeout, CancellationToken cancellationToken)
    {
        string[] endpoints = await child.WaitReadyAsync(timeout, cancellationToken).ConfigureAwait(false);
        Task listener = Task.Run(() => ListenAsync(child));
        lock (_children)
        {
            _listeners.Add(listener);
        }

        return endpoints;
    }

    /// <summary>Says <paramref name="command"/> (GO, FINISH, STOP) to every child still running.</summary>
    internal void TellAll(string command)
    {
        foreach (ChildProcess child in Children)
        {
            child.Tell(command);
        }
    }

    /// <summary>Stops every child (STOP, then kill after the grace period), all at once, and waits for their last lines.</summary>
    internal async Task StopAllAsync()
    {
        await Task.WhenAll(Children.Select(c => c.StopAsync(StopGrace))).ConfigureAwait(false);
        Task[] listeners;
        lock (_children)
        {
            listeners = _listeners.ToArray();
        }

        // The listeners end when stdout closes, which StopAsync waited for; bounded all the same.
        await Task.WhenAny(Task.WhenAll(listeners), Task.Delay(StopGrace)).ConfigureAwait(false);
    }

    /// <summary>The last resort, also from the process-exit handler: no child may outlive the orchestrator.</summary>
    internal void KillAll()
    {
        foreach (ChildProcess child in Children)
        {
            child.Kill();
        }
    }

    public void Dispose()
    {
        foreach (ChildProcess child in Children)
        {
            child.Dispose();
        }
    }

    private async Task ListenAsync(ChildProcess child)
    {
        try
        {
            while (await child.ReadLineAsync(Timeout.InfiniteTimeSpan, CancellationToken.None).ConfigureAwait(false) is { } line)
            {
                _onLine(child, line);
            }
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
        }

        _onExit(child);
    }
}
