namespace Engine.Wire;

/// <summary>Why a peer's bytes were refused. Each value maps to one clear sentence in <see cref="ProtocolErrors"/>.</summary>
internal enum ProtocolError
{
    None = 0,
    BadSignature,
    UnsupportedVersion,
    UnknownMechanism,
    MechanismMismatch,
    ReservedFlagsSet,
    MoreOnCommand,
    FrameTooLarge,
    MalformedCommand,
    UnexpectedCommand,
    MalformedMetadata,
    MissingSocketType,
    IncompatibleSocketType,
    PeerSentError,
    MessageBeforeReady,
    TooManyFrames,
    MessageTooLarge,
    AuthenticationFailed,
}

internal static class ProtocolErrors
{
    internal static string Describe(ProtocolError error) => error switch
    {
        ProtocolError.BadSignature => "greeting signature is not ZMTP (expected 0xFF at byte 0 and 0x7F at byte 9)",
        ProtocolError.UnsupportedVersion => "peer speaks a ZMTP version below 3.0",
        ProtocolError.UnknownMechanism => "peer asked for an unknown security mechanism",
        ProtocolError.MechanismMismatch => "peer's security mechanism differs from ours",
        ProtocolError.ReservedFlagsSet => "frame has reserved flag bits set",
        ProtocolError.MoreOnCommand => "command frame has the MORE flag set",
        ProtocolError.FrameTooLarge => "frame is larger than the maximum message size",
        ProtocolError.MalformedCommand => "command frame is malformed",
        ProtocolError.UnexpectedCommand => "command not allowed in this state",
        ProtocolError.MalformedMetadata => "READY metadata is malformed",
        ProtocolError.MissingSocketType => "READY has no Socket-Type property",
        ProtocolError.IncompatibleSocketType => "socket types cannot talk to each other",
        ProtocolError.PeerSentError => "peer sent an ERROR command",
        ProtocolError.MessageBeforeReady => "message frame before the handshake completed",
        ProtocolError.TooManyFrames => "message has more frames than allowed",
        ProtocolError.MessageTooLarge => "message is larger than the maximum message size",
        ProtocolError.AuthenticationFailed => "authentication failed",
        _ => "no error",
    };

    /// <summary>
    /// Peer-supplied bytes made safe to quote in a reason (monitor events, logs, our ERROR): only
    /// printable ASCII survives, the rest becomes '?', and long input is cut, so a hostile peer
    /// can neither forge log lines nor make a reason unbounded.
    /// </summary>
    internal static string Printable(ReadOnlySpan<byte> bytes, int maxLength = 64)
    {
        ReadOnlySpan<byte> shown = bytes.Length > maxLength ? bytes[..maxLength] : bytes;
        var text = new System.Text.StringBuilder(shown.Length + 3);
        foreach (byte b in shown)
        {
            text.Append(b is >= 0x20 and <= 0x7E ? (char)b : '?');
        }

        return bytes.Length > maxLength ? text.Append("...").ToString() : text.ToString();
    }
}

/// <summary>A peer broke the protocol; the connection that carried it is closed with this reason.</summary>
internal sealed class ProtocolViolationException : Exception
{
    internal ProtocolViolationException(ProtocolError error, string? detail = null)
        : base(detail is null ? ProtocolErrors.Describe(error) : $"{ProtocolErrors.Describe(error)}: {detail}")
    {
        Error = error;
    }

    internal ProtocolError Error { get; }
}
