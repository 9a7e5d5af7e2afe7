using System.Buffers.Binary;
using System.Text;
using Engine.Security;

namespace Engine.Wire.Mechanisms;

/// <summary>
/// CurveZMQ nonces (RFC 26): a 16-byte ASCII prefix naming the command, then an 8-byte big-endian
/// counter that strictly increases per direction (the "short nonce"), or a 16-byte prefix... for
/// the long nonces of WELCOME, cookie and vouch: an 8-byte prefix and 16 random bytes.
/// </summary>
internal static class CurveNonces
{
    internal const int ShortSize = 8;
    internal const int LongSize = 16;

    internal static ReadOnlySpan<byte> Hello => "CurveZMQHELLO---"u8;

    internal static ReadOnlySpan<byte> Initiate => "CurveZMQINITIATE"u8;

    internal static ReadOnlySpan<byte> Ready => "CurveZMQREADY---"u8;

    internal static ReadOnlySpan<byte> MessageFromClient => "CurveZMQMESSAGEC"u8;

    internal static ReadOnlySpan<byte> MessageFromServer => "CurveZMQMESSAGES"u8;

    internal static ReadOnlySpan<byte> Welcome => "WELCOME-"u8;

    internal static ReadOnlySpan<byte> Cookie => "COOKIE--"u8;

    internal static ReadOnlySpan<byte> Vouch => "VOUCH---"u8;

    /// <summary>prefix(16) + counter(8, big-endian).</summary>
    internal static void Short(Span<byte> nonce, ReadOnlySpan<byte> prefix, ulong counter)
    {
        prefix.CopyTo(nonce);
        BinaryPrimitives.WriteUInt64BigEndian(nonce[16..], counter);
    }

    /// <summary>prefix(8) + the 16 bytes that travel with the box.</summary>
    internal static void Long(Span<byte> nonce, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> sent)
    {
        prefix.CopyTo(nonce);
        sent.CopyTo(nonce[8..]);
    }

    internal static string Describe(ReadOnlySpan<byte> prefix) => Encoding.ASCII.GetString(prefix);

    internal static byte[] RandomLong()
    {
        var bytes = new byte[LongSize];
        Sodium.Random(bytes);
        return bytes;
    }
}
