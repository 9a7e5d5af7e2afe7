using System.Buffers;
using BenchmarkDotNet.Attributes;
using Engine.Wire;

namespace Engine.Benchmarks.Micro;

/// <summary>Frame header encode and decode (<see cref="FrameCodec"/>): the per-frame work of every send and receive loop.</summary>
[MemoryDiagnoser]
public class FrameCodecBenchmarks
{
    private const int Frames = 1024;

    // A batch of short headers (16-byte bodies) and one of long ones (64 KiB bodies), as a send loop
    // writes them, plus room for one long header at the end (ParseHeader may look 9 bytes ahead).
    private readonly byte[] _short = new byte[(Frames * 2) + FrameCodec.MaxHeaderSize];
    private readonly byte[] _long = new byte[(Frames * 9) + FrameCodec.MaxHeaderSize];

    [GlobalSetup]
    public void Setup()
    {
        EncodeShort();
        EncodeLong();
    }

    [Benchmark(OperationsPerInvoke = Frames)]
    public int EncodeShort()
    {
        Span<byte> destination = _short;
        int written = 0;
        for (int i = 0; i < Frames; i++)
        {
            written += FrameCodec.WriteHeader(destination[written..], more: false, command: false, bodySize: 16);
        }

        return written;
    }

    [Benchmark(OperationsPerInvoke = Frames)]
    public int EncodeLong()
    {
        Span<byte> destination = _long;
        int written = 0;
        for (int i = 0; i < Frames; i++)
        {
            written += FrameCodec.WriteHeader(destination[written..], more: false, command: false, bodySize: 65536);
        }

        return written;
    }

    /// <summary>The receive loop's fast path: the whole header is in the current span.</summary>
    [Benchmark(OperationsPerInvoke = Frames)]
    public long DecodeShort() => ParseAll(_short);

    [Benchmark(OperationsPerInvoke = Frames)]
    public long DecodeLong() => ParseAll(_long);

    /// <summary>Through a <see cref="SequenceReader{T}"/>, as the receive loop reads a PipeReader's buffer.</summary>
    [Benchmark(OperationsPerInvoke = Frames)]
    public long DecodeShortFromSequence()
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(_short, 0, Frames * 2));
        long total = 0;
        while (FrameCodec.TryReadHeader(ref reader, out _, out long bodySize, out _) == OperationStatus.Done)
        {
            total += bodySize;
        }

        return total;
    }

    private static long ParseAll(ReadOnlySpan<byte> headers)
    {
        long total = 0;
        int offset = 0;
        for (int i = 0; i < Frames; i++)
        {
            offset += FrameCodec.ParseHeader(headers[offset..], out _, out long bodySize, out _);
            total += bodySize;
        }

        return total;
    }
}
