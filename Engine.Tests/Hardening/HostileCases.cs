using static Engine.Tests.Hardening.Zmtp;

namespace Engine.Tests.Hardening;

/// <summary>What the engine must do with a hostile connection, beyond closing it.</summary>
internal enum Verdict
{
    /// <summary>Handshake failed before both greetings were exchanged (or the peer itself hung up): no ERROR may be sent.</summary>
    HandshakeFailedSilently,

    /// <summary>Handshake failed after the greeting exchange: an ERROR saying why must come before the close.</summary>
    HandshakeFailedWithError,

    /// <summary>Broke the protocol after the handshake: ERROR, then a ProtocolError monitor event.</summary>
    ViolationWithError,

    /// <summary>Ended the stream mid-message after the handshake: closed without ERROR (nobody is left to read it).</summary>
    ClosedMidMessage,

    /// <summary>Went silent after the handshake (mid-frame): heartbeats declare it dead.</summary>
    DeclaredDead,
}

/// <summary>One hostile input: what the raw peer does, and what must follow.</summary>
/// <param name="Name">Stable name: the test case is called by it.</param>
/// <param name="Script">What the peer does; it returns when done (the peer may then stall).</param>
/// <param name="Verdict">The kind of close expected.</param>
/// <param name="Reason">Text the monitor event's reason (and our ERROR, when there is one) must contain.</param>
/// <param name="MemoryBound">For the oversized cases: most bytes the process may allocate and keep while handling it.</param>
internal sealed record HostileCase(string Name, Action<HostilePeer> Script, Verdict Verdict, string Reason, long? MemoryBound = null)
{
    public override string ToString() => Name;
}

/// <summary>
/// The battery: every way we know to feed a listening socket bad bytes. The listener it runs
/// against is a PULL with <see cref="HostileInputTests.Options"/> (16 MiB messages, 500 ms
/// handshake timeout, heartbeats), so a hostile peer that gets past the handshake claims to be PUSH.
/// </summary>
internal static class HostileCases
{
    internal const long MiB = 1024 * 1024;

    private static readonly TimeSpan Slow = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan GiveUp = TimeSpan.FromSeconds(5);

    internal static readonly IReadOnlyList<HostileCase> All = Build();

    internal static readonly IReadOnlyDictionary<string, HostileCase> ByName = All.ToDictionary(c => c.Name);

    private static Action<HostilePeer> Sends(params byte[][] parts) => peer => peer.Send(Concat(parts));

    private static Action<HostilePeer> SendsThenEnds(params byte[][] parts) => peer =>
    {
        peer.Send(Concat(parts));
        peer.EndOfStream();
    };

    private static Action<HostilePeer> AfterHandshake(params byte[][] parts) => Sends([HandshakeAsPush(), .. parts]);

    private static Action<HostilePeer> EndlessMultipart(byte[] frame) => peer =>
    {
        peer.Send(HandshakeAsPush());
        byte[] batch = Concat(Enumerable.Repeat(frame, Math.Max(1, 64 * 1024 / frame.Length)).ToArray());
        peer.SendUntilClosed(_ => batch, maxBytes: 256 * MiB, maxTime: GiveUp);
    };

    /// <summary>
    /// 900 staged 64-byte frames, each followed by a 60 KiB unknown command (ignored, as RFC 37
    /// allows), then silence: the message counts 56 KiB, and holding it must cost about that, not
    /// one 64 KiB receive segment per frame.
    /// </summary>
    private static void StagedFramesBetweenLargeCommands(HostilePeer peer)
    {
        peer.Send(HandshakeAsPush());
        byte[] chunk = Concat(Frame(0x01, new byte[64]), Command("X-PAD", new byte[60 * 1024]));
        peer.SendUntilClosed(_ => chunk, maxBytes: 900L * chunk.Length, maxTime: GiveUp);
    }

    private static HostileCase Case(string name, Action<HostilePeer> script, Verdict verdict, string reason, long? memoryBound = null) =>
        new(name, script, verdict, reason, memoryBound);

    private static List<HostileCase> Build()
    {
        const string notZmtp = "greeting signature is not ZMTP";
        const string oldVersion = "ZMTP version below 3.0";
        const string timedOut = "handshake not completed within 500 ms";
        const string badMetadata = "READY metadata is malformed";
        byte[] greeting = Greeting();
        byte[] tlsHello = Concat([0x16, 0x03, 0x01, 0x00, 0xA5, 0x01, 0x00, 0x00, 0xA1, 0x03, 0x03], Random(7, 160));

        return
        [
            // ---- before the greeting exchange: close at the first wrong byte, no ERROR (the peer may not speak ZMTP)
            Case("http-get", Sends(Ascii("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")), Verdict.HandshakeFailedSilently, notZmtp),
            Case("http-post-with-body", Sends(Ascii("POST /api HTTP/1.1\r\nContent-Length: 5000\r\n\r\n"), new byte[5000]), Verdict.HandshakeFailedSilently, notZmtp),
            Case("tls-client-hello", Sends(tlsHello), Verdict.HandshakeFailedSilently, notZmtp),
            Case("random-bytes", Sends(Random(1, 4096, first: b => b == 0xFF ? (byte)0 : b)), Verdict.HandshakeFailedSilently, notZmtp),
            Case("zero-bytes", Sends(new byte[1024]), Verdict.HandshakeFailedSilently, notZmtp),
            Case("zmtp-1.0-greeting", Sends([0x01, 0x00], Message("hello")), Verdict.HandshakeFailedSilently, notZmtp),
            Case("signature-without-7f", Sends(Greeting(signatureEnd: 0x7E)), Verdict.HandshakeFailedSilently, notZmtp),
            Case("version-0.0", Sends(Greeting(major: 0, minor: 0)), Verdict.HandshakeFailedSilently, oldVersion),
            Case("version-1.0", Sends(Greeting(major: 1, minor: 0)), Verdict.HandshakeFailedSilently, oldVersion),
            Case("version-2.0", Sends(Greeting(major: 2, minor: 0)), Verdict.HandshakeFailedSilently, oldVersion),
            Case("zmtp-2.0-greeting", Sends(greeting[..10], [0x01, 0x08, 0x00, 0x00]), Verdict.HandshakeFailedSilently, "(ZMTP 2.0, libzmq 3.x)"),
            Case("version-garbage", Sends(Greeting(major: 0x02, minor: 0xEE, mechanism: "\u0001\u00FF")), Verdict.HandshakeFailedSilently, oldVersion),
            Case("connect-and-say-nothing", _ => { }, Verdict.HandshakeFailedSilently, timedOut),
            Case("slowloris-greeting", peer => peer.SendSlowly(greeting, 1, Slow, GiveUp), Verdict.HandshakeFailedSilently, timedOut),
            Case("greeting-stops-after-10-bytes", Sends(greeting[..10]), Verdict.HandshakeFailedSilently, timedOut),
            Case("greeting-truncated-then-eof", SendsThenEnds(greeting[..30]), Verdict.HandshakeFailedSilently, "before its greeting was complete"),
            Case("eof-at-once", SendsThenEnds(), Verdict.HandshakeFailedSilently, "before its greeting was complete"),

            // ---- after the greeting exchange, before READY: ERROR with the reason, then close
            Case("mechanism-unknown", Sends(Greeting(mechanism: "FOO")), Verdict.HandshakeFailedWithError, "unknown security mechanism: peer wants FOO"),
            Case("mechanism-plain", Sends(Greeting(mechanism: "PLAIN")), Verdict.HandshakeFailedWithError, "mechanism differs from ours: peer wants PLAIN"),
            Case("mechanism-curve-as-server", Sends(Greeting(mechanism: "CURVE", asServer: true)), Verdict.HandshakeFailedWithError, "mechanism differs from ours: peer wants CURVE"),
            Case("mechanism-lowercase-null", Sends(Greeting(mechanism: "null")), Verdict.HandshakeFailedWithError, "unknown security mechanism: mechanism field 'null"),
            Case("mechanism-binary-garbage", Sends(Greeting(mechanism: "N\u0001\u00FFL")), Verdict.HandshakeFailedWithError, "unknown security mechanism"),
            Case("mechanism-trailing-garbage", Sends(Greeting(mechanism: "NULL\0X")), Verdict.HandshakeFailedWithError, "unknown security mechanism"),
            Case("mechanism-empty", Sends(Greeting(mechanism: "")), Verdict.HandshakeFailedWithError, "unknown security mechanism"),
            Case("greeting-then-silence", Sends(greeting), Verdict.HandshakeFailedWithError, timedOut),
            Case("slowloris-ready", peer =>
            {
                peer.Send(greeting);
                peer.SendSlowly(ReadyAs("PUSH"), 1, Slow, GiveUp);
            }, Verdict.HandshakeFailedWithError, timedOut),
            Case("message-before-ready", Sends(greeting, Message("early")), Verdict.HandshakeFailedWithError, "message frame before the handshake completed"),
            Case("ready-property-length-ffffffff", Sends(greeting, Ready(Property("Socket-Type", Ascii("PUSH"), announcedLength: 0xFFFFFFFF))), Verdict.HandshakeFailedWithError, "announces 4294967295 bytes"),
            Case("ready-property-length-80000000", Sends(greeting, Ready(Property("Socket-Type", Ascii("PUSH"), announcedLength: 0x80000000))), Verdict.HandshakeFailedWithError, "announces 2147483648 bytes"),
            Case("ready-property-length-one-too-many", Sends(greeting, Ready(Property("Socket-Type", Ascii("PUSH"), announcedLength: 5))), Verdict.HandshakeFailedWithError, badMetadata),
            Case("ready-empty-property-name", Sends(greeting, Ready(Property("", Ascii("x")), Property("Socket-Type", Ascii("PUSH")))), Verdict.HandshakeFailedWithError, "property with an empty name"),
            Case("ready-name-with-space", Sends(greeting, Ready(Property("Socket Type", Ascii("PUSH")))), Verdict.HandshakeFailedWithError, "property name 'Socket Type' has characters"),
            Case("ready-name-with-control-bytes", Sends(greeting, Ready(Property("Socket-Type\n\0", Ascii("PUSH")))), Verdict.HandshakeFailedWithError, "property name 'Socket-Type??'"),
            Case("ready-name-runs-past-end", Sends(greeting, Command("READY", [200, (byte)'S', (byte)'o'])), Verdict.HandshakeFailedWithError, "runs past the command"),
            Case("ready-without-socket-type", Sends(greeting, Ready(Property("Identity", Ascii("me")))), Verdict.HandshakeFailedWithError, "READY has no Socket-Type property"),
            Case("ready-without-properties", Sends(greeting, Ready()), Verdict.HandshakeFailedWithError, "READY has no Socket-Type property"),
            Case("socket-type-pub", Sends(greeting, ReadyAs("PUB")), Verdict.HandshakeFailedWithError, "PULL cannot talk to PUB"),
            Case("socket-type-pull", Sends(greeting, ReadyAs("PULL")), Verdict.HandshakeFailedWithError, "PULL cannot talk to PULL"),
            Case("socket-type-unknown", Sends(greeting, ReadyAs("BANANA")), Verdict.HandshakeFailedWithError, "unknown socket type 'BANANA'"),
            Case("socket-type-control-bytes", Sends(greeting, ReadyAs("PU\0SH\n")), Verdict.HandshakeFailedWithError, "unknown socket type 'PU?SH?'"),
            Case("identity-starting-with-zero", Sends(greeting, Ready(Property("Socket-Type", Ascii("PUSH")), Property("Identity", [0, 1, 2, 3, 4]))), Verdict.HandshakeFailedWithError, "Identity of 5 bytes"),
            Case("handshake-command-announces-2gib", Sends(greeting, Header(0x04, 2L * 1024 * MiB)), Verdict.HandshakeFailedWithError, "handshake command of 2147483648 bytes", memoryBound: 16 * MiB),
            Case("handshake-command-empty", Sends(greeting, [0x04, 0x00]), Verdict.HandshakeFailedWithError, "handshake command of 0 bytes"),
            Case("handshake-command-name-past-end", Sends(greeting, [0x04, 0x03, 0x09, (byte)'R', (byte)'E']), Verdict.HandshakeFailedWithError, "command frame is malformed"),
            Case("ping-before-ready", Sends(greeting, Ping()), Verdict.HandshakeFailedWithError, "expected READY, got PING"),
            Case("reserved-flags-before-ready", Sends(greeting, [0x84, 0x01, 0x00]), Verdict.HandshakeFailedWithError, "reserved flag bits set: flags 0x84"),
            Case("more-on-command-before-ready", Sends(greeting, [0x05], ReadyAs("PUSH")[1..]), Verdict.HandshakeFailedWithError, "command frame has the MORE flag set"),
            Case("negative-length-before-ready", Sends(greeting, Header(0x04, -1)), Verdict.HandshakeFailedWithError, "frame is larger than the maximum message size"),
            Case("ready-truncated-then-eof", SendsThenEnds(greeting, ReadyAs("PUSH")[..10]), Verdict.HandshakeFailedSilently, "before its READY was complete"),
            Case("error-instead-of-ready", Sends(greeting, Error("go away")), Verdict.HandshakeFailedSilently, "peer sent an ERROR command: go away"),

            // ---- after the handshake: ERROR with the reason, then close; complete messages before it still count
            Case("ready-twice", AfterHandshake(ReadyAs("PUSH")), Verdict.ViolationWithError, "READY after the handshake"),
            Case("empty-command-after-ready", AfterHandshake([0x04, 0x00]), Verdict.ViolationWithError, "command of 0 bytes"),
            Case("command-name-past-end-after-ready", AfterHandshake([0x04, 0x02, 0x40, (byte)'P']), Verdict.ViolationWithError, "command frame is malformed"),
            Case("reserved-flags-on-message", AfterHandshake([0x08, 0x01, (byte)'x']), Verdict.ViolationWithError, "reserved flag bits set: flags 0x08"),
            Case("reserved-flags-on-long-frame", AfterHandshake([0xF2, 0, 0, 0, 0, 0, 0, 0, 1, (byte)'x']), Verdict.ViolationWithError, "reserved flag bits set: flags 0xF2"),
            Case("more-on-command-after-ready", AfterHandshake([0x05], Ping()[1..]), Verdict.ViolationWithError, "command frame has the MORE flag set"),
            Case("ping-without-ttl", AfterHandshake(Command("PING", [])), Verdict.ViolationWithError, "PING without TTL"),
            Case("command-announces-1mib", AfterHandshake(Header(0x04, MiB)), Verdict.ViolationWithError, "command of 1048576 bytes", memoryBound: 16 * MiB),
            Case("frame-announces-2gib-then-stalls", AfterHandshake(Header(0x00, 2L * 1024 * MiB)), Verdict.ViolationWithError, "frame of 2147483648 bytes, limit 16777216", memoryBound: 16 * MiB),
            Case("frame-announces-2^63-1", AfterHandshake(Header(0x00, long.MaxValue)), Verdict.ViolationWithError, "message is larger than the maximum message size", memoryBound: 16 * MiB),
            Case("frame-negative-length", AfterHandshake(Header(0x00, -2)), Verdict.ViolationWithError, "frame is larger than the maximum message size"),
            Case("frame-just-over-max-message-size", AfterHandshake(Header(0x00, 16 * MiB + 1), new byte[64 * 1024]), Verdict.ViolationWithError, "frame of 16777217 bytes, limit 16777216", memoryBound: 16 * MiB),
            Case("endless-multipart-empty-frames", EndlessMultipart([0x01, 0x00]), Verdict.ViolationWithError, "more frames than allowed: limit 1024"),
            Case("endless-multipart-small-frames", EndlessMultipart(Frame(0x01, new byte[100])), Verdict.ViolationWithError, "more frames than allowed: limit 1024", memoryBound: 16 * MiB),
            Case("endless-multipart-256kib-frames", EndlessMultipart(Frame(0x01, new byte[256 * 1024])), Verdict.ViolationWithError, "bytes in 65 frames so far, limit 16777216", memoryBound: 48 * MiB),
            Case("multipart-over-max-message-size", AfterHandshake(Frame(0x01, new byte[300_000]), Header(0x00, 16 * MiB - 299_999)), Verdict.ViolationWithError, "16777217 bytes in 2 frames so far", memoryBound: 16 * MiB),
            Case("random-bytes-after-handshake", AfterHandshake(Random(3, 4096, first: b => (byte)(b | 0x80))), Verdict.ViolationWithError, "reserved flag bits set"),
            Case("http-after-handshake", AfterHandshake(Ascii("GET / HTTP/1.1\r\n\r\n")), Verdict.ViolationWithError, "reserved flag bits set: flags 0x47"),
            Case("greeting-again-after-handshake", AfterHandshake(greeting), Verdict.ViolationWithError, "reserved flag bits set: flags 0xFF"),

            // ---- after the handshake, the peer ends mid-message: closed, nothing half-delivered
            Case("truncated-frame-then-eof", SendsThenEnds(HandshakeAsPush(), Header(0x00, 100), new byte[10]), Verdict.ClosedMidMessage, "truncated frame at end of stream"),
            Case("truncated-long-header-then-eof", SendsThenEnds(HandshakeAsPush(), [0x02, 0x00, 0x00]), Verdict.ClosedMidMessage, "truncated frame at end of stream"),
            Case("multipart-cut-off-by-eof", SendsThenEnds(HandshakeAsPush(), Message("first", more: true), Message("second", more: true)), Verdict.ClosedMidMessage, "truncated frame at end of stream"),
            Case("large-frame-cut-off-by-eof", SendsThenEnds(HandshakeAsPush(), Header(0x00, 4 * MiB), new byte[2 * MiB]), Verdict.ClosedMidMessage, "truncated frame at end of stream", memoryBound: 16 * MiB),

            // ---- after the handshake, the peer stalls mid-frame: memory stays what really arrived; heartbeats end it
            Case("frame-announces-max-then-stalls", AfterHandshake(Header(0x00, 16 * MiB)), Verdict.DeclaredDead, "no traffic", memoryBound: 8 * MiB),
            Case("4mib-of-a-16mib-frame-then-stalls", AfterHandshake(Header(0x00, 16 * MiB), new byte[4 * MiB]), Verdict.DeclaredDead, "no traffic", memoryBound: 16 * MiB),
            Case("stalls-mid-header", AfterHandshake([0x02, 0x00, 0x00, 0x00]), Verdict.DeclaredDead, "no traffic"),
            Case("staged-frames-between-large-commands-then-stalls", StagedFramesBetweenLargeCommands, Verdict.DeclaredDead, "no traffic", memoryBound: 16 * MiB),
        ];
    }
}
