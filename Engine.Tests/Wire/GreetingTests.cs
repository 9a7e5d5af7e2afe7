using Engine.Tests.Infrastructure;
using Engine.Wire;

namespace Engine.Tests.Wire;

[TestFixture]
public class GreetingTests
{
    private static byte[] OurGreeting(bool asServer = false)
    {
        var bytes = new byte[Greeting.Size];
        Greeting.Write(bytes, "NULL", asServer);
        return bytes;
    }

    [Test]
    public void OurNullGreetingIsExactlyTheSixtyFourBytesOfTheRfc()
    {
        byte[] expected = Bytes.Of(
            0xFF, new byte[8], 0x7F, // signature: FF, 8 bytes of padding, 7F
            0x03, 0x01,              // version 3.1
            "NULL", new byte[16],    // mechanism, zero-padded to 20 bytes
            0x00,                    // as-server: false
            new byte[31]);           // filler

        Assert.That(expected, Has.Length.EqualTo(64));
        Assert.That(Bytes.Hex(OurGreeting()), Is.EqualTo(Bytes.Hex(expected)));
    }

    [Test]
    public void AsServerSetsOnlyByteThirtyTwo()
    {
        byte[] client = OurGreeting(asServer: false);
        byte[] server = OurGreeting(asServer: true);

        Assert.That(server[32], Is.EqualTo(1));
        server[32] = 0;
        Assert.That(server, Is.EqualTo(client));
    }

    [Test]
    public void WriteOverwritesWhateverTheDestinationHeldBefore()
    {
        byte[] dirty = Enumerable.Repeat((byte)0xAB, Greeting.Size + 8).ToArray();

        Greeting.Write(dirty, "NULL", asServer: false);

        Assert.That(dirty.AsSpan(0, Greeting.Size).ToArray(), Is.EqualTo(OurGreeting()));
        Assert.That(dirty.AsSpan(Greeting.Size).ToArray(), Is.All.EqualTo(0xAB), "bytes past the greeting are left alone");
    }

    [Test]
    public void OurGreetingParsesBackAsNull31()
    {
        ProtocolError error = Greeting.TryParse(OurGreeting(asServer: true), out Greeting greeting);

        Assert.That(error, Is.EqualTo(ProtocolError.None));
        Assert.That(greeting.Major, Is.EqualTo(3));
        Assert.That(greeting.Minor, Is.EqualTo(1));
        Assert.That(greeting.Mechanism, Is.EqualTo("NULL"));
        Assert.That(greeting.AsServer, Is.True);
        Assert.That(greeting.IsAtLeast31, Is.True);
    }

    [TestCase(3, 0, false)]
    [TestCase(3, 1, true)]
    [TestCase(3, 9, true)]
    [TestCase(4, 0, true)]
    public void VersionThreeAndLaterAreAcceptedAndThirtyOneIsDetected(int major, int minor, bool atLeast31)
    {
        byte[] bytes = OurGreeting();
        bytes[10] = (byte)major;
        bytes[11] = (byte)minor;

        Assert.That(Greeting.TryParse(bytes, out Greeting greeting), Is.EqualTo(ProtocolError.None));
        Assert.That(greeting.IsAtLeast31, Is.EqualTo(atLeast31));
    }

    [Test]
    public void PaddingBytesAreNotValidatedBecauseLibzmqWritesItsIdentityLengthThere()
    {
        byte[] bytes = OurGreeting();
        for (int i = 1; i <= 8; i++)
        {
            bytes[i] = (byte)(0x10 + i);
        }

        Assert.That(Greeting.TryParse(bytes, out _), Is.EqualTo(ProtocolError.None));
    }

    [Test]
    public void AMechanismFillingAllTwentyBytesIsAccepted()
    {
        byte[] bytes = OurGreeting();
        "ABCDEFGHIJ0123456789"u8.CopyTo(bytes.AsSpan(12));

        Assert.That(Greeting.TryParse(bytes, out Greeting greeting), Is.EqualTo(ProtocolError.None));
        Assert.That(greeting.Mechanism, Is.EqualTo("ABCDEFGHIJ0123456789"));
    }

    [Test]
    public void AWellFormedForeignMechanismParsesSoThatTheSessionCanReportAMismatch()
    {
        byte[] bytes = OurGreeting();
        Bytes.Of("CURVE", new byte[15]).CopyTo(bytes, 12);

        Assert.That(Greeting.TryParse(bytes, out Greeting greeting), Is.EqualTo(ProtocolError.None));
        Assert.That(greeting.Mechanism, Is.EqualTo("CURVE"));
    }

    [TestCase(0x00, TestName = "A first byte of 0x00 is a bad signature")]
    [TestCase(0xFE, TestName = "A first byte of 0xFE is a bad signature")]
    [TestCase(0x7F, TestName = "A first byte of 0x7F is a bad signature")]
    public void AWrongFirstByteIsABadSignature(int first)
    {
        byte[] bytes = OurGreeting();
        bytes[0] = (byte)first;

        Assert.That(Greeting.TryParse(bytes, out _), Is.EqualTo(ProtocolError.BadSignature));
    }

    [TestCase(0x00, TestName = "A tenth byte of 0x00 is a bad signature")]
    [TestCase(0x7E, TestName = "A tenth byte of 0x7E is a bad signature")]
    public void AWrongTenthByteIsABadSignature(int ninth)
    {
        byte[] bytes = OurGreeting();
        bytes[9] = (byte)ninth;

        Assert.That(Greeting.TryParse(bytes, out _), Is.EqualTo(ProtocolError.BadSignature));
    }

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(2)]
    public void AVersionBelowThreeIsUnsupported(int major)
    {
        byte[] bytes = OurGreeting();
        bytes[10] = (byte)major;

        Assert.That(Greeting.TryParse(bytes, out _), Is.EqualTo(ProtocolError.UnsupportedVersion));
    }

    [Test]
    public void GarbageIsRefusedAfterItsFirstByteNotAfterSixtyFour()
    {
        Assert.That(Greeting.CheckPrefix(ReadOnlySpan<byte>.Empty), Is.EqualTo(ProtocolError.None));
        Assert.That(Greeting.CheckPrefix("G"u8), Is.EqualTo(ProtocolError.BadSignature), "an HTTP 'GET' is refused at its first byte");
    }

    [Test]
    public void EveryPrefixOfOurGreetingIsAcceptedSoFar()
    {
        byte[] bytes = OurGreeting();
        for (int length = 0; length <= Greeting.Size; length++)
        {
            Assert.That(Greeting.CheckPrefix(bytes.AsSpan(0, length)), Is.EqualTo(ProtocolError.None), $"prefix of {length} bytes");
        }
    }

    [Test]
    public void ABadTenthByteIsRefusedAsSoonAsItArrives()
    {
        byte[] bytes = OurGreeting();
        bytes[9] = 0x00;

        Assert.That(Greeting.CheckPrefix(bytes.AsSpan(0, 9)), Is.EqualTo(ProtocolError.None), "byte 9 has not arrived yet");
        Assert.That(Greeting.CheckPrefix(bytes.AsSpan(0, 10)), Is.EqualTo(ProtocolError.BadSignature));
    }

    [Test]
    public void AnOldVersionIsRefusedAsSoonAsTheMajorVersionArrives()
    {
        byte[] bytes = OurGreeting();
        bytes[10] = 1;

        Assert.That(Greeting.CheckPrefix(bytes.AsSpan(0, 10)), Is.EqualTo(ProtocolError.None), "byte 10 has not arrived yet");
        Assert.That(Greeting.CheckPrefix(bytes.AsSpan(0, 11)), Is.EqualTo(ProtocolError.UnsupportedVersion));
    }

    private static IEnumerable<TestCaseData> GarbageMechanisms()
    {
        yield return new TestCaseData((object)new byte[20]).SetName("An all-zero mechanism field is an unknown mechanism");
        yield return new TestCaseData((object)Bytes.Of("null", new byte[16])).SetName("A lower-case mechanism name is an unknown mechanism");
        yield return new TestCaseData((object)Bytes.Of("NU", 0, "LL", new byte[15])).SetName("Bytes after the terminating zero make an unknown mechanism");
        yield return new TestCaseData((object)Bytes.Of("NULL ", new byte[15])).SetName("A space in the mechanism name makes it unknown");
        yield return new TestCaseData((object)Bytes.Of(0xFF, 0xFE, "NULL", new byte[14])).SetName("Non-ASCII bytes in the mechanism name make it unknown");
        yield return new TestCaseData((object)Enumerable.Repeat((byte)0xAA, 20).ToArray()).SetName("A mechanism field full of garbage is unknown");
    }

    [TestCaseSource(nameof(GarbageMechanisms))]
    public void GarbageInTheMechanismFieldIsAnUnknownMechanism(byte[] mechanismField)
    {
        byte[] bytes = OurGreeting();
        mechanismField.CopyTo(bytes, 12);

        Assert.That(Greeting.TryParse(bytes, out _), Is.EqualTo(ProtocolError.UnknownMechanism));
    }
}
