using Engine.Tests.Infrastructure;
using Engine.Wire;

namespace Engine.Tests.Wire;

[TestFixture]
public class MetadataTests
{
    private static byte[] Encode(Metadata metadata)
    {
        var buffer = new byte[metadata.EncodedSize];
        int written = metadata.Write(buffer);
        Assert.That(written, Is.EqualTo(metadata.EncodedSize), "EncodedSize predicts what Write writes");
        return buffer;
    }

    [Test]
    public void APropertyIsNameLengthNameBigEndianValueLengthValue()
    {
        var metadata = new Metadata();
        metadata.Add("Socket-Type", "PUSH"u8);

        Assert.That(Bytes.Hex(Encode(metadata)), Is.EqualTo(Bytes.Hex(Bytes.Of(11, "Socket-Type", 0, 0, 0, 4, "PUSH"))));
    }

    [Test]
    public void SeveralPropertiesRoundTripIncludingEmptyAndLargeValues()
    {
        var metadata = new Metadata();
        metadata.Add("Socket-Type", "ROUTER"u8);
        metadata.Add("Identity", ReadOnlySpan<byte>.Empty);
        metadata.Add("X-Big", Enumerable.Range(0, 70_000).Select(i => (byte)i).ToArray());
        metadata.Add("a.b_c+d-9", "v"u8);

        Assert.That(Metadata.TryParse(Encode(metadata), out Metadata parsed), Is.EqualTo(ProtocolError.None));
        Assert.That(parsed.Properties.Keys, Is.EquivalentTo(new[] { "Socket-Type", "Identity", "X-Big", "a.b_c+d-9" }));
        foreach (KeyValuePair<string, byte[]> property in metadata.Properties)
        {
            Assert.That(parsed.Properties[property.Key], Is.EqualTo(property.Value), property.Key);
        }
    }

    [Test]
    public void EmptyMetadataParsesToNoProperties()
    {
        Assert.That(Metadata.TryParse(ReadOnlySpan<byte>.Empty, out Metadata metadata), Is.EqualTo(ProtocolError.None));
        Assert.That(metadata.Properties, Is.Empty);
        Assert.That(metadata.SocketType, Is.Null);
        Assert.That(metadata.Identity, Is.Null);
        Assert.That(metadata.EncodedSize, Is.Zero);
    }

    [Test]
    public void PropertyNamesCompareCaseInsensitively()
    {
        Assert.That(Metadata.TryParse(Bytes.Of(11, "SOCKET-TYPE", 0, 0, 0, 3, "SUB", 8, "identity", 0, 0, 0, 1, "i"), out Metadata metadata), Is.EqualTo(ProtocolError.None));

        Assert.That(metadata.SocketType, Is.EqualTo("SUB"));
        Assert.That(metadata.Identity, Is.EqualTo("i"u8.ToArray()));
    }

    [Test]
    public void EveryAllowedNameCharacterIsAccepted()
    {
        const string name = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.+";

        Assert.That(Metadata.TryParse(Bytes.Of(name.Length, name, 0, 0, 0, 0), out Metadata metadata), Is.EqualTo(ProtocolError.None));
        Assert.That(metadata.Properties.ContainsKey(name), Is.True);
    }

    [Test]
    public void AValueSizeOfFourGigabytesRunningPastTheBodyIsRefused()
    {
        byte[] data = Bytes.Of(8, "Identity", 0xFF, 0xFF, 0xFF, 0xFF, "abc");

        Assert.That(Metadata.TryParse(data, out _), Is.EqualTo(ProtocolError.MalformedMetadata));
    }

    [Test]
    public void AValueSizeOneBytePastTheBodyIsRefused()
    {
        byte[] exact = Bytes.Of(1, "k", 0, 0, 0, 3, "abc");
        byte[] over = Bytes.Of(1, "k", 0, 0, 0, 4, "abc");

        Assert.That(Metadata.TryParse(exact, out _), Is.EqualTo(ProtocolError.None));
        Assert.That(Metadata.TryParse(over, out _), Is.EqualTo(ProtocolError.MalformedMetadata));
    }

    [Test]
    public void AValueSizeWithTheTopBitSetIsRefusedRatherThanReadAsNegative()
    {
        Assert.That(Metadata.TryParse(Bytes.Of(1, "k", 0x80, 0, 0, 0, "abc"), out _), Is.EqualTo(ProtocolError.MalformedMetadata));
    }

    [Test]
    public void AZeroLengthPropertyNameIsRefused()
    {
        Assert.That(Metadata.TryParse(Bytes.Of(0, 0, 0, 0, 0), out _), Is.EqualTo(ProtocolError.MalformedMetadata));
    }

    [TestCase("4B", TestName = "A property cut after its name-size is refused")]
    [TestCase("0A536F636B6574", TestName = "A property name running past the body is refused")]
    [TestCase("016B000000", TestName = "A property with only three of its four value-size bytes is refused")]
    public void ATruncatedPropertyIsRefused(string hex)
    {
        Assert.That(Metadata.TryParse(Convert.FromHexString(hex), out _), Is.EqualTo(ProtocolError.MalformedMetadata));
    }

    [Test]
    public void TrailingBytesAfterTheLastPropertyAreRefused()
    {
        Assert.That(Metadata.TryParse(Bytes.Of(1, "k", 0, 0, 0, 1, "v", 0x01), out _), Is.EqualTo(ProtocolError.MalformedMetadata));
    }

    [TestCase("Socket Type", TestName = "A space in a property name is refused")]
    [TestCase("Socket:Type", TestName = "A colon in a property name is refused")]
    [TestCase("Socket/Type", TestName = "A slash in a property name is refused")]
    [TestCase("Sock\u0000et", TestName = "A zero byte in a property name is refused")]
    public void BadPropertyNameCharactersAreRefused(string name)
    {
        Assert.That(Metadata.TryParse(Bytes.Of(name.Length, name, 0, 0, 0, 0), out _), Is.EqualTo(ProtocolError.MalformedMetadata));
    }

    [Test]
    public void ANonAsciiByteInAPropertyNameIsRefused()
    {
        Assert.That(Metadata.TryParse(Bytes.Of(3, 0x41, 0xC3, 0xA9, 0, 0, 0, 0), out _), Is.EqualTo(ProtocolError.MalformedMetadata));
    }

    [Test]
    public void AGoodPropertyFollowedByABadOneIsRefusedAsAWhole()
    {
        byte[] data = Bytes.Of(11, "Socket-Type", 0, 0, 0, 4, "PUSH", 0);

        Assert.That(Metadata.TryParse(data, out _), Is.EqualTo(ProtocolError.MalformedMetadata));
    }
}
