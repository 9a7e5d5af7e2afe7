using BenchmarkDotNet.Attributes;
using Engine.Patterns;
using Engine.Pipes;
using Engine.Sessions;

namespace Engine.Benchmarks.Micro;

/// <summary>
/// One routing step over three peers, on one thread: <see cref="LoadBalancer.TrySend(Span{Msg}, ref Msg)"/>
/// (PUSH/DEALER) and <see cref="FairQueue.TryReceive(out Msg)"/> (PULL/DEALER). The other end of each
/// pipe is played by the benchmark itself, so pipes never fill and nobody parks.
/// </summary>
[MemoryDiagnoser]
public class PatternBenchmarks
{
    private const int Messages = 1024;
    private const int PeerCount = 3;

    private readonly LoadBalancer _balancer = new();
    private readonly FairQueue _queue = new();
    private readonly Peer[] _sendPeers = new Peer[PeerCount];
    private readonly Peer[] _receivePeers = new Peer[PeerCount];
    private Msg _frame;

    [GlobalSetup]
    public void Setup()
    {
        for (int i = 0; i < PeerCount; i++)
        {
            _sendPeers[i] = new Peer($"tcp://127.0.0.1:{5000 + i}", new MessagePipe(1000), inbound: null, persistent: true);
            _balancer.Attach(_sendPeers[i]);
            _receivePeers[i] = new Peer($"tcp://127.0.0.1:{6000 + i}", outbound: null, new MessagePipe(1000), persistent: true);
            _queue.Attach(_receivePeers[i]);
        }

        _frame = Msg.Allocate(16);
        LoadBalancerTrySend();
        FairQueueTryReceive();
    }

    [GlobalCleanup]
    public void Cleanup() => _frame.Dispose();

    /// <summary>Picks the next peer with room, writes and flushes; the "send loop" takes the frame back at once.</summary>
    [Benchmark(OperationsPerInvoke = Messages)]
    public int LoadBalancerTrySend()
    {
        int sent = 0;
        for (int i = 0; i < Messages; i++)
        {
            if (_balancer.TrySend([], ref _frame, out Peer? chosen))
            {
                sent++;
                chosen!.Outbound!.TryRead(out _frame);
            }
        }

        return sent;
    }

    /// <summary>A message waits in each peer's pipe in turn; the queue visits the peers round-robin.</summary>
    [Benchmark(OperationsPerInvoke = Messages)]
    public int FairQueueTryReceive()
    {
        int received = 0;
        for (int i = 0; i < Messages; i++)
        {
            MessagePipe inbound = _receivePeers[i % PeerCount].Inbound!;
            inbound.Write(ref _frame);
            inbound.Flush();
            if (_queue.TryReceive(out _frame))
            {
                received++;
            }
        }

        return received;
    }
}
