using System.Buffers;
using System.Buffers.Binary;
using Engine.Security;

namespace Engine.Wire.Mechanisms;

/// <summary>The CURVE mechanisms hand the session a <see cref="CurveCodec"/> for the messages that follow.</summary>
internal interface IEncryptingMechanism : IMechanism
{
    /// <summary>Only after <see cref="IMechanism.Process"/> returned the peer's metadata.</summary>
    CurveCodec CreateCodec();
}

/// <summary>
/// CURVE client (RFC 26). HELLO proves we know the server's key S without revealing who we are;
/// WELCOME gives the server's short-term key S' and a cookie; INITIATE returns the cookie with our
/// long-term key C and a vouch (C' and S boxed by C for S') so the server knows C' speaks for C;
/// READY carries the server's metadata. Everything after is boxed between C' and S'.
/// </summary>
internal sealed class CurveClient : IEncryptingMechanism
{
    internal const string MechanismName = "CURVE";

    private readonly Metadata _ours;
    private readonly byte[] _publicKey;
    private readonly byte[] _secretKey;
    private readonly byte[] _serverKey;
    private readonly byte[] _shortPublic = new byte[Sodium.KeySize];
    private readonly byte[] _shortSecret = new byte[Sodium.KeySize];
    private byte[]? _serverShortKey;
    private ulong _nonce = 1;
    private ulong _peerNonce;
    private bool _welcomed;

    internal CurveClient(Metadata ours, byte[] publicKey, byte[] secretKey, byte[] serverKey)
    {
        _ours = ours;
        _publicKey = publicKey;
        _secretKey = secretKey;
        _serverKey = serverKey;
        Sodium.KeyPair(_shortPublic, _shortSecret);
    }

    public string Name => MechanismName;

    public bool AsServer => false;

    public void Start(IBufferWriter<byte> output)
    {
        // version(2) padding(72) C'(32) short-nonce(8) Box[64 zeros](C'->S)(80) = 194 bytes of data.
        var data = new byte[194];
        data[0] = 1;
        _shortPublic.CopyTo(data, 74);
        Span<byte> nonce = stackalloc byte[Sodium.NonceSize];
        CurveNonces.Short(nonce, CurveNonces.Hello, _nonce);
        BinaryPrimitives.WriteUInt64BigEndian(data.AsSpan(106), _nonce++);
        Sodium.Box(data.AsSpan(114, 80), stackalloc byte[64], nonce, _serverKey, _shortSecret);
        output.Write(Commands.Build(MechanismCommands.Hello, data));
    }

    public Metadata? Process(ReadOnlySpan<byte> name, ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        Span<byte> nonce = stackalloc byte[Sodium.NonceSize];
        if (!_welcomed)
        {
            MechanismCommands.Expect(name, MechanismCommands.Welcome);
            if (data.Length != 160)
            {
                throw new ProtocolViolationException(ProtocolError.MalformedCommand, $"CURVE WELCOME of {data.Length} bytes (160 expected)");
            }

            // S'(32) + cookie(96), boxed S -> C'. Only the holder of S's secret can make this open.
            Span<byte> welcome = stackalloc byte[128];
            CurveNonces.Long(nonce, CurveNonces.Welcome, data[..16]);
            if (!Sodium.Open(welcome, data[16..], nonce, _serverKey, _shortSecret))
            {
                throw new ProtocolViolationException(ProtocolError.AuthenticationFailed, "CURVE WELCOME does not open: the server does not hold the secret of the server key we were given");
            }

            _welcomed = true;
            _serverShortKey = welcome[..32].ToArray();
            output.Write(BuildInitiate(welcome[32..128]));
            return null;
        }

        MechanismCommands.Expect(name, Commands.Ready);
        if (data.Length < CurveNonces.ShortSize + Sodium.MacSize)
        {
            throw new ProtocolViolationException(ProtocolError.MalformedCommand, $"CURVE READY of {data.Length} bytes");
        }

        _peerNonce = BinaryPrimitives.ReadUInt64BigEndian(data);
        CurveNonces.Short(nonce, CurveNonces.Ready, _peerNonce);
        var metadata = new byte[data.Length - CurveNonces.ShortSize - Sodium.MacSize];
        if (!Sodium.Open(metadata, data[CurveNonces.ShortSize..], nonce, _serverShortKey!, _shortSecret))
        {
            throw new ProtocolViolationException(ProtocolError.MalformedCommand, "CURVE READY box does not authenticate");
        }

        return MechanismCommands.ParseMetadata(metadata);
    }

    public CurveCodec CreateCodec()
    {
        var shared = new byte[Sodium.KeySize];
        Sodium.BeforeNm(shared, _serverShortKey!, _shortSecret);
        return new CurveCodec(shared, isServer: false, _nonce, _peerNonce);
    }

    private byte[] BuildInitiate(ReadOnlySpan<byte> cookie)
    {
        Span<byte> nonce = stackalloc byte[Sodium.NonceSize];

        // vouch = nonce(16) + Box[C' + S](C -> S'): proves the long-term key C stands behind C'.
        Span<byte> vouchPlain = stackalloc byte[64];
        _shortPublic.CopyTo(vouchPlain);
        _serverKey.CopyTo(vouchPlain[32..]);
        byte[] vouchNonce = CurveNonces.RandomLong();
        CurveNonces.Long(nonce, CurveNonces.Vouch, vouchNonce);

        byte[] metadata = _ours.ToArray();
        var plain = new byte[32 + 16 + 80 + metadata.Length];
        _publicKey.CopyTo(plain, 0);
        vouchNonce.CopyTo(plain, 32);
        Sodium.Box(plain.AsSpan(48, 80), vouchPlain, nonce, _serverShortKey!, _secretKey);
        metadata.CopyTo(plain, 128);

        // cookie(96) short-nonce(8) Box[C + vouch + metadata](C' -> S').
        var data = new byte[96 + 8 + Sodium.MacSize + plain.Length];
        cookie.CopyTo(data);
        CurveNonces.Short(nonce, CurveNonces.Initiate, _nonce);
        BinaryPrimitives.WriteUInt64BigEndian(data.AsSpan(96), _nonce++);
        Sodium.Box(data.AsSpan(104), plain, nonce, _serverShortKey!, _shortSecret);
        return Commands.Build(MechanismCommands.Initiate, data);
    }
}
