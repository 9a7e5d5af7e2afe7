using System.ComponentModel;
using System.Diagnostics;
using System.Threading.Channels;

namespace Butterfly.Orchestration;

/// <summary>
/// One role running as a child process of this same program: its stdout lines come in through a
/// channel, its stderr is passed through with the role's name, its stdin carries GO and STOP.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly Task _stdoutPump;

    private ChildProcess(string name, Process process)
    {
        Name = name;
        _process = process;
        _stdoutPump = Task.Run(PumpStdoutAsync);
    }

    /// <summary>The role and instance, e.g. <c>component1#2</c>.</summary>
    internal string Name { get; }

    /// <summary>True when the process had to be killed instead of exiting by itself.</summary>
    internal bool WasKilled { get; private set; }

    /// <summary>True when the scenario killed it on purpose (its death is not a failure).</summary>
    internal bool KilledByScenario { get; set; }

    /// <summary>The process id (signals go to it).</summary>
    internal int Pid => _process.Id;

    internal bool HasExited => SafeHasExited();

    internal int ExitCode => _process.ExitCode;

    /// <summary>Starts <c>Butterfly role args...</c> the same way this process was started.</summary>
    /// <param name="wrapper">A command that runs the child, e.g. <c>ip netns exec ns</c> (it must exec, so the pid stays the child's); empty for none.</param>
    /// <param name="onError">Each stderr line of the child (from a pool thread).</param>
    internal static ChildProcess Start(string name, IReadOnlyList<string> wrapper, Action<string> onError, string role, params IEnumerable<string> roleArguments)
    {
        var info = new ProcessStartInfo
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };

        // Run as "dotnet Butterfly.dll" when we were started that way, else through the apphost:
        // either way the children run exactly the build the orchestrator runs.
        string host = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell which executable is running");
        var command = new List<string>(wrapper) { host };
        if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            command.Add(typeof(ChildProcess).Assembly.Location);
        }

        info.FileName = command[0];
        foreach (string argument in command.Skip(1))
        {
            info.ArgumentList.Add(argument);
        }

        info.ArgumentList.Add(role);
        foreach (string argument in roleArguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                onError(e.Data);
            }
        };
        process.Start();
        process.BeginErrorReadLine();
        return new ChildProcess(name, process);
    }

    /// <summary>Waits for the first line, <c>READY role endpoint...</c>, and returns the endpoints.</summary>
    internal async Task<string[]> WaitReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        string line = await ReadLineAsync(timeout, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"{Name} exited before it was ready{ExitNote()}");
        string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length < 2 || words[0] != "READY")
        {
            throw new InvalidOperationException($"{Name} said '{line}' instead of READY");
        }

        return words[2..];
    }

    /// <summary>The next stdout line; null when the child closed stdout (it exited).</summary>
    /// <exception cref="TimeoutException">No line within <paramref name="timeout"/>.</exception>
    internal async Task<string?> ReadLineAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            while (await _lines.Reader.WaitToReadAsync(deadline.Token).ConfigureAwait(false))
            {
                if (_lines.Reader.TryRead(out string? line))
                {
                    return line;
                }
            }

            return null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{Name} printed nothing for {timeout.TotalSeconds:0.#} s");
        }
    }

    /// <summary>Writes a command line (GO, STOP) to the child's stdin; a child that is gone is ignored.</summary>
    internal void Tell(string command)
    {
        try
        {
            _process.StandardInput.WriteLine(command);
            _process.StandardInput.Flush();
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException)
        {
        }
    }

    /// <summary>Asks the child to stop (STOP, then end of stdin) and kills it if it has not exited within <paramref name="grace"/>.</summary>
    internal async Task StopAsync(TimeSpan grace)
    {
        Tell("STOP");
        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
        }

        if (!await WaitForExitAsync(grace).ConfigureAwait(false))
        {
            Console.Error.WriteLine($"butterfly: {Name} did not stop within {grace.TotalSeconds:0.#} s; killing it");
            Kill();
            await WaitForExitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }

        // Its last lines (DONE, SENT) are read by the pump once stdout closes; wait for that, bounded.
        try
        {
            await _stdoutPump.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Console.Error.WriteLine($"butterfly: {Name} kept its stdout open after exiting; its last report may be missing");
        }
    }

    /// <summary>Waits (bounded) for the child to exit; false if it is still running after <paramref name="timeout"/>.</summary>
    internal Task<bool> WaitForExitAsync(TimeSpan timeout) => WaitForExitCoreAsync(timeout);

    /// <summary>Kills the child (and anything it started) if it is still running. Safe from any thread.</summary>
    internal void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                WasKilled = true;
            }
        }
        catch (Exception e) when (e is InvalidOperationException or Win32Exception or NotSupportedException)
        {
            // Already gone.
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private async Task<bool> WaitForExitCoreAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task PumpStdoutAsync()
    {
        try
        {
            while (await _process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                _lines.Writer.TryWrite(line);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
        }
        finally
        {
            _lines.Writer.TryComplete();
        }
    }

    private bool SafeHasExited()
    {
        try
        {
            return _process.HasExited;
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }

    private string ExitNote() => SafeHasExited() ? $" (exit code {_process.ExitCode})" : string.Empty;
}
