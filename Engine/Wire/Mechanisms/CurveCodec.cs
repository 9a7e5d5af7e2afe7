using System.Buffers.Binary;
using Engine.Security;

namespace Engine.Wire.Mechanisms;

/// <summary>
/// The CURVE MESSAGE box of one connection once the handshake is done (RFC 26):
/// <c>MESSAGE = "\x07MESSAGE" short-nonce(8) Box[flags(1) payload](C'-&gt;S' or S'-&gt;C')</c>, where
/// flags carries MORE (1) and COMMAND (2) of the frame it wraps. Nonces continue the handshake's
/// counters and must strictly increase; a replayed or reordered box is refused.
/// </summary>
internal sealed class CurveCodec
{
    /// <summary>"\x07MESSAGE" + nonce + MAC + flags: what a MESSAGE adds to a payload.</summary>
    internal const int Overhead = 8 + CurveNonces.ShortSize + Sodium.MacSize + 1;

    internal const byte FlagMore = 1;
    internal const byte FlagCommand = 2;

    private static ReadOnlySpan<byte> MessageName => "\x07MESSAGE"u8;

    private readonly byte[] _sharedKey;
    private readonly byte[] _ourPrefix;
    private readonly byte[] _peerPrefix;
    private ulong _nextNonce;
    private ulong _lastPeerNonce;

    internal CurveCodec(byte[] sharedKey, bool isServer, ulong nextNonce, ulong lastPeerNonce)
    {
        _sharedKey = sharedKey;
        _ourPrefix = (isServer ? CurveNonces.MessageFromServer : CurveNonces.MessageFromClient).ToArray();
        _peerPrefix = (isServer ? CurveNonces.MessageFromClient : CurveNonces.MessageFromServer).ToArray();
        _nextNonce = nextNonce;
        _lastPeerNonce = lastPeerNonce;
    }

    /// <summary>Writes the MESSAGE command body for one frame into <paramref name="destination"/> (payload.Length + <see cref="Overhead"/> bytes).</summary>
    /// <param name="destination">Where the MESSAGE body goes.</param>
    /// <param name="plain">flags(1) + payload, contiguous (the box covers both).</param>
    internal void Seal(Span<byte> destination, ReadOnlySpan<byte> plain)
    {
        Span<byte> nonce = stackalloc byte[Sodium.NonceSize];
        ulong counter = _nextNonce++;
        CurveNonces.Short(nonce, _ourPrefix, counter);
        MessageName.CopyTo(destination);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], counter);
        Sodium.BoxAfterNm(destination.Slice(16, plain.Length + Sodium.MacSize), plain, nonce, _sharedKey);
    }

    /// <summary>
    /// Opens a MESSAGE command body into <paramref name="plain"/> (body.Length - 32 bytes: flags + payload).
    /// Returns null, or why the body is refused.
    /// </summary>
    internal string? Open(ReadOnlySpan<byte> body, Span<byte> plain)
    {
        if (body.Length < Overhead || !body[..8].SequenceEqual(MessageName))
        {
            return $"expected a CURVE MESSAGE of at least {Overhead} bytes, got {body.Length} bytes";
        }

        ulong counter = BinaryPrimitives.ReadUInt64BigEndian(body[8..]);
        if (counter <= _lastPeerNonce)
        {
            return $"CURVE MESSAGE nonce {counter} does not increase (last {_lastPeerNonce}): replayed or reordered";
        }

        Span<byte> nonce = stackalloc byte[Sodium.NonceSize];
        CurveNonces.Short(nonce, _peerPrefix, counter);
        if (!Sodium.OpenAfterNm(plain, body[16..], nonce, _sharedKey))
        {
            return "CURVE MESSAGE box does not authenticate";
        }

        _lastPeerNonce = counter;
        return null;
    }
}
