using BenchmarkDotNet.Attributes;
using Engine.Pipes;

namespace Engine.Benchmarks.Micro;

/// <summary>
/// <see cref="MessagePipe"/> on one thread: what the sending thread and a send loop pay per message
/// when neither has to park. Waiters are attached (as in a socket) but nobody waits on them, so a
/// wake-up is one read.
/// </summary>
[MemoryDiagnoser]
public class PipeBenchmarks
{
    private const int Messages = 1024;
    private const int Batch = 64;

    private MessagePipe _pipe = null!;
    private Msg _frame;

    [GlobalSetup]
    public void Setup()
    {
        _pipe = new MessagePipe(hwm: 1000) { ReaderWaiter = new Waiter(), WriterWaiter = new Waiter() };
        _frame = Msg.Allocate(16);
        // Cross a few 256-slot chunk boundaries so that the reader has handed the writer its spare chunk.
        WriteFlushReadOneByOne();
    }

    [GlobalCleanup]
    public void Cleanup() => _frame.Dispose();

    /// <summary>A message per flush: the latency-bound case (every message published on its own).</summary>
    [Benchmark(OperationsPerInvoke = Messages)]
    public int WriteFlushReadOneByOne()
    {
        int length = 0;
        for (int i = 0; i < Messages; i++)
        {
            _pipe.Write(ref _frame);
            _pipe.Flush();
            _pipe.TryRead(out _frame);
            length += _frame.Length;
        }

        return length;
    }

    /// <summary>64 messages per flush and per drain: the throughput case.</summary>
    [Benchmark(OperationsPerInvoke = Messages)]
    public int WriteFlushReadBatched()
    {
        int length = 0;
        for (int round = 0; round < Messages / Batch; round++)
        {
            // The same frame goes round: each write takes it, each read gives it back.
            for (int i = 0; i < Batch; i++)
            {
                Msg copy = _frame;
                _pipe.Write(ref copy);
            }

            _pipe.Flush();
            for (int i = 0; i < Batch; i++)
            {
                _pipe.TryRead(out Msg frame);
                length += frame.Length;
            }
        }

        return length;
    }
}
