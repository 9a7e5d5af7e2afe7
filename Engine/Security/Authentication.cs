namespace Engine;

/// <summary>
/// What a connecting client presented at the handshake of a PLAIN or CURVE server, handed to the
/// application's <see cref="Authenticator"/> (our in-process counterpart of ZAP, RFC 27).
/// </summary>
public sealed class AuthenticationRequest
{
    internal AuthenticationRequest(string mechanism, string peerAddress, string? username, string? password, byte[]? clientPublicKey)
    {
        Mechanism = mechanism;
        PeerAddress = peerAddress;
        Username = username;
        Password = password;
        ClientPublicKey = clientPublicKey;
    }

    /// <summary>"PLAIN" or "CURVE".</summary>
    public string Mechanism { get; }

    /// <summary>The remote address of the connection, as the transport reports it.</summary>
    public string PeerAddress { get; }

    /// <summary>PLAIN: the user name (UTF-8 decoded; invalid bytes become U+FFFD). Null for CURVE.</summary>
    public string? Username { get; }

    /// <summary>PLAIN: the password (UTF-8 decoded). Null for CURVE.</summary>
    public string? Password { get; }

    /// <summary>CURVE: the client's long-term public key (32 bytes), already proven by its vouch. Null for PLAIN.</summary>
    public byte[]? ClientPublicKey { get; }
}

/// <summary>An authenticator's verdict: accept, or reject with a reason the client is told (ERROR command).</summary>
public readonly record struct AuthenticationResult(bool Accepted, string? Reason)
{
    /// <summary>Let the client in.</summary>
    public static AuthenticationResult Accept() => new(true, null);

    /// <summary>Refuse the client; <paramref name="reason"/> goes to it in an ERROR (at most 255 printable bytes) and to our monitor.</summary>
    public static AuthenticationResult Reject(string reason) => new(false, reason);
}

/// <summary>
/// Decides whether a PLAIN or CURVE client may connect. Runs on the connection's handshake, so it
/// should be quick; an exception counts as a rejection.
/// </summary>
public delegate AuthenticationResult Authenticator(AuthenticationRequest request);
