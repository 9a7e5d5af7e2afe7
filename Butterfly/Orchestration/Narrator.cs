using System.Globalization;
using System.Text.RegularExpressions;

namespace Butterfly.Orchestration;

/// <summary>
/// Turns the children's socket events (<c>EVENT kind endpoint reason</c>) into sentences about the
/// butterfly: endpoints become the names of the intermediates behind them, and a flood of
/// repeats (a reconnect loop) is said once.
/// </summary>
internal sealed partial class Narrator
{
    private readonly object _gate = new();
    private readonly Dictionary<string, string> _names = new(StringComparer.Ordinal);
    private readonly HashSet<string> _said = new(StringComparer.Ordinal);

    /// <summary>Messages re-routed by the engine, as the monitor events said (the summary's <c>rerouted</c>).</summary>
    internal long Rerouted { get; private set; }

    /// <summary>Says that <paramref name="endpoint"/> belongs to <paramref name="name"/> (e.g. intermediate2).</summary>
    internal void Name(string endpoint, string name)
    {
        lock (_gate)
        {
            _names[endpoint] = name;
        }
    }

    /// <summary>The sentence for one EVENT line of <paramref name="child"/>, or null when it is not worth a line.</summary>
    internal string? Tell(string child, string line)
    {
        string[] parts = line.Split(' ', 4);
        if (parts.Length < 3)
        {
            return null;
        }

        string kind = parts[1];
        string endpoint = parts[2];
        string reason = parts.Length > 3 ? parts[3] : string.Empty;
        lock (_gate)
        {
            string peer = NameOf(endpoint);
            switch (kind)
            {
                case "PeerDead":
                    return $"{peer} silent: declared dead by {child} (heartbeat; {reason})";
                case "MessagesRerouted":
                    long count = LeadingNumber(reason);
                    Rerouted += count;
                    return $"{child} rerouted {count} messages queued for a departed peer to the live ones";
                case "Disconnected" when _names.ContainsKey(endpoint) && !reason.StartsWith("socket closed", StringComparison.Ordinal):
                    // A socket closing itself (a drained worker) is not news; the peer going away is.
                    return Once($"{child} lost {peer}", $"{child}: connection to {peer} lost ({reason})");
                case "HandshakeSucceeded" when _names.ContainsKey(endpoint):
                    return Once($"{child} up {peer}", $"{child} connected to {peer} at {endpoint}");
                case "HandshakeFailed":
                    return Once($"{child} handshake {endpoint}", $"{child}: handshake with {peer} failed ({reason}); retrying quietly");
                case "DirectoryChanged":
                    return DirectoryChange(child, endpoint, reason);
                case "DirectoryUnreachable":
                    _said.Add($"{child} dir down {endpoint}");
                    return $"{child}: directory server {endpoint} unreachable ({reason})";
                case "DirectoryReachable":
                    // Worth a line only after it was unreachable: at start every process reaches both servers.
                    return _said.Remove($"{child} dir down {endpoint}") ? $"{child}: directory server {endpoint} reachable again" : null;
                default:
                    return null;
            }
        }
    }

    private string DirectoryChange(string child, string name, string reason)
    {
        Match change = Change().Match(reason);
        if (!change.Success)
        {
            return $"{child}: directory {name}: {reason}";
        }

        string endpoint = change.Groups["endpoint"].Value;
        string owner = NameOf(endpoint);
        string verb = change.Groups["verb"].Value == "added" ? "found" : "dropped";
        string why = verb == "dropped" ? " (its lease ran out or it unregistered)" : string.Empty;
        string at = _names.ContainsKey(endpoint) ? " at " + endpoint : string.Empty;
        return $"{child} {verb} {owner} under {name}{at} through the directory{why}";
    }

    /// <summary>The first time only: a reconnect loop repeats the same event every few seconds.</summary>
    private string? Once(string key, string text) => _said.Add(key) ? text : null;

    /// <summary>The box behind an endpoint; an accepted connection's address (an ephemeral port) is just "the peer at".</summary>
    private string NameOf(string endpoint) => _names.TryGetValue(endpoint, out string? name) ? name : "the peer at " + endpoint;

    private static long LeadingNumber(string text)
    {
        Match number = Number().Match(text);
        return number.Success ? long.Parse(number.Value, CultureInfo.InvariantCulture) : 0;
    }

    [GeneratedRegex(@"^(?<verb>added|removed) (?<endpoint>\S+)")]
    private static partial Regex Change();

    [GeneratedRegex(@"^\d+")]
    private static partial Regex Number();
}
