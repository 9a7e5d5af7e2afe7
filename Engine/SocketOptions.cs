using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Engine;

/// <summary>
/// Options of one socket. Each is validated when set, with a message that says what is allowed.
/// Options that shape a connection (HWMs, buffer sizes, identity) are read when the connection is
/// made, so set them before <c>Bind</c>/<c>Connect</c>.
/// </summary>
public sealed class SocketOptions
{
    private int _sendHighWatermark = 1000;
    private int _receiveHighWatermark = 1000;
    private TimeSpan _sendTimeout = Timeout.InfiniteTimeSpan;
    private TimeSpan _receiveTimeout = Timeout.InfiniteTimeSpan;
    private TimeSpan _reconnectInterval = TimeSpan.FromMilliseconds(100);
    private TimeSpan _reconnectIntervalMax = TimeSpan.FromSeconds(1);
    private TimeSpan _handshakeTimeout = TimeSpan.FromSeconds(10);
    private TimeSpan _connectTimeout = TimeSpan.FromSeconds(5);
    private TimeSpan _linger = TimeSpan.FromSeconds(5);
    private long _maxMessageSize = -1;
    private long _maxBufferedBytes = 64 * 1024 * 1024;
    private int _maxFramesPerMessage = 1024;
    private int _maxConnections = 1024;
    private int _sendBufferSize;
    private int _receiveBufferSize;
    private byte[]? _identity;
    private ILogger _logger = NullLogger.Instance;
    private byte[]? _xpubWelcomeMessage;
    private int _maxSubscriptionBytes = 1024 * 1024;
    private TimeSpan _heartbeatInterval = TimeSpan.Zero;
    private TimeSpan _heartbeatTimeout = TimeSpan.Zero;
    private TimeSpan _heartbeatTtl = TimeSpan.Zero;
    private byte[]? _helloMessage;
    private byte[]? _disconnectMessage;
    private string? _plainUsername;
    private byte[]? _curvePublicKey;
    private byte[]? _curveSecretKey;
    private byte[]? _curveServerKey;
    private string? _plainPassword;

    /// <summary>
    /// Whole messages queued per peer on the sending side before the socket blocks (PUSH) or drops.
    /// 0 means no limit (a slow peer can then exhaust memory). Exact per pipe. Defaults to 1000.
    /// </summary>
    public int SendHighWatermark
    {
        get => _sendHighWatermark;
        set => _sendHighWatermark = NonNegative(value, nameof(SendHighWatermark));
    }

    /// <summary>
    /// Whole messages queued per peer on the receiving side before reading from that peer pauses.
    /// 0 means no limit. Defaults to 1000.
    /// </summary>
    public int ReceiveHighWatermark
    {
        get => _receiveHighWatermark;
        set => _receiveHighWatermark = NonNegative(value, nameof(ReceiveHighWatermark));
    }

    /// <summary>How long a blocking send waits for room; <see cref="Timeout.InfiniteTimeSpan"/> waits forever (the default).</summary>
    public TimeSpan SendTimeout
    {
        get => _sendTimeout;
        set => _sendTimeout = TimeoutValue(value, nameof(SendTimeout));
    }

    /// <summary>How long a blocking receive waits; <see cref="Timeout.InfiniteTimeSpan"/> waits forever (the default).</summary>
    public TimeSpan ReceiveTimeout
    {
        get => _receiveTimeout;
        set => _receiveTimeout = TimeoutValue(value, nameof(ReceiveTimeout));
    }

    /// <summary>First delay before reconnecting a lost or refused connection. Defaults to 100 ms.</summary>
    public TimeSpan ReconnectInterval
    {
        get => _reconnectInterval;
        set => _reconnectInterval = Positive(value, nameof(ReconnectInterval));
    }

    /// <summary>
    /// Upper bound of the doubling reconnect delay (with jitter). Set it equal to
    /// <see cref="ReconnectInterval"/> for a constant delay. Defaults to 1 s.
    /// </summary>
    public TimeSpan ReconnectIntervalMax
    {
        get => _reconnectIntervalMax;
        set => _reconnectIntervalMax = Positive(value, nameof(ReconnectIntervalMax));
    }

    /// <summary>
    /// A peer that has not completed the ZMTP handshake by then is disconnected (with an ERROR once
    /// both greetings are exchanged): bounds what a slow or silent client holds before it has proved
    /// it speaks ZMTP. Defaults to 10 s (libzmq: 30 s; NetMQ: none).
    /// </summary>
    public TimeSpan HandshakeTimeout
    {
        get => _handshakeTimeout;
        set => _handshakeTimeout = Positive(value, nameof(HandshakeTimeout));
    }

    /// <summary>How long one TCP connect attempt may take before it is retried. Defaults to 5 s.</summary>
    public TimeSpan ConnectTimeout
    {
        get => _connectTimeout;
        set => _connectTimeout = Positive(value, nameof(ConnectTimeout));
    }

    /// <summary>
    /// How long closing the socket waits for queued outbound messages to reach the wire.
    /// <see cref="TimeSpan.Zero"/> discards them; <see cref="Timeout.InfiniteTimeSpan"/> waits
    /// forever (libzmq's default, which can hang a close). Defaults to 5 s.
    /// </summary>
    public TimeSpan Linger
    {
        get => _linger;
        set => _linger = TimeoutValue(value, nameof(Linger));
    }

    /// <summary>
    /// Largest message accepted from a peer, in bytes: the bodies of all its frames added up (so a
    /// single frame is limited too, and an endless multipart message cannot grow past it; libzmq's
    /// ZMQ_MAXMSGSIZE limits each frame only). A larger one closes that connection with an ERROR
    /// and a reason, on the frame header that would cross the limit, before its body is read.
    /// -1 means no limit of its own (libzmq's default); <see cref="MaxBufferedBytes"/> still applies.
    /// Defaults to -1.
    /// </summary>
    public long MaxMessageSize
    {
        get => _maxMessageSize;
        set => _maxMessageSize = BytesOrUnlimited(value, nameof(MaxMessageSize));
    }

    /// <summary>
    /// Most bytes one connection may hold for a message that has not fully arrived (its frames so
    /// far and the frame being read), whatever the peer announces: the engine's safety net when
    /// <see cref="MaxMessageSize"/> is not set. Beyond it the connection is closed with an ERROR and
    /// a reason. A message must be held whole before delivery, so this also caps the message size:
    /// raise it (or set -1, no limit) to receive larger messages. Frames are allocated only as their
    /// bytes arrive, so a peer that announces 2 GB and stalls costs nothing. Defaults to 64 MiB
    /// (libzmq and NetMQ have no such bound and grow without limit on an endless multipart message).
    /// </summary>
    public long MaxBufferedBytes
    {
        get => _maxBufferedBytes;
        set => _maxBufferedBytes = BytesOrUnlimited(value, nameof(MaxBufferedBytes));
    }

    /// <summary>
    /// Most frames one message from a peer may have; one more closes that connection with an ERROR
    /// and a reason. Bounds what a never-ending multipart message costs even when its frames are
    /// empty (each staged frame costs a slot whatever its size, which <see cref="MaxMessageSize"/>
    /// cannot see). 0 means no limit (libzmq has none). Defaults to 1024: far above real envelopes
    /// (a ROUTER chain adds one frame per hop), and 1024 staged frames cost about 40 KiB of bookkeeping.
    /// </summary>
    public int MaxFramesPerMessage
    {
        get => _maxFramesPerMessage;
        set => _maxFramesPerMessage = LimitOrUnlimited(value, nameof(MaxFramesPerMessage));
    }

    /// <summary>
    /// PUB/XPUB: most bytes of subscription topics one subscriber may hold (the sum of its distinct
    /// topics). A subscription beyond it closes that subscriber's connection with a reason: the
    /// publisher's subscription tree costs memory per topic byte, so a hostile subscriber could
    /// otherwise grow it without bound. 0 means no limit (libzmq has none). Defaults to 1 MiB.
    /// </summary>
    public int MaxSubscriptionBytes
    {
        get => _maxSubscriptionBytes;
        set => _maxSubscriptionBytes = LimitOrUnlimited(value, nameof(MaxSubscriptionBytes));
    }

    /// <summary>
    /// Most connections one bound endpoint carries at once, counting those still in their
    /// handshake. A connection beyond it is accepted and closed at once (a reset), with a
    /// <see cref="MonitorEventKind.ConnectionRefused"/> event: the client learns at once and backs
    /// off, instead of waiting in the kernel's backlog, which would also keep good peers out once it
    /// is full. 0 means no limit (libzmq has none). Defaults to 1024: an idle connection holds about
    /// 128 KiB of buffers, so a connection flood costs at most about 128 MiB per endpoint.
    /// </summary>
    public int MaxConnections
    {
        get => _maxConnections;
        set => _maxConnections = LimitOrUnlimited(value, nameof(MaxConnections));
    }

    /// <summary>Kernel send buffer size (SO_SNDBUF) in bytes; 0 keeps the OS default (the default).</summary>
    public int SendBufferSize
    {
        get => _sendBufferSize;
        set => _sendBufferSize = NonNegative(value, nameof(SendBufferSize));
    }

    /// <summary>Kernel receive buffer size (SO_RCVBUF) in bytes; 0 keeps the OS default (the default).</summary>
    public int ReceiveBufferSize
    {
        get => _receiveBufferSize;
        set => _receiveBufferSize = NonNegative(value, nameof(ReceiveBufferSize));
    }

    /// <summary>
    /// The identity (routing id) announced to peers in READY: 1 to 255 bytes, not starting with a
    /// zero byte (those are reserved for generated ids). Null announces none (the default).
    /// </summary>
    public byte[]? Identity
    {
        get => _identity;
        set
        {
            if (value is not null && (value.Length is 0 or > 255 || value[0] == 0))
            {
                throw new ArgumentException("Identity must be 1 to 255 bytes and must not start with a zero byte.", nameof(Identity));
            }

            _identity = value?.ToArray();
        }
    }

    /// <summary>
    /// How often a ZMTP PING is sent on every connection (libzmq's ZMQ_HEARTBEAT_IVL). A peer that
    /// sends nothing (no message, no PONG) for <see cref="HeartbeatTimeout"/> after a PING is
    /// declared dead and disconnected, even when no FIN or RST ever arrives (a frozen process, a
    /// pulled cable): detection within interval + timeout. Zero turns heartbeats off (the default).
    /// </summary>
    public TimeSpan HeartbeatInterval
    {
        get => _heartbeatInterval;
        set => _heartbeatInterval = NonNegativeSpan(value, nameof(HeartbeatInterval), TimeSpan.FromMilliseconds(ushort.MaxValue * 100L));
    }

    /// <summary>How long to wait for any traffic after a PING before the peer is declared dead. Zero means "same as <see cref="HeartbeatInterval"/>" (the default).</summary>
    public TimeSpan HeartbeatTimeout
    {
        get => _heartbeatTimeout == TimeSpan.Zero ? _heartbeatInterval : _heartbeatTimeout;
        set => _heartbeatTimeout = NonNegativeSpan(value, nameof(HeartbeatTimeout), TimeSpan.FromHours(1));
    }

    /// <summary>
    /// Time-to-live announced in our PINGs: the peer closes the connection if it hears nothing from
    /// us for that long. Sent in deciseconds, so at most 6553.5 s; zero sends none (the default).
    /// </summary>
    public TimeSpan HeartbeatTtl
    {
        get => _heartbeatTtl;
        set => _heartbeatTtl = NonNegativeSpan(value, nameof(HeartbeatTtl), TimeSpan.FromMilliseconds(ushort.MaxValue * 100L));
    }

    /// <summary>
    /// PUSH and DEALER: when a peer is declared dead or disconnects, the messages still queued for it
    /// (not yet written to the wire) go to the remaining live peers, in order, ahead of newer ones,
    /// and a disconnected peer gets no new messages until it is back. False keeps libzmq's behaviour
    /// (they wait in the dead peer's pipe for it to return). Defaults to true.
    /// </summary>
    public bool RerouteOnDisconnect { get; set; } = true;

    /// <summary>
    /// Queue messages only to peers whose connection is complete (libzmq's ZMQ_IMMEDIATE): with no
    /// connected peer, sends wait instead of filling the pipe of a peer that may never come.
    /// Defaults to false (messages queue for a peer being connected, so connect-before-bind works).
    /// </summary>
    public bool Immediate { get; set; }

    /// <summary>A message sent to each peer on every (re)connect, before anything else, so protocols above can re-register. Null sends none (the default).</summary>
    public byte[]? HelloMessage
    {
        get => _helloMessage;
        set => _helloMessage = value?.ToArray();
    }

    /// <summary>A message the application receives (through the socket, like any message) when a peer's connection ends. Null delivers none (the default).</summary>
    public byte[]? DisconnectMessage
    {
        get => _disconnectMessage;
        set => _disconnectMessage = value?.ToArray();
    }

    /// <summary>REQ: allow a new request before the previous reply arrived (Lazy Pirate retries); the old reply is then discarded. Defaults to false.</summary>
    public bool RequestRelaxed { get; set; }

    /// <summary>REQ: prefix each request with an id and accept only the reply that carries it. Defaults to false.</summary>
    public bool RequestCorrelate { get; set; }

    /// <summary>
    /// ROUTER: fail instead of dropping silently. An unknown or departed routing id throws
    /// <see cref="PeerUnreachableException"/> at once; a full peer pipe makes the send wait (or time out). Defaults to false.
    /// </summary>
    public bool RouterMandatory { get; set; }

    /// <summary>ROUTER: a new connection that announces an identity already in use takes it over (the old one is closed). Defaults to false (the newcomer is refused).</summary>
    public bool RouterHandover { get; set; }

    /// <summary>XPUB: hand every subscription to the application, not only the first per topic. Defaults to false.</summary>
    public bool XPubVerbose { get; set; }

    /// <summary>XPUB: a message sent to each subscriber as soon as it connects (it still passes the subscriber's filter). Null sends none (the default).</summary>
    public byte[]? XPubWelcomeMessage
    {
        get => _xpubWelcomeMessage;
        set => _xpubWelcomeMessage = value?.ToArray();
    }

    /// <summary>
    /// The directory that <c>Connect("dir://name")</c> resolves and follows, and that
    /// <c>Bind(endpoint, registerAs)</c> registers with. Set it before connecting or binding; the
    /// socket does not own it (one client serves many sockets; dispose it after them). Null
    /// (the default) makes <c>dir://</c> endpoints an error.
    /// </summary>
    public Engine.Directory.DirectoryClient? Directory { get; set; }

    /// <summary>
    /// PLAIN (RFC 24): act as the PLAIN server and check every client's user name and password
    /// with <see cref="Authenticator"/>. Without an authenticator every client is refused (fail closed).
    /// PLAIN sends the password in clear text: use it only on a trusted network. Defaults to false.
    /// </summary>
    public bool PlainServer { get; set; }

    /// <summary>PLAIN client: the user name (0 to 255 UTF-8 bytes). Setting it (even to "") makes this socket a PLAIN client. Null (the default) leaves PLAIN off.</summary>
    public string? PlainUsername
    {
        get => _plainUsername;
        set => _plainUsername = ShortText(value, nameof(PlainUsername));
    }

    /// <summary>PLAIN client: the password (0 to 255 UTF-8 bytes). Null sends an empty password.</summary>
    public string? PlainPassword
    {
        get => _plainPassword;
        set => _plainPassword = ShortText(value, nameof(PlainPassword));
    }

    /// <summary>
    /// PLAIN/CURVE server: decides which clients may connect (user name and password, or CURVE public
    /// key). Null (the default): a PLAIN server refuses everyone; a CURVE server accepts any client
    /// that knows its public key.
    /// </summary>
    public Authenticator? Authenticator { get; set; }

    /// <summary>
    /// CURVE (RFC 26): act as the CURVE server, with <see cref="CurveSecretKey"/> (and its
    /// <see cref="CurvePublicKey"/>, which clients must know). <see cref="Authenticator"/>, when set,
    /// decides which client public keys may connect. Defaults to false.
    /// </summary>
    public bool CurveServer { get; set; }

    /// <summary>CURVE: this socket's long-term public key. 32 bytes, or its 40-character Z85 text as ASCII bytes (like libzmq).</summary>
    public byte[]? CurvePublicKey
    {
        get => _curvePublicKey;
        set => _curvePublicKey = CurveKey(value, nameof(CurvePublicKey));
    }

    /// <summary>CURVE: this socket's long-term secret key. 32 bytes, or 40 Z85 characters as ASCII bytes.</summary>
    public byte[]? CurveSecretKey
    {
        get => _curveSecretKey;
        set => _curveSecretKey = CurveKey(value, nameof(CurveSecretKey));
    }

    /// <summary>
    /// CURVE client: the server's public key. Setting it makes this socket a CURVE client (it then
    /// also needs <see cref="CurvePublicKey"/> and <see cref="CurveSecretKey"/>). 32 bytes, or 40 Z85 characters as ASCII bytes.
    /// </summary>
    public byte[]? CurveServerKey
    {
        get => _curveServerKey;
        set => _curveServerKey = CurveKey(value, nameof(CurveServerKey));
    }

    /// <summary>Where connection-level events and errors are logged. Defaults to a logger that discards.</summary>
    public ILogger Logger
    {
        get => _logger;
        set => _logger = value ?? throw new ArgumentNullException(nameof(Logger), "Logger must not be null; use NullLogger.Instance to discard.");
    }

    internal static int ToMilliseconds(TimeSpan value) =>
        value == Timeout.InfiniteTimeSpan ? Timeout.Infinite : (int)Math.Min(int.MaxValue, Math.Max(0, value.TotalMilliseconds));

    /// <summary>
    /// Checked at Bind/Connect: the security options must describe one role completely, so that a
    /// missing key fails at once with a clear message instead of at every handshake.
    /// </summary>
    internal void ValidateSecurity()
    {
        bool curveClient = CurveServerKey is not null;
        bool plainClient = PlainUsername is not null;
        int roles = (CurveServer ? 1 : 0) + (curveClient ? 1 : 0) + (PlainServer ? 1 : 0) + (plainClient ? 1 : 0);
        if (roles > 1)
        {
            throw new InvalidOperationException("Choose one security role: CurveServer, CurveServerKey (CURVE client), PlainServer or PlainUsername (PLAIN client).");
        }

        if ((CurveServer || curveClient) && CurveSecretKey is null)
        {
            throw new InvalidOperationException("CURVE needs CurveSecretKey (and CurvePublicKey, derived from it when missing); use CurveKeyPair.Generate().");
        }

        if ((CurveServer || curveClient) && CurvePublicKey is not null && !CurveKeyPair.FromSecretKey(CurveSecretKey!).PublicKey.AsSpan().SequenceEqual(CurvePublicKey))
        {
            throw new InvalidOperationException("CurvePublicKey is not the public key of CurveSecretKey.");
        }
    }

    private static byte[]? CurveKey(byte[]? value, string name) => value switch
    {
        null => null,
        { Length: 32 } => value.ToArray(),
        { Length: 40 } => CurveKeyPair.ParseKey(System.Text.Encoding.ASCII.GetString(value), name),
        _ => throw new ArgumentException($"{name} must be 32 bytes or 40 Z85 characters (got {value.Length} bytes).", name),
    };

    private static string? ShortText(string? value, string name) =>
        value is null || System.Text.Encoding.UTF8.GetByteCount(value) <= 255
            ? value
            : throw new ArgumentOutOfRangeException(name, $"{name} must be at most 255 bytes in UTF-8 (got {System.Text.Encoding.UTF8.GetByteCount(value)}).");

    private static int NonNegative(int value, string name) =>
        value >= 0 ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be 0 or more.");

    private static long BytesOrUnlimited(long value, string name) =>
        value == -1 || value > 0 ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be -1 (no limit) or a positive number of bytes.");

    private static int LimitOrUnlimited(int value, string name) =>
        value >= 0 ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be 0 (no limit) or a positive number.");

    private static TimeSpan NonNegativeSpan(TimeSpan value, string name, TimeSpan max) =>
        value >= TimeSpan.Zero && value <= max
            ? value
            : throw new ArgumentOutOfRangeException(name, value, $"{name} must be between zero (off) and {max.TotalSeconds:0.#} s.");

    private static TimeSpan Positive(TimeSpan value, string name) =>
        value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be greater than zero.");

    private static TimeSpan TimeoutValue(TimeSpan value, string name) =>
        value >= TimeSpan.Zero || value == Timeout.InfiniteTimeSpan
            ? value
            : throw new ArgumentOutOfRangeException(name, value, $"{name} must be zero or more, or Timeout.InfiniteTimeSpan.");
}
