using Engine.Security;

namespace Engine.Wire.Mechanisms;

/// <summary>
/// The server's cookie key K (RFC 26): WELCOME hands the client its own short-term key and the
/// server's short-term secret sealed under K, so the server needs no state until INITIATE brings
/// the cookie back. K is process-wide and replaced every minute; the previous key is still
/// accepted so that a handshake straddling a rotation succeeds, and older cookies are refused.
/// </summary>
internal static class CurveCookieKey
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(60);
    private static readonly object Gate = new();
    private static byte[] _current = NewKey();
    private static byte[] _previous = NewKey();
    private static long _rotatedAt = Environment.TickCount64;

    /// <summary>The key to seal a new cookie with.</summary>
    internal static byte[] Current
    {
        get
        {
            lock (Gate)
            {
                RotateIfDue();
                return _current;
            }
        }
    }

    /// <summary>The keys a returning cookie may have been sealed with (newest first).</summary>
    internal static (byte[] Current, byte[] Previous) Accepted
    {
        get
        {
            lock (Gate)
            {
                RotateIfDue();
                return (_current, _previous);
            }
        }
    }

    private static void RotateIfDue()
    {
        if (Environment.TickCount64 - _rotatedAt >= (long)Lifetime.TotalMilliseconds)
        {
            _previous = _current;
            _current = NewKey();
            _rotatedAt = Environment.TickCount64;
        }
    }

    private static byte[] NewKey()
    {
        var key = new byte[Sodium.KeySize];
        Sodium.Random(key);
        return key;
    }
}
