namespace Engine.Benchmarks.Peers;

/// <summary>Options shared by every peer-mode command.</summary>
public sealed record PeerArguments(string Impl, string Endpoint, int Size, long Count, bool Bind)
{
    public static PeerArguments Parse(ReadOnlySpan<string> args)
    {
        string impl = "engine";
        string endpoint = "tcp://127.0.0.1:5555";
        int size = 16;
        long count = 1_000_000;
        bool? bind = null;
        for (int i = 0; i < args.Length; i++)
        {
            string value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--impl": impl = value; i++; break;
                case "--endpoint": endpoint = value; i++; break;
                case "--size": size = int.Parse(value); i++; break;
                case "--count": count = long.Parse(value); i++; break;
                case "--bind": bind = bool.Parse(value); i++; break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        return new PeerArguments(impl, endpoint, size, count, bind ?? false);
    }
}
