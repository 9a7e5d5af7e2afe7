using System.Buffers.Binary;
using System.Text;
using Engine.Wire;

namespace Engine.Tests.Hardening;

/// <summary>
/// Builds ZMTP byte strings by hand, right or deliberately wrong, for hostile peers and the fuzzer.
/// Written from the RFC layouts, not with the engine's encoders, so that an encoder bug cannot hide
/// a decoder bug.
/// </summary>
internal static class Zmtp
{
    /// <summary>A 64-byte greeting; every field can be set wrong on purpose.</summary>
    internal static byte[] Greeting(byte major = 3, byte minor = 1, string mechanism = "NULL", bool asServer = false, byte signatureEnd = 0x7F)
    {
        var greeting = new byte[64];
        greeting[0] = 0xFF;
        greeting[9] = signatureEnd;
        greeting[10] = major;
        greeting[11] = minor;
        byte[] name = Encoding.Latin1.GetBytes(mechanism);
        name.AsSpan(0, Math.Min(name.Length, 20)).CopyTo(greeting.AsSpan(12));
        greeting[32] = asServer ? (byte)1 : (byte)0;
        return greeting;
    }

    /// <summary>A frame header (short when the size fits a byte and <paramref name="forceLong"/> is false).</summary>
    internal static byte[] Header(byte flags, long size, bool forceLong = false)
    {
        if (size is >= 0 and <= 255 && !forceLong)
        {
            return [flags, (byte)size];
        }

        var header = new byte[9];
        header[0] = (byte)(flags | 0x02);
        BinaryPrimitives.WriteInt64BigEndian(header.AsSpan(1), size);
        return header;
    }

    /// <summary>A whole frame with flags as given (MORE 0x01, COMMAND 0x04; LONG is added when needed).</summary>
    internal static byte[] Frame(byte flags, byte[] body) => Concat(Header(flags, body.Length), body);

    internal static byte[] Message(string text, bool more = false) => Frame(more ? (byte)0x01 : (byte)0x00, Encoding.ASCII.GetBytes(text));

    /// <summary>A command frame: name-size, name, data.</summary>
    internal static byte[] Command(string name, byte[] data) =>
        Frame(0x04, Concat([(byte)name.Length], Encoding.ASCII.GetBytes(name), data));

    /// <summary>One metadata property with its value length written as given (which may lie).</summary>
    internal static byte[] Property(string name, byte[] value, uint? announcedLength = null)
    {
        byte[] nameBytes = Encoding.Latin1.GetBytes(name);
        var length = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(length, announcedLength ?? (uint)value.Length);
        return Concat([(byte)nameBytes.Length], nameBytes, length, value);
    }

    internal static byte[] Ready(params byte[][] properties) => Command("READY", Concat(properties));

    internal static byte[] ReadyAs(string socketType) => Ready(Property("Socket-Type", Encoding.ASCII.GetBytes(socketType)));

    /// <summary>Greeting and READY of a well-behaved PUSH: what a hostile peer sends to get past the handshake.</summary>
    internal static byte[] HandshakeAsPush() => Concat(Greeting(), ReadyAs("PUSH"));

    internal static byte[] Error(string reason) => Command("ERROR", Concat([(byte)reason.Length], Encoding.ASCII.GetBytes(reason)));

    internal static byte[] Ping(ushort ttl = 0) => Command("PING", [(byte)(ttl >> 8), (byte)ttl]);

    internal static byte[] Concat(params byte[][] parts)
    {
        var result = new byte[parts.Sum(p => p.Length)];
        int position = 0;
        foreach (byte[] part in parts)
        {
            part.CopyTo(result, position);
            position += part.Length;
        }

        return result;
    }

    internal static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    internal static byte[] Random(int seed, int length, Func<byte, byte>? first = null)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        if (first is not null && length > 0)
        {
            bytes[0] = first(bytes[0]);
        }

        return bytes;
    }

    /// <summary>What we sent back, read as ZMTP: our greeting, then every whole frame after it.</summary>
    internal sealed record Reply(bool HasGreeting, IReadOnlyList<(bool Command, string Name, byte[] Data)> Frames)
    {
        internal string? ErrorReason => Frames.FirstOrDefault(f => f.Command && f.Name == "ERROR") is { Name: "ERROR" } error
            ? Commands.ParseErrorReason(error.Data)
            : null;

        internal static Reply Parse(byte[] received)
        {
            var frames = new List<(bool, string, byte[])>();
            bool greeting = received.Length >= 64 && received[0] == 0xFF && received[9] == 0x7F && received[10] == 3;
            int position = greeting ? 64 : received.Length;
            while (received.Length - position >= 2)
            {
                byte flags = received[position];
                long size;
                int header;
                if ((flags & 0x02) != 0)
                {
                    if (received.Length - position < 9)
                    {
                        break;
                    }

                    size = BinaryPrimitives.ReadInt64BigEndian(received.AsSpan(position + 1, 8));
                    header = 9;
                }
                else
                {
                    size = received[position + 1];
                    header = 2;
                }

                if (size < 0 || received.Length - position - header < size)
                {
                    break;
                }

                byte[] body = received.AsSpan(position + header, (int)size).ToArray();
                position += header + (int)size;
                bool command = (flags & 0x04) != 0;
                if (command && body.Length > 0 && body.Length >= 1 + body[0])
                {
                    frames.Add((true, Encoding.ASCII.GetString(body, 1, body[0]), body[(1 + body[0])..]));
                }
                else
                {
                    frames.Add((command, string.Empty, body));
                }
            }

            return new Reply(greeting, frames);
        }
    }
}
