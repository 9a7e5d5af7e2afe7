using System.Buffers;

namespace Engine.Wire.Mechanisms;

/// <summary>
/// One side of a ZMTP security mechanism's handshake (NULL, PLAIN, CURVE), as a small state machine
/// the session's single linear handshake drives: it sends <see cref="Start"/>'s frames, then feeds
/// every handshake command to <see cref="Process"/> until that returns the peer's metadata.
/// </summary>
/// <remarks>
/// Kept free of I/O so that each mechanism can be tested on bytes alone and the session keeps one
/// place that reads, writes, times out and says why. A refusal is a thrown
/// <see cref="ProtocolViolationException"/>; the session answers it with ERROR.
/// </remarks>
internal interface IMechanism
{
    /// <summary>The mechanism field of our greeting.</summary>
    string Name { get; }

    /// <summary>The as-server bit of our greeting (always false for NULL).</summary>
    bool AsServer { get; }

    /// <summary>Writes the frames we send as soon as the greetings are exchanged (none for a PLAIN server).</summary>
    void Start(IBufferWriter<byte> output);

    /// <summary>
    /// Handles one handshake command (ERROR is handled by the session before this) and writes our
    /// replies. Returns the peer's metadata once the handshake is complete, otherwise null.
    /// </summary>
    Metadata? Process(ReadOnlySpan<byte> name, ReadOnlySpan<byte> data, IBufferWriter<byte> output);
}
