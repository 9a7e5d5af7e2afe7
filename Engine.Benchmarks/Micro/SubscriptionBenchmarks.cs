using System.Text;
using BenchmarkDotNet.Attributes;
using Engine.Patterns;

namespace Engine.Benchmarks.Micro;

/// <summary>
/// <see cref="SubscriptionTrie.Matches"/>: what a publisher pays per message and subscriber. 100
/// topics of the shape "market.EXCH.SYMBOL", messages that match late, match early, and miss.
/// </summary>
[MemoryDiagnoser]
public class SubscriptionBenchmarks
{
    private const int Messages = 1024;

    private readonly SubscriptionTrie _trie = new();
    private byte[] _matchingLate = [];
    private byte[] _matchingEarly = [];
    private byte[] _missing = [];

    [GlobalSetup]
    public void Setup()
    {
        for (int exchange = 0; exchange < 10; exchange++)
        {
            for (int symbol = 0; symbol < 10; symbol++)
            {
                _trie.Add(Encoding.ASCII.GetBytes($"market.X{exchange}.SYM{symbol:00}"));
            }
        }

        _trie.Add("alerts"u8);
        _matchingLate = Encoding.ASCII.GetBytes("market.X7.SYM07 price=101.25 size=300");
        _matchingEarly = Encoding.ASCII.GetBytes("alerts: halt");
        _missing = Encoding.ASCII.GetBytes("market.Y1.SYM01 price=1");
    }

    [Benchmark(OperationsPerInvoke = Messages)]
    public int MatchesDeepTopic() => Count(_matchingLate);

    [Benchmark(OperationsPerInvoke = Messages)]
    public int MatchesShortTopic() => Count(_matchingEarly);

    [Benchmark(OperationsPerInvoke = Messages)]
    public int Misses() => Count(_missing);

    private int Count(byte[] message)
    {
        int matched = 0;
        for (int i = 0; i < Messages; i++)
        {
            matched += _trie.Matches(message) ? 1 : 0;
        }

        return matched;
    }
}
