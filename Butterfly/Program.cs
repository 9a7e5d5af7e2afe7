using System.Globalization;
using Butterfly;
using Butterfly.Roles;

// One executable, many roles: the orchestrator ("demo") starts this same program once per box of
// the butterfly, so every box is a separate OS process talking ZMTP over tcp.
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    PrintUsage(Console.Out);
    return args.Length == 0 ? 2 : 0;
}

string role = args[0];
try
{
    var arguments = Arguments.Parse(args.AsSpan(1));
    return role switch
    {
        "demo" => Orchestrator.Run(DemoOptions.From(arguments)),
        "send_requests" => SendRequests.Run(arguments),
        "component1" => Component1.Run(arguments),
        "intermediate" => Intermediate.Run(arguments),
        "component2" => Component2.Run(arguments),
        "receive_replies" => ReceiveReplies.Run(arguments),
        "directory" => DirectoryRole.Run(arguments),
        _ => Usage($"unknown role '{role}'"),
    };
}
catch (ArgumentException e)
{
    return Usage(e.Message);
}
catch (Exception e)
{
    // A role that fails says so on stderr (the orchestrator prefixes it with the role) and exits non-zero.
    Console.Error.WriteLine($"butterfly {role}: {e}");
    return 1;
}

static int Usage(string problem)
{
    Console.Error.WriteLine($"butterfly: {problem}");
    PrintUsage(Console.Error);
    return 2;
}

static void PrintUsage(TextWriter writer) => writer.WriteLine(
    """
    usage: Butterfly demo [--messages N] [--size B] [--idle-timeout S] [--timeout S] [--startup-timeout S]
      Runs send_requests -> 2 x component1 -> 2 x intermediate -> 2 x component2 -> receive_replies,
      each a separate process on 127.0.0.1, and prints
      butterfly: sent=N received=N lost=0 duplicates=0 corrupted=0
      --messages N         requests to send (default 100000)
      --size B             body bytes per request (default 128)
      --idle-timeout S     receive_replies gives up after S seconds without a message (default 10)
      --timeout S          the whole run is stopped after S seconds (default 120)
      --startup-timeout S  each process must report READY within S seconds (default 30)
    The roles (send_requests, component1, intermediate, component2, receive_replies) are started by demo.

    usage: Butterfly directory --bind tcp://127.0.0.1:5670 [--max-entries N] [--stdin-eof stop|ignore] [--verbose yes]
      Runs a directory server (names -> endpoints with leases) until Ctrl+C, SIGTERM or STOP on stdin;
      prints READY directory <endpoint>. Run two or more and give clients all of them.
    """);

namespace Butterfly
{
    /// <summary><c>--name value</c> pairs; a list value is comma-separated (endpoints have no commas).</summary>
    internal sealed class Arguments
    {
        private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

        internal static Arguments Parse(ReadOnlySpan<string> args)
        {
            var parsed = new Arguments();
            for (int i = 0; i < args.Length; i++)
            {
                string name = args[i];
                if (!name.StartsWith("--", StringComparison.Ordinal) || name.Length == 2)
                {
                    throw new ArgumentException($"expected an option like --messages, got '{name}'");
                }

                if (i + 1 >= args.Length)
                {
                    throw new ArgumentException($"{name} needs a value");
                }

                parsed._values[name[2..]] = args[++i];
            }

            return parsed;
        }

        internal string Optional(string name, string defaultValue) =>
            _values.TryGetValue(name, out string? value) ? value : defaultValue;

        internal string Required(string name) =>
            _values.TryGetValue(name, out string? value) ? value : throw new ArgumentException($"--{name} is required");

        internal IReadOnlyList<string> List(string name) =>
            Required(name).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        internal int Int(string name, int defaultValue)
        {
            if (!_values.TryGetValue(name, out string? text))
            {
                return defaultValue;
            }

            return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= 0
                ? value
                : throw new ArgumentException($"--{name} must be a whole number, 0 or more (got '{text}')");
        }

        internal TimeSpan Seconds(string name, double defaultSeconds)
        {
            if (!_values.TryGetValue(name, out string? text))
            {
                return TimeSpan.FromSeconds(defaultSeconds);
            }

            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && value > 0
                ? TimeSpan.FromSeconds(value)
                : throw new ArgumentException($"--{name} must be a positive number of seconds (got '{text}')");
        }
    }
}
