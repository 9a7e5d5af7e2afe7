using System.Buffers;
using Engine.Tests.Infrastructure;
using Engine.Wire;

namespace Engine.Tests.Wire;

[TestFixture]
public class CommandsTests
{
    private static Metadata DealerMetadata()
    {
        var metadata = new Metadata();
        metadata.Add(Metadata.SocketTypeName, "DEALER"u8);
        metadata.Add(Metadata.IdentityName, ReadOnlySpan<byte>.Empty);
        return metadata;
    }

    /// <summary>Splits a whole command frame into its body, checking the header on the way.</summary>
    private static byte[] BodyOf(byte[] frame)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(frame));
        Assert.That(FrameCodec.TryReadHeader(ref reader, out FrameFlags flags, out long size, out _), Is.EqualTo(OperationStatus.Done));
        Assert.That(flags & (FrameFlags.Command | FrameFlags.More), Is.EqualTo(FrameFlags.Command), "a command frame without MORE");
        Assert.That(reader.Remaining, Is.EqualTo(size), "the header's size covers exactly the rest of the frame");
        return reader.UnreadSequence.ToArray();
    }

    [Test]
    public void ReadyForADealerIsTheRfcWorkedExampleByteForByte()
    {
        byte[] body = Bytes.Of(
            0x05, "READY",
            0x0B, "Socket-Type", 0x00, 0x00, 0x00, 0x06, "DEALER",
            0x08, "Identity", 0x00, 0x00, 0x00, 0x00);
        byte[] expected = Bytes.Of(0x04, body.Length, body);

        byte[] frame = Commands.BuildReady(DealerMetadata());

        Assert.That(body, Has.Length.EqualTo(0x29));
        Assert.That(Bytes.Hex(frame), Is.EqualTo(Bytes.Hex(expected)));
    }

    [Test]
    public void ReadyParsesBackIntoTheSameProperties()
    {
        byte[] body = BodyOf(Commands.BuildReady(DealerMetadata()));

        Assert.That(Commands.TryParse(body, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> data), Is.True);
        Assert.That(name.SequenceEqual(Commands.Ready), Is.True);
        Assert.That(Metadata.TryParse(data, out Metadata metadata), Is.EqualTo(ProtocolError.None));
        Assert.That(metadata.SocketType, Is.EqualTo("DEALER"));
        Assert.That(metadata.Identity, Is.Empty);
    }

    [Test]
    public void AReadyLargerThan255BytesUsesALongHeader()
    {
        var metadata = new Metadata();
        metadata.Add(Metadata.SocketTypeName, "ROUTER"u8);
        metadata.Add(Metadata.IdentityName, Enumerable.Repeat((byte)'x', 255).ToArray());

        byte[] frame = Commands.BuildReady(metadata);

        Assert.That(frame[0], Is.EqualTo(0x06), "COMMAND | LONG");
        Assert.That(Commands.TryParse(BodyOf(frame), out _, out ReadOnlySpan<byte> data), Is.True);
        Assert.That(Metadata.TryParse(data, out Metadata parsed), Is.EqualTo(ProtocolError.None));
        Assert.That(parsed.Identity, Has.Length.EqualTo(255));
    }

    [Test]
    public void ErrorCarriesItsReasonAfterALengthByte()
    {
        byte[] frame = Commands.BuildError("bad");

        Assert.That(Bytes.Hex(frame), Is.EqualTo(Bytes.Hex(Bytes.Of(0x04, 10, 0x05, "ERROR", 0x03, "bad"))));
    }

    [Test]
    public void AnErrorReasonIsCutTo255BytesAndReadsBack()
    {
        string reason = new('r', 300);

        byte[] body = BodyOf(Commands.BuildError(reason));

        Assert.That(Commands.TryParse(body, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> data), Is.True);
        Assert.That(name.SequenceEqual(Commands.Error), Is.True);
        Assert.That(data[0], Is.EqualTo(255));
        Assert.That(Commands.ParseErrorReason(data), Is.EqualTo(new string('r', 255)));
    }

    [Test]
    public void AnEmptyErrorReasonRoundTrips()
    {
        byte[] body = BodyOf(Commands.BuildError(string.Empty));

        Assert.That(Commands.TryParse(body, out _, out ReadOnlySpan<byte> data), Is.True);
        Assert.That(data.ToArray(), Is.EqualTo(new byte[] { 0 }));
        Assert.That(Commands.ParseErrorReason(data), Is.Empty);
    }

    [Test]
    public void AnErrorReasonWhoseLengthRunsPastTheBodyIsReadUpToTheBodyEnd()
    {
        Assert.That(Commands.ParseErrorReason(Bytes.Of(200, "short")), Is.EqualTo("short"));
        Assert.That(Commands.ParseErrorReason(ReadOnlySpan<byte>.Empty), Is.Empty);
    }

    [Test]
    public void PingCarriesItsTtlBigEndianThenItsContext()
    {
        var buffer = new byte[64];

        int length = Commands.WritePing(buffer, ttlDeciseconds: 0x0102, "ctx"u8);

        Assert.That(Bytes.Hex(buffer.AsSpan(0, length)), Is.EqualTo(Bytes.Hex(Bytes.Of(0x04, 10, 0x04, "PING", 0x01, 0x02, "ctx"))));
    }

    [Test]
    public void PingWithoutContextIsSevenBodyBytes()
    {
        var buffer = new byte[64];

        int length = Commands.WritePing(buffer, 0, ReadOnlySpan<byte>.Empty);

        Assert.That(Bytes.Hex(buffer.AsSpan(0, length)), Is.EqualTo(Bytes.Hex(Bytes.Of(0x04, 7, 0x04, "PING", 0x00, 0x00))));
    }

    [Test]
    public void PongEchoesTheContext()
    {
        var buffer = new byte[64];

        int length = Commands.WritePong(buffer, "ctx"u8);

        Assert.That(Bytes.Hex(buffer.AsSpan(0, length)), Is.EqualTo(Bytes.Hex(Bytes.Of(0x04, 8, 0x04, "PONG", "ctx"))));
    }

    [Test]
    public void PingAndPongContextsAreCutToSixteenBytes()
    {
        byte[] context = Enumerable.Range(1, 40).Select(i => (byte)i).ToArray();
        var buffer = new byte[128];

        int pingLength = Commands.WritePing(buffer, 10, context);
        byte[] ping = BodyOf(buffer[..pingLength]);
        int pongLength = Commands.WritePong(buffer, context);
        byte[] pong = BodyOf(buffer[..pongLength]);

        Assert.That(ping, Has.Length.EqualTo(1 + 4 + 2 + Commands.MaxPingContext));
        Assert.That(ping[^16..], Is.EqualTo(context[..16]));
        Assert.That(pong, Has.Length.EqualTo(1 + 4 + Commands.MaxPingContext));
        Assert.That(pong[^16..], Is.EqualTo(context[..16]));
        Assert.That(pingLength, Is.LessThanOrEqualTo(2 + 1 + 4 + 2 + 16));
    }

    [Test]
    public void ACommandNameWithoutDataParses()
    {
        Assert.That(Commands.TryParse(Bytes.Of(4, "PONG"), out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> data), Is.True);
        Assert.That(name.SequenceEqual(Commands.Pong), Is.True);
        Assert.That(data.IsEmpty, Is.True);
    }

    [TestCase("", TestName = "An empty command body is malformed")]
    [TestCase("00", TestName = "A zero-length command name is malformed")]
    [TestCase("0552454144", TestName = "A command name running past the body is malformed")]
    [TestCase("FF41", TestName = "A 255-byte command name in a 2-byte body is malformed")]
    public void MalformedCommandBodiesDoNotParse(string hex)
    {
        Assert.That(Commands.TryParse(Convert.FromHexString(hex), out _, out _), Is.False);
    }
}
