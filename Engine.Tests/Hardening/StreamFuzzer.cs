using System.Text;

namespace Engine.Tests.Hardening;

/// <summary>One fuzz input: the bytes a peer sends, where they are cut into separate sends, and which listener hears them.</summary>
/// <param name="Bytes">The whole stream.</param>
/// <param name="Splits">Increasing offsets inside <paramref name="Bytes"/> where a new send (or sequence segment) starts.</param>
/// <param name="Listener">Index into <see cref="StreamFuzzer.Listeners"/>.</param>
internal sealed record FuzzInput(byte[] Bytes, int[] Splits, int Listener)
{
    /// <summary>The stream cut at <see cref="Splits"/>.</summary>
    internal IEnumerable<byte[]> Chunks()
    {
        int start = 0;
        foreach (int split in Splits.Append(Bytes.Length))
        {
            if (split > start)
            {
                yield return Bytes[start..split];
                start = split;
            }
        }
    }

    /// <summary>The corpus form: listener type on the first line, then hex with '|' at every split.</summary>
    internal string ToCorpusText()
    {
        var text = new StringBuilder();
        text.Append("# listener ").AppendLine(StreamFuzzer.Listeners[Listener].Type.ToString());
        text.AppendLine(string.Join(" | ", Chunks().Select(Convert.ToHexString)));
        return text.ToString();
    }

    internal static FuzzInput FromCorpusText(string text)
    {
        int listener = 0;
        var bytes = new List<byte>();
        var splits = new List<int>();
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (line.StartsWith("# listener ", StringComparison.Ordinal))
            {
                var type = Enum.Parse<SocketType>(line["# listener ".Length..].Trim());
                listener = Array.FindIndex(StreamFuzzer.Listeners.ToArray(), l => l.Type == type);
                continue;
            }

            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            foreach (string chunk in line.Split('|'))
            {
                if (bytes.Count > 0 && splits.LastOrDefault() != bytes.Count)
                {
                    splits.Add(bytes.Count);
                }

                bytes.AddRange(Convert.FromHexString(string.Concat(chunk.Where(char.IsAsciiHexDigit))));
            }
        }

        return new FuzzInput(bytes.ToArray(), splits.ToArray(), listener);
    }
}

/// <summary>
/// A seeded generator of hostile byte streams: pure noise, valid ZMTP conversations (greeting,
/// READY with properties, messages, commands) for each listener type, and those same conversations
/// mutated the way parsers break: flipped bits, lengths replaced by boundary values, bytes inserted,
/// deleted, duplicated, cut short. Every input is also cut at random points, because a parser that
/// only works on contiguous bytes breaks when TCP splits a header.
/// </summary>
internal static class StreamFuzzer
{
    internal const int MaxLength = 64 * 1024;

    /// <summary>The listener types the session fuzzer attacks, each with the peer type a valid stream claims.</summary>
    internal static readonly IReadOnlyList<(SocketType Type, string PeerType)> Listeners =
    [
        (SocketType.Pull, "PUSH"),
        (SocketType.Router, "DEALER"),
        (SocketType.XPub, "SUB"),
        (SocketType.Rep, "REQ"),
        (SocketType.Pair, "PAIR"),
    ];

    private static readonly byte[] InterestingBytes = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x7F, 0x80, 0xFE, 0xFF];

    private static readonly long[] InterestingLengths =
    [
        0, 1, 2, 5, 255, 256, 65_535, 65_536, 65_537, 1 << 20, (1 << 20) + 1, int.MaxValue, (long)int.MaxValue + 1,
        uint.MaxValue, long.MaxValue, -1, long.MinValue,
    ];

    internal static FuzzInput Next(Random random)
    {
        int listener = random.Next(Listeners.Count);
        byte[] bytes = random.Next(10) switch
        {
            0 => Noise(random),
            1 => Conversation(random, Listeners[listener].PeerType),
            _ => Mutate(random, Conversation(random, Listeners[listener].PeerType)),
        };
        return new FuzzInput(bytes, Splits(random, bytes.Length), listener);
    }

    private static byte[] Noise(Random random)
    {
        var bytes = new byte[random.Next(0, 512)];
        random.NextBytes(bytes);
        if (bytes.Length > 0 && random.Next(2) == 0)
        {
            bytes[0] = 0xFF;
        }

        return bytes;
    }

    /// <summary>A valid conversation as <paramref name="peerType"/> (what a good peer would send).</summary>
    private static byte[] Conversation(Random random, string peerType)
    {
        var parts = new List<byte[]> { Zmtp.Greeting(minor: (byte)random.Next(2)) };
        var properties = new List<byte[]> { Zmtp.Property("Socket-Type", Zmtp.Ascii(peerType)) };
        if (random.Next(2) == 0)
        {
            byte[] identity = RandomBytes(random, random.Next(0, 9));
            if (identity.Length > 0)
            {
                identity[0] = (byte)(identity[0] | 1);
            }

            properties.Add(Zmtp.Property("Identity", identity));
        }

        if (random.Next(4) == 0)
        {
            properties.Add(Zmtp.Property("X-Fuzz", RandomBytes(random, random.Next(0, 40))));
        }

        parts.Add(Zmtp.Ready(properties.ToArray()));
        int messages = random.Next(0, 7);
        for (int m = 0; m < messages; m++)
        {
            parts.Add(random.Next(8) switch
            {
                0 => Zmtp.Ping((ushort)random.Next(0, 100)),
                1 => Zmtp.Command(random.Next(2) == 0 ? "SUBSCRIBE" : "CANCEL", RandomBytes(random, random.Next(0, 8))),
                2 => Zmtp.Command("X-UNKNOWN", RandomBytes(random, random.Next(0, 20))),
                _ => MessageFrames(random, peerType),
            });
        }

        return Zmtp.Concat(parts.ToArray());
    }

    private static byte[] MessageFrames(Random random, string peerType)
    {
        var frames = new List<byte[]>();
        if (peerType == "REQ")
        {
            frames.Add([]);
        }

        if (peerType == "SUB")
        {
            frames.Add(Zmtp.Concat([(byte)random.Next(2)], RandomBytes(random, random.Next(0, 6))));
        }

        int count = random.Next(1, 4);
        for (int i = 0; i < count; i++)
        {
            int size = random.Next(6) switch
            {
                0 => 0,
                1 => 255,
                2 => 256,
                3 => random.Next(0, 4096),
                _ => random.Next(0, 64),
            };
            frames.Add(RandomBytes(random, size));
        }

        return Zmtp.Concat(frames.Select((body, i) => Zmtp.Frame(i < frames.Count - 1 ? (byte)0x01 : (byte)0x00, body)).ToArray());
    }

    private static byte[] Mutate(Random random, byte[] original)
    {
        var bytes = new List<byte>(original);
        int mutations = random.Next(1, 7);
        for (int i = 0; i < mutations && bytes.Count > 0; i++)
        {
            int at = random.Next(bytes.Count);
            switch (random.Next(9))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes[at] = InterestingBytes[random.Next(InterestingBytes.Length)];
                    break;
                case 2:
                    WriteBigEndian(bytes, at, InterestingLengths[random.Next(InterestingLengths.Length)], random.Next(2) == 0 ? 4 : 8);
                    break;
                case 3:
                    bytes.InsertRange(at, RandomBytes(random, random.Next(1, 33)));
                    break;
                case 4:
                    bytes.RemoveRange(at, Math.Min(bytes.Count - at, random.Next(1, 33)));
                    break;
                case 5:
                    int length = Math.Min(bytes.Count - at, random.Next(1, 200));
                    bytes.InsertRange(random.Next(bytes.Count), bytes.GetRange(at, length));
                    break;
                case 6:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 7:
                    // A frame header with a boundary length dropped into the stream.
                    bytes.InsertRange(at, Zmtp.Header(InterestingBytes[random.Next(InterestingBytes.Length)], InterestingLengths[random.Next(InterestingLengths.Length)], forceLong: random.Next(2) == 0));
                    break;
                default:
                    bytes.AddRange(RandomBytes(random, random.Next(1, 64)));
                    break;
            }
        }

        return bytes.Count > MaxLength ? bytes.GetRange(0, MaxLength).ToArray() : bytes.ToArray();
    }

    private static void WriteBigEndian(List<byte> bytes, int at, long value, int width)
    {
        for (int i = 0; i < width && at + i < bytes.Count; i++)
        {
            bytes[at + i] = (byte)(value >> (8 * (width - 1 - i)));
        }
    }

    private static int[] Splits(Random random, int length)
    {
        if (length < 2)
        {
            return [];
        }

        return Enumerable.Range(0, random.Next(0, 7))
            .Select(_ => random.Next(1, length))
            .Distinct()
            .Order()
            .ToArray();
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
