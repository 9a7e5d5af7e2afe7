using System.Globalization;
using Butterfly;
using Butterfly.Orchestration;
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
    usage: Butterfly demo [--duration S] [--workers N] [--rate R] [--scenario all|freeze|kill|move|drain|none]
                          [--seed N] [--size B] [--retry-after S] [--plot PATH] [--namespace auto|no]
                          [--timeout S] [--startup-timeout S]
      Runs send_requests -> N x component1 -> {intermediate1, intermediate2} -> N x component2 -> receive_replies
      plus two directory servers, each a separate process, plays the failure timeline on intermediate2
      (freeze, kill -9, restart at a new address, then drain one worker per side) and prints
      butterfly: sent=N received=N lost=0 duplicates=0 corrupted=0 retried=K rerouted=R
      --duration S         the scenario's length; every step scales with it (default 60)
      --workers N          component1 and component2 instances, 1 to 15 (default 2)
      --rate R             new requests per second (default 20000)
      --scenario LIST      steps to play, comma-separated: freeze, kill, move (implies kill), drain; all (default), none
      --seed N             picks the workers that are drained (default 1)
      --size B             body bytes per request (default 128)
      --retry-after S      the source re-sends what is unacknowledged after S seconds (default 2)
      --plot PATH          throughput plot (default artifacts/butterfly.png)
      --namespace auto|no  auto: the moved intermediate2 gets a network namespace of its own when root (default)
      --timeout S          the whole run is stopped after S seconds (default duration + 90)
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
                    throw new ArgumentException($"expected an option like --duration, got '{name}'");
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
