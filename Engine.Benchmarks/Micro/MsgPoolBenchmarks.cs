using BenchmarkDotNet.Attributes;

namespace Engine.Benchmarks.Micro;

/// <summary>
/// Frame memory: <see cref="Msg.Copy"/> then <see cref="Msg.Dispose"/> rents and returns pooled memory
/// (a slice of a 64 KiB slab for small frames, a pooled array for large ones).
/// </summary>
[MemoryDiagnoser]
public class MsgPoolBenchmarks
{
    private const int Frames = 1024;

    private readonly byte[] _small = new byte[16];
    private readonly byte[] _medium = new byte[256];
    private readonly byte[] _large = new byte[4096];
    private readonly byte[] _huge = new byte[65536];

    [Benchmark(OperationsPerInvoke = Frames)]
    public int CopyDispose16() => CopyDispose(_small);

    [Benchmark(OperationsPerInvoke = Frames)]
    public int CopyDispose256() => CopyDispose(_medium);

    /// <summary>Above the slab limit: a dedicated pooled array per frame.</summary>
    [Benchmark(OperationsPerInvoke = Frames)]
    public int CopyDispose4096() => CopyDispose(_large);

    [Benchmark(OperationsPerInvoke = Frames)]
    public int CopyDispose65536() => CopyDispose(_huge);

    /// <summary>No copy: what a sender that fills frames in place pays.</summary>
    [Benchmark(OperationsPerInvoke = Frames)]
    public int AllocateDispose16()
    {
        int total = 0;
        for (int i = 0; i < Frames; i++)
        {
            Msg frame = Msg.Allocate(16);
            total += frame.Length;
            frame.Dispose();
        }

        return total;
    }

    private static int CopyDispose(byte[] data)
    {
        int total = 0;
        for (int i = 0; i < Frames; i++)
        {
            Msg frame = Msg.Copy(data);
            total += frame.Length;
            frame.Dispose();
        }

        return total;
    }
}
