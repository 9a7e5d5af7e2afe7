using Engine.Wire.Mechanisms;

namespace Engine.Tests.Security;

/// <summary>MESSAGE boxes on bytes alone: round trip with flags, and refusal of replays, tampering and the wrong direction.</summary>
[TestFixture]
public sealed class CurveCodecTests
{
    private static (CurveCodec Client, CurveCodec Server) Pair()
    {
        CurveKeyPair client = CurveKeyPair.Generate();
        CurveKeyPair server = CurveKeyPair.Generate();
        var clientShared = new byte[32];
        var serverShared = new byte[32];
        Engine.Security.Sodium.BeforeNm(clientShared, server.PublicKey, client.SecretKey);
        Engine.Security.Sodium.BeforeNm(serverShared, client.PublicKey, server.SecretKey);
        return (new CurveCodec(clientShared, isServer: false, nextNonce: 3, lastPeerNonce: 1), new CurveCodec(serverShared, isServer: true, nextNonce: 2, lastPeerNonce: 2));
    }

    private static byte[] Seal(CurveCodec codec, byte flags, byte[] payload)
    {
        byte[] plain = [flags, .. payload];
        var body = new byte[payload.Length + CurveCodec.Overhead];
        codec.Seal(body, plain);
        return body;
    }

    [Test]
    public void ABoxOpensOnceWithItsFlagsAndAReplayIsRefused()
    {
        (CurveCodec client, CurveCodec server) = Pair();
        byte[] first = Seal(client, CurveCodec.FlagMore, "hello"u8.ToArray());
        var plain = new byte[first.Length - CurveCodec.Overhead + 1];
        Assert.That(server.Open(first, plain), Is.Null);
        byte[] expected = [CurveCodec.FlagMore, .. "hello"u8.ToArray()];
        Assert.That(plain, Is.EqualTo(expected));

        Assert.That(server.Open(first, plain), Does.Contain("does not increase"), "a replayed box was accepted");
    }

    [Test]
    public void ATamperedBoxOrOneFromOurOwnDirectionIsRefused()
    {
        (CurveCodec client, CurveCodec server) = Pair();
        byte[] box = Seal(client, 0, new byte[300]);
        box[^1] ^= 1;
        Assert.That(server.Open(box, new byte[301]), Does.Contain("does not authenticate"));

        // The nonce prefix names the sender: a server's box reflected back to it does not open.
        byte[] reflected = Seal(server, 0, new byte[10]);
        Assert.That(server.Open(reflected, new byte[11]), Is.Not.Null);
    }
}
