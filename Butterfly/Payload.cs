using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Butterfly;

/// <summary>
/// One request as it travels the butterfly: a single frame with a header and a body whose bytes
/// are a deterministic pattern derived from the id.
/// </summary>
/// <remarks>
/// <para>Layout (little-endian): <c>[0..8)</c> id, <c>[8]</c> route (one bit per stage that handled
/// it), <c>[9]</c> hop count, <c>[10]</c> which intermediate carried it (its tag), <c>[11]</c> which
/// component1 (low nibble) and component2 (high nibble), <c>[12..16)</c> checksum of id, send time
/// and body, <c>[16..24)</c> send time (a <see cref="System.Diagnostics.Stopwatch"/> timestamp:
/// the monotonic clock every process on the machine shares), <c>[24..)</c> body.</para>
/// <para>The checksum lets every stage verify the frame cheaply without knowing the pattern; the
/// pattern lets receive_replies catch what a checksum alone cannot (a well-formed frame carrying
/// another request's body). Route and hops prove each message went through exactly one instance of
/// every stage; with the tags they sit outside the checksum because each stage stamps them. A retry
/// carries the time of the first send, so the delay measured at the end includes the retry.</para>
/// </remarks>
internal static class Payload
{
    internal const int HeaderSize = 24;

    /// <summary>Body bytes per request unless --size says otherwise.</summary>
    internal const int DefaultBodySize = 128;

    /// <summary>Route bits stamped by the stages; a complete trip has all three.</summary>
    internal const byte Component1Stamp = 1;
    internal const byte IntermediateStamp = 2;
    internal const byte Component2Stamp = 4;
    internal const byte CompleteRoute = Component1Stamp | IntermediateStamp | Component2Stamp;
    internal const int CompleteHops = 3;

    private const int RouteOffset = 8;
    private const int HopsOffset = 9;
    private const int ViaOffset = 10;
    private const int WorkersOffset = 11;
    private const int ChecksumOffset = 12;
    private const int SentAtOffset = 16;

    internal static int FrameSize(int bodySize) => HeaderSize + bodySize;

    /// <summary>Fills a fresh request: id, send time, pattern body, checksum, empty route.</summary>
    internal static void Write(Span<byte> frame, ulong id, long sentAt)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(frame, id);
        frame.Slice(RouteOffset, ChecksumOffset - RouteOffset).Clear();
        BinaryPrimitives.WriteInt64LittleEndian(frame[SentAtOffset..], sentAt);
        Span<byte> body = frame[HeaderSize..];
        FillPattern(body, id);
        BinaryPrimitives.WriteUInt32LittleEndian(frame[ChecksumOffset..], Checksum(id, sentAt, body));
    }

    /// <summary>When the request was first sent (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>).</summary>
    internal static long SentAt(ReadOnlySpan<byte> frame) => BinaryPrimitives.ReadInt64LittleEndian(frame[SentAtOffset..]);

    /// <summary>The tag of the intermediate that carried the request (0: none yet).</summary>
    internal static byte Via(ReadOnlySpan<byte> frame) => frame[ViaOffset];

    internal static bool TryReadId(ReadOnlySpan<byte> frame, out ulong id)
    {
        if (frame.Length < HeaderSize)
        {
            id = 0;
            return false;
        }

        id = BinaryPrimitives.ReadUInt64LittleEndian(frame);
        return true;
    }

    /// <summary>The per-stage work: recompute the checksum over the body.</summary>
    internal static bool ChecksumMatches(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < HeaderSize)
        {
            return false;
        }

        ulong id = BinaryPrimitives.ReadUInt64LittleEndian(frame);
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(frame[ChecksumOffset..]);
        return Checksum(id, SentAt(frame), frame[HeaderSize..]) == stored;
    }

    /// <summary>
    /// Records that a stage handled the frame: route bit, hop count, and the instance's tag (the
    /// intermediate's tag; a worker's instance number, 1 to 15, in its nibble).
    /// </summary>
    internal static void Stamp(Span<byte> frame, byte stageBit, byte tag)
    {
        if (frame.Length < HeaderSize)
        {
            return;
        }

        frame[RouteOffset] |= stageBit;
        frame[HopsOffset]++;
        switch (stageBit)
        {
            case IntermediateStamp:
                frame[ViaOffset] = tag;
                break;
            case Component1Stamp:
                frame[WorkersOffset] = (byte)((frame[WorkersOffset] & 0xF0) | (tag & 0x0F));
                break;
            case Component2Stamp:
                frame[WorkersOffset] = (byte)((frame[WorkersOffset] & 0x0F) | ((tag & 0x0F) << 4));
                break;
        }
    }

    /// <summary>The end-to-end check of receive_replies: size, checksum, pattern and full route.</summary>
    internal static bool IsIntact(ReadOnlySpan<byte> frame, int expectedBodySize)
    {
        if (frame.Length != FrameSize(expectedBodySize) || !ChecksumMatches(frame))
        {
            return false;
        }

        if (frame[RouteOffset] != CompleteRoute || frame[HopsOffset] != CompleteHops)
        {
            return false;
        }

        ulong id = BinaryPrimitives.ReadUInt64LittleEndian(frame);
        return PatternMatches(frame[HeaderSize..], id);
    }

    // The pattern is a splitmix64 stream seeded by the id: cheap to make, different for every id.
    private static void FillPattern(Span<byte> body, ulong id)
    {
        ulong state = id;
        FillFrom(body, ref state, isLast: true);
    }

    private static bool PatternMatches(ReadOnlySpan<byte> body, ulong id)
    {
        // Regenerate in small chunks on the stack: no allocation per message.
        Span<byte> expected = stackalloc byte[256];
        ulong state = id;
        int offset = 0;
        while (offset < body.Length)
        {
            int chunk = Math.Min(expected.Length, body.Length - offset);
            FillFrom(expected[..chunk], ref state, isLast: offset + chunk == body.Length);
            if (!body.Slice(offset, chunk).SequenceEqual(expected[..chunk]))
            {
                return false;
            }

            offset += chunk;
        }

        return true;
    }

    // Same stream as FillPattern, continued across chunks (chunks are multiples of 8 except the last).
    private static void FillFrom(Span<byte> chunk, ref ulong state, bool isLast)
    {
        Span<ulong> words = MemoryMarshal.Cast<byte, ulong>(chunk);
        for (int i = 0; i < words.Length; i++)
        {
            words[i] = SplitMix(ref state);
        }

        int tail = words.Length * sizeof(ulong);
        if (isLast && tail < chunk.Length)
        {
            ulong last = SplitMix(ref state);
            for (int i = tail; i < chunk.Length; i++, last >>= 8)
            {
                chunk[i] = (byte)last;
            }
        }
    }

    private static ulong SplitMix(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A multiply-rotate hash over 8-byte words: fast, and any flipped bit changes it.</summary>
    private static uint Checksum(ulong id, long sentAt, ReadOnlySpan<byte> body)
    {
        const ulong Prime = 0x9E3779B185EBCA87UL;
        ulong hash = (id ^ (ulong)body.Length) * Prime;
        hash = ulong.RotateLeft(hash ^ ((ulong)sentAt * Prime), 31) * Prime;
        ReadOnlySpan<ulong> words = MemoryMarshal.Cast<byte, ulong>(body);
        foreach (ulong word in words)
        {
            hash = ulong.RotateLeft(hash ^ (word * Prime), 31) * Prime;
        }

        for (int i = words.Length * sizeof(ulong); i < body.Length; i++)
        {
            hash = ulong.RotateLeft(hash ^ body[i], 7) * Prime;
        }

        hash ^= hash >> 29;
        return (uint)(hash ^ (hash >> 32));
    }
}
