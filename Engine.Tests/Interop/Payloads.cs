using System.Buffers.Binary;

namespace Engine.Tests.Interop;

/// <summary>
/// Deterministic message contents and their checks. Every byte depends on the message number, the
/// frame number and its position, so a lost, repeated, reordered, truncated or shifted frame
/// cannot pass for the expected one.
/// </summary>
internal static class Payloads
{
    internal const int MiB = 1024 * 1024;

    /// <summary>Frame sizes the multipart messages cycle through: empty frames, both sides of the 255-byte short-header limit, several socket reads' worth.</summary>
    private static readonly int[] MixedSizes = [0, 1, 13, 255, 256, 0, 1024, 8191, 65_536, 70_001, 4];

    internal static byte[] Frame(int message, int frame, int size)
    {
        var bytes = new byte[size];
        uint state = (uint)((message * 7919) ^ (frame * 104_729) ^ size) | 1u;
        for (int i = 0; i < bytes.Length; i++)
        {
            // xorshift32: cheap, and no period short enough to hide a shifted frame.
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            bytes[i] = (byte)state;
        }

        if (size >= 8)
        {
            // Readable in a failure dump: which message and frame this was meant to be.
            BinaryPrimitives.WriteInt32BigEndian(bytes, message);
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), frame);
        }

        return bytes;
    }

    /// <summary>Single-frame messages of 0 to 60 bytes.</summary>
    internal static byte[][][] SingleFrames(int count) =>
        Enumerable.Range(0, count).Select(i => new[] { Frame(i, 0, i % 61) }).ToArray();

    /// <summary>Messages of 3 to 5 frames of mixed sizes, including empty frames.</summary>
    internal static byte[][][] Multipart(int count) =>
        Enumerable.Range(0, count)
            .Select(i => Enumerable.Range(0, 3 + (i % 3)).Select(j => Frame(i, j, MixedSizes[(i + (j * 3)) % MixedSizes.Length])).ToArray())
            .ToArray();

    /// <summary>
    /// 1 MiB frames, alone and in multipart messages, with frames of 1 MiB - 1 and 1 MiB + 1
    /// (our receiver allocates frames up to 1 MiB when their header arrives and larger ones only
    /// when all their bytes are in), and a small message last to show the stream is still in step.
    /// </summary>
    internal static byte[][][] Large()
    {
        int[][] shapes =
        [
            [MiB],
            [MiB],
            [MiB - 1, 0, MiB + 1],
            [MiB],
            [MiB, MiB],
            [MiB],
            [5],
        ];
        return shapes.Select((sizes, i) => sizes.Select((size, j) => Frame(i, j, size)).ToArray()).ToArray();
    }

    /// <summary>Fails with the message number, frame number and first differing byte, instead of dumping megabytes.</summary>
    internal static void AssertMessage(int index, byte[][] expected, List<byte[]> actual)
    {
        if (actual.Count != expected.Length)
        {
            Assert.Fail($"message {index}: got {actual.Count} frame(s) of {Sizes(actual)} bytes, expected {expected.Length} of {Sizes(expected)}");
        }

        for (int j = 0; j < expected.Length; j++)
        {
            ReadOnlySpan<byte> want = expected[j];
            ReadOnlySpan<byte> got = actual[j];
            if (!got.SequenceEqual(want))
            {
                int at = got.CommonPrefixLength(want);
                Assert.Fail($"message {index} frame {j}: got {got.Length} bytes, expected {want.Length}; first difference at byte {at}");
            }
        }
    }

    private static string Sizes(IEnumerable<byte[]> frames) => "[" + string.Join(", ", frames.Select(f => f.Length)) + "]";
}
