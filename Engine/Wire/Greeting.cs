using System.Text;

namespace Engine.Wire;

/// <summary>
/// The 64-byte ZMTP 3.x greeting (RFC 23 and RFC 37, "Greeting").
/// </summary>
/// <remarks>
/// <code>
///  0      1..8      9     10     11     12..31      32         33..63
/// +----+---------+------+-----+-----+-----------+-----------+---------+
/// | FF | padding | 7F   | maj | min | mechanism | as-server | filler  |
/// +----+---------+------+-----+-----+-----------+-----------+---------+
/// </code>
/// The padding is never validated (libzmq writes its identity length there for ZMTP 1.0 detection).
/// We send all 64 bytes at once: libzmq sends its greeting in steps and waits for ours between them,
/// so waiting for the whole peer greeting before sending ours would deadlock.
/// </remarks>
internal readonly struct Greeting
{
    internal const int Size = 64;
    internal const byte MajorVersion = 3;
    internal const byte MinorVersion = 1;
    private const int MechanismOffset = 12;
    private const int MechanismLength = 20;
    private const int AsServerOffset = 32;

    internal Greeting(byte major, byte minor, string mechanism, bool asServer)
    {
        Major = major;
        Minor = minor;
        Mechanism = mechanism;
        AsServer = asServer;
    }

    internal byte Major { get; }

    internal byte Minor { get; }

    internal string Mechanism { get; }

    internal bool AsServer { get; }

    /// <summary>True when the peer announced 3.1 or later (SUBSCRIBE/CANCEL as commands).</summary>
    internal bool IsAtLeast31 => Major > 3 || (Major == 3 && Minor >= 1);

    internal static void Write(Span<byte> destination, string mechanism, bool asServer)
    {
        destination = destination[..Size];
        destination.Clear();
        destination[0] = 0xFF;
        destination[9] = 0x7F;
        destination[10] = MajorVersion;
        destination[11] = MinorVersion;
        Encoding.ASCII.GetBytes(mechanism, destination.Slice(MechanismOffset, MechanismLength));
        destination[AsServerOffset] = asServer ? (byte)1 : (byte)0;
    }

    /// <summary>
    /// Checks what has arrived of a greeting so far, so that garbage is refused after its first byte
    /// rather than after 64 (a slow or hostile peer cannot hold the connection open with junk).
    /// </summary>
    internal static ProtocolError CheckPrefix(ReadOnlySpan<byte> prefix)
    {
        if (prefix.Length > 0 && prefix[0] != 0xFF)
        {
            return ProtocolError.BadSignature;
        }

        if (prefix.Length > 9 && (prefix[9] & 0x01) == 0)
        {
            return ProtocolError.BadSignature;
        }

        if (prefix.Length > 10 && prefix[10] < 3)
        {
            return ProtocolError.UnsupportedVersion;
        }

        return ProtocolError.None;
    }

    internal static ProtocolError TryParse(ReadOnlySpan<byte> source, out Greeting greeting)
    {
        greeting = default;
        ProtocolError prefixError = CheckPrefix(source);
        if (prefixError != ProtocolError.None)
        {
            return prefixError;
        }

        ReadOnlySpan<byte> mechanismField = source.Slice(MechanismOffset, MechanismLength);
        int end = mechanismField.IndexOf((byte)0);
        ReadOnlySpan<byte> name = end < 0 ? mechanismField : mechanismField[..end];
        if (name.IsEmpty || !IsMechanismName(name) || mechanismField[(end < 0 ? MechanismLength : end)..].IndexOfAnyExcept((byte)0) >= 0)
        {
            return ProtocolError.UnknownMechanism;
        }

        greeting = new Greeting(source[10], source[11], Encoding.ASCII.GetString(name), source[AsServerOffset] == 1);
        return ProtocolError.None;
    }

    /// <summary>
    /// Names the problem with a refused greeting so that whoever reads the monitor can tell a
    /// misdirected client (HTTP, TLS, an old ZeroMQ) from line noise.
    /// </summary>
    internal static string DescribeRefusal(ProtocolError error, ReadOnlySpan<byte> prefix)
    {
        if (error == ProtocolError.UnsupportedVersion && prefix.Length > 10)
        {
            if (prefix[10] == 1)
            {
                // ZMTP 2.0 has a revision byte here and the socket type after it, not a minor version.
                return "peer announced revision 1 (ZMTP 2.0, libzmq 3.x)";
            }

            string minor = prefix.Length > 11 ? $".{prefix[11]}" : string.Empty;
            return $"peer announced version {prefix[10]}{minor}";
        }

        if (error == ProtocolError.UnknownMechanism && prefix.Length >= MechanismOffset + MechanismLength)
        {
            return $"mechanism field '{ProtocolErrors.Printable(prefix.Slice(MechanismOffset, MechanismLength))}'";
        }

        ReadOnlySpan<byte> head = prefix[..Math.Min(prefix.Length, 12)];
        string guess = head switch
        {
            [0x16, 0x03, ..] or [0x16] => " (a TLS ClientHello?)",
            [>= (byte)'A' and <= (byte)'Z', >= (byte)'A' and <= (byte)'Z', ..] when head.IndexOf((byte)' ') > 0 => " (an HTTP request?)",
            [not 0xFF, ..] => " (not ZMTP 3.x; ZMTP 1.0 and other protocols start differently)",
            _ => string.Empty,
        };
        return $"first bytes {Convert.ToHexString(head)}{guess}";
    }

    private static bool IsMechanismName(ReadOnlySpan<byte> name)
    {
        foreach (byte b in name)
        {
            bool ok = b is >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9' or (byte)'-' or (byte)'_' or (byte)'.' or (byte)'+';
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }
}
