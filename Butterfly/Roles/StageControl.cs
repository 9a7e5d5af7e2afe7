namespace Butterfly.Roles;

/// <summary>
/// How a role process hears from the orchestrator: <c>GO</c>, <c>FINISH</c> (the source stops
/// making new requests) and <c>STOP</c> lines on stdin.
/// </summary>
/// <remarks>
/// End of stdin also means stop: the orchestrator holds the write end, so if it dies (even by
/// SIGKILL) every child notices within one poll and exits instead of lingering as an orphan.
/// Ctrl+C reaches the whole process group; a role treats it as a stop too, so it still closes its
/// sockets and reports.
/// </remarks>
internal sealed class StageControl : IDisposable
{
    private readonly ManualResetEventSlim _go = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _finish = new();

    private StageControl()
    {
    }

    /// <summary>True once the orchestrator said STOP, closed stdin or Ctrl+C was pressed.</summary>
    internal bool Stopping => _stop.IsCancellationRequested;

    internal CancellationToken StopToken => _stop.Token;

    /// <summary>True once the orchestrator said FINISH (or STOP): make no new work, complete what is open.</summary>
    internal bool Finishing => _finish.IsCancellationRequested || Stopping;

    /// <summary>Starts listening to stdin and (unless <paramref name="onInterrupt"/> is false) Ctrl+C.</summary>
    /// <param name="onInterrupt">False for roles that drain on Ctrl+C and SIGTERM with <c>GracefulShutdown</c> instead of stopping.</param>
    internal static StageControl Listen(bool onInterrupt = true)
    {
        var control = new StageControl();
        if (onInterrupt)
        {
            Console.CancelKeyPress += control.OnCancelKeyPress;
        }

        // A plain background thread: Console.In.ReadLine blocks, and a background thread never
        // keeps the process alive after Main returns.
        var reader = new Thread(control.ReadCommands) { IsBackground = true, Name = "butterfly-control" };
        reader.Start();
        return control;
    }

    /// <summary>Waits for GO; false when stopped first or when <paramref name="timeout"/> passes.</summary>
    internal bool WaitForGo(TimeSpan timeout)
    {
        try
        {
            return _go.Wait(timeout, _stop.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Waits for STOP (the role's work is done but its sockets must stay up); false on timeout.</summary>
    internal bool WaitForStop(TimeSpan timeout) => _stop.Token.WaitHandle.WaitOne(timeout);

    private void ReadCommands()
    {
        try
        {
            while (Console.In.ReadLine() is { } line)
            {
                switch (line.Trim())
                {
                    case "GO":
                        _go.Set();
                        break;
                    case "FINISH":
                        _finish.Cancel();
                        break;
                    case "STOP":
                        _stop.Cancel();
                        return;
                }
            }
        }
        catch (IOException)
        {
            // A broken stdin is the same as a closed one.
        }

        _stop.Cancel();
    }

    private void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
    {
        e.Cancel = true;
        _stop.Cancel();
    }

    /// <summary>Unhooks Ctrl+C. The events stay undisposed on purpose: the stdin thread may still set them.</summary>
    public void Dispose() => Console.CancelKeyPress -= OnCancelKeyPress;
}
