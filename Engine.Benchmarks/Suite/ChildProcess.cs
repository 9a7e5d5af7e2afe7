using System.Collections.Concurrent;
using System.Diagnostics;

namespace Engine.Benchmarks.Suite;

/// <summary>
/// A peer process of the suite (this same program in peer mode). Every wait on it is bounded, and
/// every child still running is killed when the suite ends, however it ends (normal exit, Ctrl+C,
/// SIGTERM), so no benchmark process outlives the run.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private static readonly ConcurrentDictionary<ChildProcess, byte> s_live = new();

    // Taken by Start and by the exit handlers, so no child can be started after they killed the rest.
    private static readonly object s_startGate = new();
    private static bool s_exiting;

    private readonly Process _process;
    private readonly List<string> _errors = new();
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly ManualResetEventSlim _valueArrived = new();

    static ChildProcess()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
        Console.CancelKeyPress += (_, _) => KillAll();
    }

    private ChildProcess(IEnumerable<string> arguments)
    {
        string[] verb = arguments.ToArray();
        (string program, string[] prefix) = SelfCommand();
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in prefix.Concat(verb))
        {
            start.ArgumentList.Add(argument);
        }

        CommandLine = string.Join(' ', verb);
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => OnOutput(e.Data);
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_errors)
                {
                    _errors.Add(e.Data);
                }
            }
        };
        lock (s_startGate)
        {
            if (s_exiting)
            {
                throw new InvalidOperationException("the suite is exiting");
            }

            s_live.TryAdd(this, 0);
            _process.Start();
        }

        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The peer-mode command line (without the program), for failure reports.</summary>
    internal string CommandLine { get; }

    internal int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>What the child said went wrong (the exception line of stderr, else its last line), for a failure report.</summary>
    internal string ErrorTail
    {
        get
        {
            lock (_errors)
            {
                return _errors.FirstOrDefault(line => line.Contains("Exception", StringComparison.Ordinal)) ?? _errors.LastOrDefault() ?? "";
            }
        }
    }

    /// <summary>Starts this program with <paramref name="arguments"/> (e.g. <c>thr recv ...</c>).</summary>
    internal static ChildProcess Start(params IEnumerable<string> arguments) => new(arguments);

    /// <summary>Waits for the child to print <c>key=value</c>; null when it did not within <paramref name="timeout"/> or exited first.</summary>
    internal string? WaitForValue(string key, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            lock (_values)
            {
                if (_values.TryGetValue(key, out string? value))
                {
                    return value;
                }

                _valueArrived.Reset();
            }

            TimeSpan left = timeout - deadline.Elapsed;
            if (left <= TimeSpan.Zero || _process.HasExited)
            {
                return null;
            }

            _valueArrived.Wait(left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
        }
    }

    /// <summary>Waits for the child to exit (and its output to be read); false on timeout.</summary>
    internal bool WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            return false;
        }

        // The parameterless wait returns once the redirected streams have been read to their end.
        _process.WaitForExit();
        return true;
    }

    /// <summary>A value the child printed as <c>key=value</c>, or null.</summary>
    internal string? Text(string key)
    {
        lock (_values)
        {
            return _values.GetValueOrDefault(key);
        }
    }

    /// <summary>A number the child printed as <c>key=value</c>, or null.</summary>
    internal double? Number(string key)
    {
        lock (_values)
        {
            return _values.TryGetValue(key, out string? text) && double.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out double value) ? value : null;
        }
    }

    public void Dispose()
    {
        Kill();
        s_live.TryRemove(this, out _);
        _process.Dispose();
        _valueArrived.Dispose();
    }

    private static void KillAll()
    {
        lock (s_startGate)
        {
            s_exiting = true;
        }

        foreach (ChildProcess child in s_live.Keys)
        {
            child.Kill();
        }
    }

    /// <summary>How to start this program again: through the dotnet host when it runs as a dll, directly when as an app.</summary>
    private static (string Program, string[] Prefix) SelfCommand()
    {
        string host = Environment.ProcessPath ?? "dotnet";
        string assembly = typeof(ChildProcess).Assembly.Location;
        return Path.GetFileNameWithoutExtension(host) == "dotnet" ? (host, [assembly]) : (host, []);
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started, or already gone: nothing to kill.
        }
    }

    private void OnOutput(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_values)
        {
            foreach (string token in line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                int equals = token.IndexOf('=');
                if (equals > 0)
                {
                    _values[token[..equals]] = token[(equals + 1)..];
                }
            }

            _valueArrived.Set();
        }
    }
}
