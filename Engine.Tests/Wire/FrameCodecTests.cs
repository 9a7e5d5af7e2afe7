using System.Buffers;
using Engine.Tests.Infrastructure;
using Engine.Wire;

namespace Engine.Tests.Wire;

[TestFixture]
public class FrameCodecTests
{
    private static byte[] Header(bool more, bool command, long bodySize)
    {
        var buffer = new byte[FrameCodec.MaxHeaderSize];
        int length = FrameCodec.WriteHeader(buffer, more, command, bodySize);
        return buffer.AsSpan(0, length).ToArray();
    }

    private static byte[] Frame(bool more, bool command, int bodySize)
    {
        byte[] header = Header(more, command, bodySize);
        byte[] frame = new byte[header.Length + bodySize];
        header.CopyTo(frame, 0);
        for (int i = 0; i < bodySize; i++)
        {
            frame[header.Length + i] = (byte)(i * 7 + 1);
        }

        return frame;
    }

    private static OperationStatus Read(ReadOnlySequence<byte> sequence, out FrameFlags flags, out long bodySize, out ProtocolError error, out long consumed)
    {
        var reader = new SequenceReader<byte>(sequence);
        OperationStatus status = FrameCodec.TryReadHeader(ref reader, out flags, out bodySize, out error);
        consumed = reader.Consumed;
        return status;
    }

    // ------------------------------------------------------------------ golden bytes

    [TestCase(false, false, 0, "0000")]
    [TestCase(true, false, 5, "0105")]
    [TestCase(false, true, 255, "04FF")]
    [TestCase(false, false, 255, "00FF")]
    [TestCase(false, false, 256, "020000000000000100")]
    [TestCase(true, false, 256, "030000000000000100")]
    [TestCase(false, true, 256, "060000000000000100")]
    [TestCase(false, false, 0x0102030405060708L, "020102030405060708")]
    public void HeadersAreWrittenInTheRfcLayout(bool more, bool command, long bodySize, string expectedHex)
    {
        Assert.That(Bytes.Hex(Header(more, command, bodySize)), Is.EqualTo(expectedHex));
    }

    [TestCase(0, 2)]
    [TestCase(255, 2)]
    [TestCase(256, 9)]
    [TestCase(long.MaxValue, 9)]
    public void BodiesUpTo255BytesUseTheShortHeader(long bodySize, int headerSize)
    {
        Assert.That(FrameCodec.HeaderSize(bodySize), Is.EqualTo(headerSize));
        Assert.That(Header(false, false, bodySize), Has.Length.EqualTo(headerSize));
    }

    // ------------------------------------------------------------------ round trips

    private static IEnumerable<TestCaseData> FrameShapes()
    {
        foreach (int size in new[] { 0, 1, 254, 255, 256, 257, 4096, 70_000 })
        {
            yield return new TestCaseData(false, false, size).SetName($"A {size}-byte message frame round-trips");
            yield return new TestCaseData(true, false, size).SetName($"A {size}-byte message frame with MORE round-trips");
            yield return new TestCaseData(false, true, size).SetName($"A {size}-byte command frame round-trips");
        }
    }

    [TestCaseSource(nameof(FrameShapes))]
    public void EveryFrameShapeRoundTripsInOneSegmentAndInManySegments(bool more, bool command, int bodySize)
    {
        byte[] frame = Frame(more, command, bodySize);
        FrameFlags expectedFlags = (more ? FrameFlags.More : 0) | (command ? FrameFlags.Command : 0) | (bodySize > 255 ? FrameFlags.Long : 0);

        foreach (int segments in new[] { 1, 2, 3, 9, Math.Min(frame.Length, 64) })
        {
            var reader = new SequenceReader<byte>(Segments.Split(frame, segments));
            OperationStatus status = FrameCodec.TryReadHeader(ref reader, out FrameFlags flags, out long size, out ProtocolError error);

            Assert.That(status, Is.EqualTo(OperationStatus.Done), $"{segments} segments");
            Assert.That(error, Is.EqualTo(ProtocolError.None));
            Assert.That(flags, Is.EqualTo(expectedFlags));
            Assert.That(size, Is.EqualTo(bodySize));
            Assert.That(reader.Consumed, Is.EqualTo(FrameCodec.HeaderSize(bodySize)));
            Assert.That(reader.Remaining, Is.EqualTo(bodySize), "exactly the body is left after the header");
            byte[] body = reader.UnreadSequence.ToArray();
            Assert.That(body, Is.EqualTo(frame.AsSpan(frame.Length - bodySize).ToArray()));
        }
    }

    [Test]
    public void ParseHeaderReadsWhatWriteHeaderWrote()
    {
        foreach (long size in new long[] { 0, 1, 255, 256, 65_536, (1L << 32) + 5, long.MaxValue })
        {
            byte[] header = Header(more: true, command: false, size);

            int length = FrameCodec.ParseHeader(header, out FrameFlags flags, out long parsed, out ProtocolError error);

            Assert.That(length, Is.EqualTo(header.Length), $"size {size}");
            Assert.That(parsed, Is.EqualTo(size));
            Assert.That(error, Is.EqualTo(ProtocolError.None));
            Assert.That(flags.HasFlag(FrameFlags.More), Is.True);
        }
    }

    [Test]
    public void ALongHeaderMayCarryASmallSize()
    {
        byte[] header = Bytes.Of(0x02, 0, 0, 0, 0, 0, 0, 0, 5);

        OperationStatus status = Read(new ReadOnlySequence<byte>(header), out _, out long size, out _, out long consumed);

        Assert.That(status, Is.EqualTo(OperationStatus.Done));
        Assert.That(size, Is.EqualTo(5));
        Assert.That(consumed, Is.EqualTo(9));
    }

    [Test]
    public void BackToBackFramesAreReadOneAfterAnother()
    {
        byte[] stream = [.. Frame(true, false, 3), .. Frame(false, false, 300), .. Frame(false, true, 0)];
        var reader = new SequenceReader<byte>(Segments.Split(stream, 7));
        var seen = new List<(FrameFlags, long)>();

        for (int i = 0; i < 3; i++)
        {
            Assert.That(FrameCodec.TryReadHeader(ref reader, out FrameFlags flags, out long size, out _), Is.EqualTo(OperationStatus.Done));
            seen.Add((flags, size));
            reader.Advance(size);
        }

        Assert.That(seen, Is.EqualTo(new[] { (FrameFlags.More, 3L), (FrameFlags.Long, 300L), (FrameFlags.Command, 0L) }));
        Assert.That(reader.End, Is.True);
        Assert.That(FrameCodec.TryReadHeader(ref reader, out _, out _, out _), Is.EqualTo(OperationStatus.NeedMoreData));
    }

    // ------------------------------------------------------------------ byte-at-a-time arrival

    [TestCase(false, false, 0)]
    [TestCase(true, false, 200)]
    [TestCase(false, true, 255)]
    [TestCase(true, false, 256)]
    [TestCase(false, true, 1_000_000)]
    public void AHeaderArrivingOneByteAtATimeNeedsMoreDataUntilItIsWholeAndConsumesNothingMeanwhile(bool more, bool command, long bodySize)
    {
        byte[] header = Header(more, command, bodySize);

        for (int arrived = 0; arrived < header.Length; arrived++)
        {
            ReadOnlySequence<byte> sequence = Segments.OneBytePerSegment(header[..arrived]);
            OperationStatus status = Read(sequence, out _, out _, out ProtocolError error, out long consumed);

            Assert.That(status, Is.EqualTo(OperationStatus.NeedMoreData), $"after {arrived} of {header.Length} bytes");
            Assert.That(error, Is.EqualTo(ProtocolError.None));
            Assert.That(consumed, Is.Zero, "a partial header must not be consumed");
        }

        OperationStatus done = Read(Segments.OneBytePerSegment(header), out FrameFlags flags, out long size, out _, out long used);
        Assert.That(done, Is.EqualTo(OperationStatus.Done));
        Assert.That(size, Is.EqualTo(bodySize));
        Assert.That(flags.HasFlag(FrameFlags.More), Is.EqualTo(more));
        Assert.That(flags.HasFlag(FrameFlags.Command), Is.EqualTo(command));
        Assert.That(used, Is.EqualTo(header.Length));
    }

    [Test]
    public void ALongHeaderSplitAtEveryPossiblePointParsesTheSame()
    {
        byte[] frame = [.. Header(true, false, 0x1234), 0xEE, 0xEE];

        for (int cut = 1; cut < frame.Length; cut++)
        {
            ReadOnlySequence<byte> sequence = Segments.FromLengths(frame, cut, frame.Length - cut);
            OperationStatus status = Read(sequence, out FrameFlags flags, out long size, out _, out long consumed);

            Assert.That(status, Is.EqualTo(OperationStatus.Done), $"cut at {cut}");
            Assert.That(flags, Is.EqualTo(FrameFlags.More | FrameFlags.Long));
            Assert.That(size, Is.EqualTo(0x1234));
            Assert.That(consumed, Is.EqualTo(9));
        }
    }

    // ------------------------------------------------------------------ malformed headers

    [TestCase(0x08)]
    [TestCase(0x10)]
    [TestCase(0x20)]
    [TestCase(0x40)]
    [TestCase(0x80)]
    [TestCase(0xF8)]
    [TestCase(0x0A)]
    public void AnyReservedFlagBitIsRefusedFromTheFirstByte(int flagsByte)
    {
        byte[] header = Bytes.Of(flagsByte, 0, 0, 0, 0, 0, 0, 0, 1);

        for (int arrived = 1; arrived <= header.Length; arrived++)
        {
            foreach (ReadOnlySequence<byte> sequence in new[] { new ReadOnlySequence<byte>(header, 0, arrived), Segments.OneBytePerSegment(header[..arrived]) })
            {
                OperationStatus status = Read(sequence, out _, out _, out ProtocolError error, out long consumed);

                Assert.That(status, Is.EqualTo(OperationStatus.InvalidData), $"after {arrived} bytes");
                Assert.That(error, Is.EqualTo(ProtocolError.ReservedFlagsSet));
                Assert.That(consumed, Is.Zero);
            }
        }

        Assert.That(FrameCodec.ParseHeader(header, out _, out _, out ProtocolError direct), Is.EqualTo(-1));
        Assert.That(direct, Is.EqualTo(ProtocolError.ReservedFlagsSet));
    }

    [TestCase(0x05, 2)]
    [TestCase(0x07, 9)]
    public void MoreOnACommandIsRefused(int flagsByte, int headerLength)
    {
        byte[] header = Bytes.Of(flagsByte, 0, 0, 0, 0, 0, 0, 0, 1)[..headerLength];

        foreach (ReadOnlySequence<byte> sequence in new[] { new ReadOnlySequence<byte>(header), Segments.OneBytePerSegment(header), new ReadOnlySequence<byte>([.. header, .. new byte[16]]) })
        {
            OperationStatus status = Read(sequence, out _, out _, out ProtocolError error, out long consumed);

            Assert.That(status, Is.EqualTo(OperationStatus.InvalidData));
            Assert.That(error, Is.EqualTo(ProtocolError.MoreOnCommand));
            Assert.That(consumed, Is.Zero);
        }
    }

    [TestCase("028000000000000000")]
    [TestCase("02FFFFFFFFFFFFFFFF")]
    [TestCase("03FFFFFFFFFFFFFFFE")]
    [TestCase("068000000000000001")]
    public void ANegativeEightByteLengthIsRefusedAsTooLarge(string headerHex)
    {
        byte[] header = Convert.FromHexString(headerHex);

        foreach (ReadOnlySequence<byte> sequence in new[] { new ReadOnlySequence<byte>(header), Segments.OneBytePerSegment(header), new ReadOnlySequence<byte>([.. header, .. new byte[16]]) })
        {
            OperationStatus status = Read(sequence, out _, out _, out ProtocolError error, out long consumed);

            Assert.That(status, Is.EqualTo(OperationStatus.InvalidData));
            Assert.That(error, Is.EqualTo(ProtocolError.FrameTooLarge));
            Assert.That(consumed, Is.Zero);
        }
    }

    [Test]
    public void TheLargestPositiveEightByteLengthIsAcceptedByTheCodec()
    {
        byte[] header = Convert.FromHexString("027FFFFFFFFFFFFFFF");

        OperationStatus status = Read(Segments.OneBytePerSegment(header), out _, out long size, out _, out _);

        Assert.That(status, Is.EqualTo(OperationStatus.Done));
        Assert.That(size, Is.EqualTo(long.MaxValue), "the size limit is the session's job (MaxMessageSize), not the codec's");
    }

    [Test]
    public void EveryProtocolErrorHasItsOwnSentence()
    {
        ProtocolError[] errors = Enum.GetValues<ProtocolError>().Where(e => e != ProtocolError.None).ToArray();
        string[] sentences = errors.Select(ProtocolErrors.Describe).ToArray();

        Assert.That(sentences, Is.Unique);
        Assert.That(sentences, Has.None.EqualTo(ProtocolErrors.Describe(ProtocolError.None)));
        Assert.That(new ProtocolViolationException(ProtocolError.MoreOnCommand, "frame 3").Message,
            Is.EqualTo("command frame has the MORE flag set: frame 3"));
    }
}
