using System.Buffers;
using System.Buffers.Binary;
using Engine.Security;

namespace Engine.Wire.Mechanisms;

/// <summary>
/// CURVE server (RFC 26). Between WELCOME and INITIATE it keeps nothing about the client: its
/// short-term keys travel in the cookie, sealed under <see cref="CurveCookieKey"/>. INITIATE is
/// accepted only if the cookie opens, the vouch binds the client's long-term key to its short-term
/// key and to our key, and the <see cref="Authenticator"/> (if any) accepts that long-term key.
/// </summary>
internal sealed class CurveServer(Metadata ours, byte[] publicKey, byte[] secretKey, Authenticator? authenticator, string peerAddress) : IEncryptingMechanism
{
    private bool _helloSeen;
    private byte[]? _clientShortKey;
    private byte[]? _shortSecret;
    private ulong _peerNonce;

    public string Name => CurveClient.MechanismName;

    public bool AsServer => true;

    public void Start(IBufferWriter<byte> output)
    {
    }

    public Metadata? Process(ReadOnlySpan<byte> name, ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        if (!_helloSeen)
        {
            MechanismCommands.Expect(name, MechanismCommands.Hello);
            output.Write(Welcome(data));
            _helloSeen = true;
            return null;
        }

        MechanismCommands.Expect(name, MechanismCommands.Initiate);
        Metadata peer = Initiate(data);
        output.Write(Ready());
        return peer;
    }

    public CurveCodec CreateCodec()
    {
        var shared = new byte[Sodium.KeySize];
        Sodium.BeforeNm(shared, _clientShortKey!, _shortSecret!);
        return new CurveCodec(shared, isServer: true, nextNonce: 2, _peerNonce);
    }

    private byte[] Welcome(ReadOnlySpan<byte> data)
    {
        if (data.Length != 194 || data[0] != 1 || data[1] != 0)
        {
            throw new ProtocolViolationException(ProtocolError.MalformedCommand, $"CURVE HELLO of {data.Length} bytes, version {(data.Length > 1 ? $"{data[0]}.{data[1]}" : "?")} (194 bytes, 1.0 expected)");
        }

        ReadOnlySpan<byte> clientShort = data.Slice(74, 32);
        Span<byte> nonce = stackalloc byte[Sodium.NonceSize];
        CurveNonces.Short(nonce, CurveNonces.Hello, BinaryPrimitives.ReadUInt64BigEndian(data[106..]));
        if (!Sodium.Open(stackalloc byte[64], data.Slice(114, 80), nonce, clientShort, secretKey))
        {
            throw new ProtocolViolationException(ProtocolError.AuthenticationFailed, "CURVE HELLO does not open: the client does not know our public key");
        }

        Span<byte> shortPublic = stackalloc byte[32];
        Span<byte> shortSecret = stackalloc byte[32];
        Sodium.KeyPair(shortPublic, shortSecret);

        // cookie = nonce(16) + SecretBox[C' + s'](K): our only memory of this client until INITIATE.
        Span<byte> welcome = stackalloc byte[128];
        shortPublic.CopyTo(welcome);
        Span<byte> cookiePlain = stackalloc byte[64];
        clientShort.CopyTo(cookiePlain);
        shortSecret.CopyTo(cookiePlain[32..]);
        byte[] cookieNonce = CurveNonces.RandomLong();
        cookieNonce.CopyTo(welcome[32..]);
        CurveNonces.Long(nonce, CurveNonces.Cookie, cookieNonce);
        Sodium.SecretBox(welcome.Slice(48, 80), cookiePlain, nonce, CurveCookieKey.Current);
        cookiePlain.Clear();
        shortSecret.Clear();

        var reply = new byte[16 + 144];
        byte[] welcomeNonce = CurveNonces.RandomLong();
        welcomeNonce.CopyTo(reply, 0);
        CurveNonces.Long(nonce, CurveNonces.Welcome, welcomeNonce);
        Sodium.Box(reply.AsSpan(16), welcome, nonce, clientShort, secretKey);
        return Commands.Build(MechanismCommands.Welcome, reply);
    }

    private Metadata Initiate(ReadOnlySpan<byte> data)
    {
        if (data.Length < 96 + 8 + Sodium.MacSize + 128)
        {
            throw new ProtocolViolationException(ProtocolError.MalformedCommand, $"CURVE INITIATE of {data.Length} bytes");
        }

        Span<byte> nonce = stackalloc byte[Sodium.NonceSize];
        Span<byte> cookie = stackalloc byte[64];
        CurveNonces.Long(nonce, CurveNonces.Cookie, data[..16]);
        (byte[] current, byte[] previous) = CurveCookieKey.Accepted;
        if (!Sodium.SecretOpen(cookie, data.Slice(16, 80), nonce, current) && !Sodium.SecretOpen(cookie, data.Slice(16, 80), nonce, previous))
        {
            throw new ProtocolViolationException(ProtocolError.AuthenticationFailed, "CURVE cookie does not open (forged, or older than the cookie key)");
        }

        _clientShortKey = cookie[..32].ToArray();
        _shortSecret = cookie[32..].ToArray();
        cookie.Clear();

        _peerNonce = BinaryPrimitives.ReadUInt64BigEndian(data[96..]);
        CurveNonces.Short(nonce, CurveNonces.Initiate, _peerNonce);
        var plain = new byte[data.Length - 104 - Sodium.MacSize];
        if (!Sodium.Open(plain, data[104..], nonce, _clientShortKey, _shortSecret))
        {
            throw new ProtocolViolationException(ProtocolError.AuthenticationFailed, "CURVE INITIATE box does not authenticate");
        }

        byte[] clientKey = plain[..32];
        Span<byte> vouch = stackalloc byte[64];
        CurveNonces.Long(nonce, CurveNonces.Vouch, plain.AsSpan(32, 16));
        if (!Sodium.Open(vouch, plain.AsSpan(48, 80), nonce, clientKey, _shortSecret)
            || !vouch[..32].SequenceEqual(_clientShortKey) || !vouch[32..].SequenceEqual(publicKey))
        {
            throw new ProtocolViolationException(ProtocolError.AuthenticationFailed, "CURVE vouch does not bind the client's keys to this server");
        }

        MechanismCommands.Authenticate(authenticator, new AuthenticationRequest("CURVE", peerAddress, null, null, clientKey), acceptWithoutAuthenticator: true);
        return MechanismCommands.ParseMetadata(plain.AsSpan(128));
    }

    private byte[] Ready()
    {
        byte[] metadata = ours.ToArray();
        var data = new byte[8 + Sodium.MacSize + metadata.Length];
        Span<byte> nonce = stackalloc byte[Sodium.NonceSize];
        CurveNonces.Short(nonce, CurveNonces.Ready, 1);
        BinaryPrimitives.WriteUInt64BigEndian(data, 1);
        Sodium.Box(data.AsSpan(8), metadata, nonce, _clientShortKey!, _shortSecret!);
        return Commands.Build(Commands.Ready, data);
    }
}
