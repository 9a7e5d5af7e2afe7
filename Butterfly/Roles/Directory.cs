using System.Runtime.InteropServices;
using Engine.Directory;
using Microsoft.Extensions.Logging;

namespace Butterfly.Roles;

/// <summary>
/// <c>Butterfly directory --bind tcp://127.0.0.1:5670</c>: a standalone directory server, for the
/// demo and for anyone who wants names instead of addresses. Run two or more on different hosts
/// and give every client all of them.
/// </summary>
/// <remarks>
/// Not named <c>Directory</c>: inside this namespace that would hide <see cref="System.IO.Directory"/>.
/// It stops on Ctrl+C, SIGTERM or a <c>STOP</c> line on stdin. End of stdin is ignored by default,
/// so it can run in the background (<c>&lt; /dev/null &amp;</c>); an orchestrator that wants its
/// children to die with it passes <c>--stdin-eof stop</c>.
/// </remarks>
internal static class DirectoryRole
{
    internal static int Run(Arguments args)
    {
        string bind = args.Required("bind");
        bool stopOnEof = args.Optional("stdin-eof", "ignore") switch
        {
            "stop" => true,
            "ignore" => false,
            string other => throw new ArgumentException($"--stdin-eof must be stop or ignore (got '{other}')"),
        };
        var options = new DirectoryServerOptions { Logger = new StderrLogger(args.Optional("verbose", "no") == "yes") };
        int maxEntries = args.Int("max-entries", options.MaxEntries);
        if (maxEntries > 0)
        {
            options.MaxEntries = maxEntries;
        }

        using var stop = new CancellationTokenSource();
        using PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });
        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });
        var stdin = new Thread(() => ReadCommands(stop, stopOnEof)) { IsBackground = true, Name = "directory-control" };

        using DirectoryServer server = DirectoryServer.Start(bind, options);
        Console.WriteLine($"READY directory {server.Endpoint}");
        stdin.Start();
        stop.Token.WaitHandle.WaitOne();
        Console.WriteLine($"STOPPED directory registrations={server.Registrations} rejected={server.RejectedRequests}");
        return 0;
    }

    private static void ReadCommands(CancellationTokenSource stop, bool stopOnEof)
    {
        try
        {
            while (Console.In.ReadLine() is { } line)
            {
                if (line.Trim() == "STOP")
                {
                    stop.Cancel();
                    return;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (ObjectDisposedException)
        {
            return;
        }

        if (stopOnEof)
        {
            try
            {
                stop.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>Refused requests and expiries on stderr (every event with <c>--verbose yes</c>).</summary>
    private sealed class StderrLogger(bool verbose) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => verbose ? logLevel >= LogLevel.Debug : logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                Console.Error.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel}: {formatter(state, exception)}");
            }
        }
    }
}
