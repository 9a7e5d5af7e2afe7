using System.Globalization;

namespace Engine.Benchmarks.Peers;

/// <summary>Options shared by every peer-mode command.</summary>
/// <param name="Count">Messages (round trips) to measure; 0 = until the time is up or the peer's end marker.</param>
/// <param name="Duration">Seconds to send (ping) for, warm-up included; 0 = run by count only.</param>
/// <param name="Warmup">Seconds at the start of a run that are not measured (JIT tiers, pools and buffers filling up).</param>
public sealed record PeerArguments(string Impl, string Endpoint, int Size, long Count, bool Bind, double Duration = 0, double Warmup = 0)
{
    public static PeerArguments Parse(ReadOnlySpan<string> args)
    {
        string impl = "engine";
        string endpoint = "tcp://127.0.0.1:5555";
        int size = 16;
        long? count = null;
        bool? bind = null;
        double duration = 0;
        double warmup = 0;
        for (int i = 0; i < args.Length; i++)
        {
            string value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--impl": impl = value; i++; break;
                case "--endpoint": endpoint = value; i++; break;
                case "--size": size = int.Parse(value, CultureInfo.InvariantCulture); i++; break;
                case "--count": count = long.Parse(value, CultureInfo.InvariantCulture); i++; break;
                case "--bind": bind = bool.Parse(value); i++; break;
                case "--duration": duration = double.Parse(value, CultureInfo.InvariantCulture); i++; break;
                case "--warmup": warmup = double.Parse(value, CultureInfo.InvariantCulture); i++; break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        if (size < 0 || duration < 0 || warmup < 0 || count < 0)
        {
            throw new ArgumentException("--size, --count, --duration and --warmup must not be negative");
        }

        // A timed run stops by the clock unless a count was also given.
        return new PeerArguments(impl, endpoint, size, count ?? (duration > 0 ? 0 : 1_000_000), bind ?? false, duration, warmup);
    }

    /// <summary>An empty message ends a run early, unless the run's own messages are empty.</summary>
    internal bool EndMarkerAllowed => Size > 0;
}
