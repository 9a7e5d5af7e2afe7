namespace Engine.Security;

/// <summary>
/// Z85 (ZeroMQ RFC 32): the text form libzmq uses for CURVE keys (40 characters for 32 bytes).
/// An encoding, not cryptography: 4 bytes big-endian become 5 base-85 digits.
/// </summary>
internal static class Z85
{
    private const string Alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

    internal static string Encode(ReadOnlySpan<byte> data)
    {
        if (data.Length % 4 != 0)
        {
            throw new ArgumentException($"Z85 encodes multiples of 4 bytes (got {data.Length}).", nameof(data));
        }

        var text = new char[data.Length / 4 * 5];
        for (int i = 0, o = 0; i < data.Length; i += 4, o += 5)
        {
            uint value = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(data[i..]);
            for (int d = 4; d >= 0; d--)
            {
                text[o + d] = Alphabet[(int)(value % 85)];
                value /= 85;
            }
        }

        return new string(text);
    }

    internal static bool TryDecode(string text, out byte[] data)
    {
        data = Array.Empty<byte>();
        if (text.Length % 5 != 0)
        {
            return false;
        }

        var bytes = new byte[text.Length / 5 * 4];
        for (int i = 0, o = 0; i < text.Length; i += 5, o += 4)
        {
            ulong value = 0;
            for (int d = 0; d < 5; d++)
            {
                int digit = Alphabet.IndexOf(text[i + d]);
                if (digit < 0)
                {
                    return false;
                }

                value = value * 85 + (ulong)digit;
            }

            if (value > uint.MaxValue)
            {
                return false;
            }

            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(o), (uint)value);
        }

        data = bytes;
        return true;
    }
}
