using System.Buffers.Binary;
using System.Text;

namespace Engine.Wire;

/// <summary>The ZMTP commands we speak, and how their bodies are laid out.</summary>
/// <remarks>
/// <code>
/// command body = name-size(1) name(1..255) data
/// READY  data  = metadata
/// ERROR  data  = reason-size(1) reason(0..255)
/// PING   data  = ttl(2, deciseconds, big-endian) context(0..16)
/// PONG   data  = context(0..16)
/// </code>
/// </remarks>
internal static class Commands
{
    internal static ReadOnlySpan<byte> Ready => "READY"u8;

    internal static ReadOnlySpan<byte> Error => "ERROR"u8;

    internal static ReadOnlySpan<byte> Ping => "PING"u8;

    internal static ReadOnlySpan<byte> Pong => "PONG"u8;

    internal static ReadOnlySpan<byte> Subscribe => "SUBSCRIBE"u8;

    internal static ReadOnlySpan<byte> Cancel => "CANCEL"u8;

    /// <summary>Our extension: "stop sending to me, I am draining" (only to peers that announced X-Drain).</summary>
    internal static ReadOnlySpan<byte> Drain => "DRAIN"u8;

    /// <summary>Our extension: "that was my last message to you" (the answer to DRAIN).</summary>
    internal static ReadOnlySpan<byte> Drained => "DRAINED"u8;

    /// <summary>Writes a command frame with no data; returns its length.</summary>
    internal static int WriteBare(Span<byte> destination, ReadOnlySpan<byte> name)
    {
        int bodySize = 1 + name.Length;
        int position = FrameCodec.WriteHeader(destination, more: false, command: true, bodySize);
        destination[position++] = (byte)name.Length;
        name.CopyTo(destination[position..]);
        return position + name.Length;
    }

    /// <summary>Maximum context length of a PING/PONG; longer contexts are truncated (RFC 37).</summary>
    internal const int MaxPingContext = 16;

    internal static bool TryParse(ReadOnlySpan<byte> body, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> data)
    {
        name = default;
        data = default;
        if (body.IsEmpty || body[0] == 0 || body.Length < 1 + body[0])
        {
            return false;
        }

        name = body.Slice(1, body[0]);
        data = body[(1 + body[0])..];
        return true;
    }

    /// <summary>A whole READY frame (header included).</summary>
    internal static byte[] BuildReady(Metadata metadata)
    {
        int bodySize = 1 + Ready.Length + metadata.EncodedSize;
        var frame = new byte[FrameCodec.HeaderSize(bodySize) + bodySize];
        int position = FrameCodec.WriteHeader(frame, more: false, command: true, bodySize);
        frame[position++] = (byte)Ready.Length;
        Ready.CopyTo(frame.AsSpan(position));
        position += Ready.Length;
        metadata.Write(frame.AsSpan(position));
        return frame;
    }

    /// <summary>A whole command frame (header included) with any name and data: the handshake commands of PLAIN and CURVE.</summary>
    internal static byte[] Build(ReadOnlySpan<byte> name, ReadOnlySpan<byte> data)
    {
        int bodySize = 1 + name.Length + data.Length;
        var frame = new byte[FrameCodec.HeaderSize(bodySize) + bodySize];
        int position = FrameCodec.WriteHeader(frame, more: false, command: true, bodySize);
        frame[position++] = (byte)name.Length;
        name.CopyTo(frame.AsSpan(position));
        data.CopyTo(frame.AsSpan(position + name.Length));
        return frame;
    }

    /// <summary>A whole ERROR frame (header included); the reason is cut to 255 printable bytes.</summary>
    /// <remarks>Reasons may quote what a peer sent: anything outside printable ASCII becomes '?'.</remarks>
    internal static byte[] BuildError(string reason)
    {
        byte[] text = Encoding.ASCII.GetBytes(reason.Length > 255 ? reason[..255] : reason);
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] is < 0x20 or > 0x7E)
            {
                text[i] = (byte)'?';
            }
        }

        int bodySize = 1 + Error.Length + 1 + text.Length;
        var frame = new byte[FrameCodec.HeaderSize(bodySize) + bodySize];
        int position = FrameCodec.WriteHeader(frame, more: false, command: true, bodySize);
        frame[position++] = (byte)Error.Length;
        Error.CopyTo(frame.AsSpan(position));
        position += Error.Length;
        frame[position++] = (byte)text.Length;
        text.CopyTo(frame.AsSpan(position));
        return frame;
    }

    internal static string ParseErrorReason(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return string.Empty;
        }

        int length = Math.Min(data[0], data.Length - 1);
        return ProtocolErrors.Printable(data.Slice(1, length), 255);
    }

    /// <summary>Writes a PING frame; returns its length (at most 2 + 1 + 4 + 2 + 16 bytes).</summary>
    internal static int WritePing(Span<byte> destination, ushort ttlDeciseconds, ReadOnlySpan<byte> context)
    {
        context = context.Length > MaxPingContext ? context[..MaxPingContext] : context;
        int bodySize = 1 + Ping.Length + 2 + context.Length;
        int position = FrameCodec.WriteHeader(destination, more: false, command: true, bodySize);
        destination[position++] = (byte)Ping.Length;
        Ping.CopyTo(destination[position..]);
        position += Ping.Length;
        BinaryPrimitives.WriteUInt16BigEndian(destination[position..], ttlDeciseconds);
        position += 2;
        context.CopyTo(destination[position..]);
        return position + context.Length;
    }

    /// <summary>Writes a PONG frame echoing <paramref name="context"/>; returns its length.</summary>
    internal static int WritePong(Span<byte> destination, ReadOnlySpan<byte> context)
    {
        context = context.Length > MaxPingContext ? context[..MaxPingContext] : context;
        int bodySize = 1 + Pong.Length + context.Length;
        int position = FrameCodec.WriteHeader(destination, more: false, command: true, bodySize);
        destination[position++] = (byte)Pong.Length;
        Pong.CopyTo(destination[position..]);
        position += Pong.Length;
        context.CopyTo(destination[position..]);
        return position + context.Length;
    }
}
