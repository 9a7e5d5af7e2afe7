using System.Buffers;
using System.Text;

namespace Engine.Tests.Infrastructure;

/// <summary>
/// Builds multi-segment <see cref="ReadOnlySequence{T}"/> values, the shape a PipeReader hands the
/// codec when bytes arrive in several TCP reads.
/// </summary>
internal static class Segments
{
    /// <summary>Splits <paramref name="data"/> into <paramref name="count"/> consecutive segments of near-equal size (none empty unless data is shorter than count).</summary>
    internal static ReadOnlySequence<byte> Split(byte[] data, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (data.Length == 0 || count == 1)
        {
            return new ReadOnlySequence<byte>(data);
        }

        count = Math.Min(count, data.Length);
        var lengths = new int[count];
        for (int i = 0; i < count; i++)
        {
            lengths[i] = data.Length / count + (i < data.Length % count ? 1 : 0);
        }

        return FromLengths(data, lengths);
    }

    /// <summary>One segment per byte: the worst case for a parser that assumes contiguous headers.</summary>
    internal static ReadOnlySequence<byte> OneBytePerSegment(byte[] data) => Split(data, Math.Max(1, data.Length));

    /// <summary>Cuts <paramref name="data"/> into segments of exactly the given lengths (which must add up to its length).</summary>
    internal static ReadOnlySequence<byte> FromLengths(byte[] data, params int[] lengths)
    {
        if (lengths.Sum() != data.Length)
        {
            throw new ArgumentException($"segment lengths add up to {lengths.Sum()}, data has {data.Length} bytes", nameof(lengths));
        }

        if (lengths.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        int offset = 0;
        var first = new Segment(new ReadOnlyMemory<byte>(data, 0, lengths[0]), 0);
        Segment last = first;
        offset += lengths[0];
        for (int i = 1; i < lengths.Length; i++)
        {
            last = last.Append(new ReadOnlyMemory<byte>(data, offset, lengths[i]));
            offset += lengths[i];
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        internal Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        internal Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}

/// <summary>Readable construction of golden byte strings: bytes, byte arrays and ASCII strings, concatenated.</summary>
internal static class Bytes
{
    internal static byte[] Of(params object[] parts)
    {
        var result = new List<byte>();
        foreach (object part in parts)
        {
            switch (part)
            {
                case byte b: result.Add(b); break;
                case int i when i is >= 0 and <= 255: result.Add((byte)i); break;
                case byte[] array: result.AddRange(array); break;
                case string text: result.AddRange(Encoding.ASCII.GetBytes(text)); break;
                default: throw new ArgumentException($"cannot turn {part} ({part.GetType().Name}) into bytes", nameof(parts));
            }
        }

        return result.ToArray();
    }

    internal static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes);
}
