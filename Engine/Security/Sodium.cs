using System.Runtime.InteropServices;

namespace Engine.Security;

/// <summary>
/// The few libsodium entry points CURVE needs (NaCl crypto_box: X25519 + XSalsa20-Poly1305, and
/// crypto_secretbox for cookies). The native library comes from the NuGet package "libsodium"
/// (runtimes/*/native); no cryptographic primitive is implemented here.
/// </summary>
internal static unsafe class Sodium
{
    private const string Library = "libsodium";

    internal const int KeySize = 32;
    internal const int NonceSize = 24;
    internal const int MacSize = 16;

    [DllImport(Library)] private static extern int sodium_init();
    [DllImport(Library)] private static extern int crypto_box_keypair(byte* pk, byte* sk);
    [DllImport(Library)] private static extern int crypto_scalarmult_base(byte* q, byte* n);
    [DllImport(Library)] private static extern int crypto_box_easy(byte* c, byte* m, ulong mlen, byte* n, byte* pk, byte* sk);
    [DllImport(Library)] private static extern int crypto_box_open_easy(byte* m, byte* c, ulong clen, byte* n, byte* pk, byte* sk);
    [DllImport(Library)] private static extern int crypto_box_beforenm(byte* k, byte* pk, byte* sk);
    [DllImport(Library)] private static extern int crypto_box_easy_afternm(byte* c, byte* m, ulong mlen, byte* n, byte* k);
    [DllImport(Library)] private static extern int crypto_box_open_easy_afternm(byte* m, byte* c, ulong clen, byte* n, byte* k);
    [DllImport(Library)] private static extern int crypto_secretbox_easy(byte* c, byte* m, ulong mlen, byte* n, byte* k);
    [DllImport(Library)] private static extern int crypto_secretbox_open_easy(byte* m, byte* c, ulong clen, byte* n, byte* k);
    [DllImport(Library)] private static extern void randombytes_buf(byte* buf, nuint size);

    static Sodium()
    {
        // 0: initialised now, 1: already; -1: the library cannot work (no entropy source).
        if (sodium_init() < 0)
        {
            throw new InvalidOperationException("libsodium failed to initialise (sodium_init returned -1).");
        }
    }

    internal static void KeyPair(Span<byte> publicKey, Span<byte> secretKey)
    {
        fixed (byte* pk = publicKey, sk = secretKey)
        {
            Check(crypto_box_keypair(pk, sk), "crypto_box_keypair");
        }
    }

    internal static void PublicFromSecret(ReadOnlySpan<byte> secretKey, Span<byte> publicKey)
    {
        fixed (byte* sk = secretKey, pk = publicKey)
        {
            Check(crypto_scalarmult_base(pk, sk), "crypto_scalarmult_base");
        }
    }

    internal static void Random(Span<byte> buffer)
    {
        fixed (byte* b = buffer)
        {
            randombytes_buf(b, (nuint)buffer.Length);
        }
    }

    /// <summary>box = MAC(16) + ciphertext; <paramref name="box"/> is plain.Length + 16 bytes.</summary>
    internal static void Box(Span<byte> box, ReadOnlySpan<byte> plain, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> secretKey)
    {
        fixed (byte* c = box, m = plain, n = nonce, pk = publicKey, sk = secretKey)
        {
            Check(crypto_box_easy(c, m, (ulong)plain.Length, n, pk, sk), "crypto_box_easy");
        }
    }

    /// <summary>False when the box does not authenticate (wrong key, tampered, or not a box).</summary>
    internal static bool Open(Span<byte> plain, ReadOnlySpan<byte> box, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> secretKey)
    {
        if (box.Length < MacSize)
        {
            return false;
        }

        fixed (byte* m = plain, c = box, n = nonce, pk = publicKey, sk = secretKey)
        {
            return crypto_box_open_easy(m, c, (ulong)box.Length, n, pk, sk) == 0;
        }
    }

    internal static void BeforeNm(Span<byte> sharedKey, ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> secretKey)
    {
        fixed (byte* k = sharedKey, pk = publicKey, sk = secretKey)
        {
            Check(crypto_box_beforenm(k, pk, sk), "crypto_box_beforenm");
        }
    }

    internal static void BoxAfterNm(Span<byte> box, ReadOnlySpan<byte> plain, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> sharedKey)
    {
        fixed (byte* c = box, m = plain, n = nonce, k = sharedKey)
        {
            Check(crypto_box_easy_afternm(c, m, (ulong)plain.Length, n, k), "crypto_box_easy_afternm");
        }
    }

    internal static bool OpenAfterNm(Span<byte> plain, ReadOnlySpan<byte> box, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> sharedKey)
    {
        if (box.Length < MacSize)
        {
            return false;
        }

        fixed (byte* m = plain, c = box, n = nonce, k = sharedKey)
        {
            return crypto_box_open_easy_afternm(m, c, (ulong)box.Length, n, k) == 0;
        }
    }

    internal static void SecretBox(Span<byte> box, ReadOnlySpan<byte> plain, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> key)
    {
        fixed (byte* c = box, m = plain, n = nonce, k = key)
        {
            Check(crypto_secretbox_easy(c, m, (ulong)plain.Length, n, k), "crypto_secretbox_easy");
        }
    }

    internal static bool SecretOpen(Span<byte> plain, ReadOnlySpan<byte> box, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> key)
    {
        if (box.Length < MacSize)
        {
            return false;
        }

        fixed (byte* m = plain, c = box, n = nonce, k = key)
        {
            return crypto_secretbox_open_easy(m, c, (ulong)box.Length, n, k) == 0;
        }
    }

    private static void Check(int result, string function)
    {
        if (result != 0)
        {
            throw new InvalidOperationException($"libsodium {function} failed ({result}).");
        }
    }
}
