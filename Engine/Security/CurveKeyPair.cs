using Engine.Security;

namespace Engine;

/// <summary>A CURVE (Curve25519) long-term key pair: 32-byte public and secret keys, also as Z85 text (libzmq's form).</summary>
public sealed class CurveKeyPair
{
    private CurveKeyPair(byte[] publicKey, byte[] secretKey)
    {
        PublicKey = publicKey;
        SecretKey = secretKey;
    }

    /// <summary>The 32-byte public key: give it to the other side (clients need the server's).</summary>
    public byte[] PublicKey { get; }

    /// <summary>The 32-byte secret key: keep it secret.</summary>
    public byte[] SecretKey { get; }

    /// <summary>The public key as 40 characters of Z85 (what zmq_curve_keypair prints).</summary>
    public string PublicKeyZ85 => Z85.Encode(PublicKey);

    /// <summary>The secret key as 40 characters of Z85.</summary>
    public string SecretKeyZ85 => Z85.Encode(SecretKey);

    /// <summary>A new random key pair (libsodium crypto_box_keypair).</summary>
    public static CurveKeyPair Generate()
    {
        var publicKey = new byte[Sodium.KeySize];
        var secretKey = new byte[Sodium.KeySize];
        Sodium.KeyPair(publicKey, secretKey);
        return new CurveKeyPair(publicKey, secretKey);
    }

    /// <summary>The pair of a known secret key (32 bytes or 40 Z85 characters); the public key is derived from it.</summary>
    public static CurveKeyPair FromSecretKey(string secretKey) => FromSecretKey(ParseKey(secretKey, nameof(secretKey)));

    /// <inheritdoc cref="FromSecretKey(string)"/>
    public static CurveKeyPair FromSecretKey(byte[] secretKey)
    {
        byte[] secret = CheckKey(secretKey, nameof(secretKey));
        var publicKey = new byte[Sodium.KeySize];
        Sodium.PublicFromSecret(secret, publicKey);
        return new CurveKeyPair(publicKey, secret);
    }

    /// <summary>A key from its Z85 text (40 characters), as libzmq's ZMQ_CURVE_*KEY options accept it.</summary>
    public static byte[] ParseKey(string z85, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(z85, name ?? nameof(z85));
        if (z85.Length != 40 || !Z85.TryDecode(z85, out byte[] key))
        {
            throw new ArgumentException($"{name ?? "key"} must be 40 characters of Z85 (got {z85.Length} characters).", name ?? nameof(z85));
        }

        return key;
    }

    internal static byte[] CheckKey(byte[] key, string name)
    {
        ArgumentNullException.ThrowIfNull(key, name);
        return key.Length == Sodium.KeySize
            ? key.ToArray()
            : throw new ArgumentException($"{name} must be {Sodium.KeySize} bytes (got {key.Length}); use CurveKeyPair.ParseKey for Z85 text.", name);
    }
}
