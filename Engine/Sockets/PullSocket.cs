using Engine.Patterns;

namespace Engine.Sockets;

/// <summary>
/// PULL (RFC 30): receives messages fair-queued from the connected PUSH peers, so that one busy
/// peer cannot starve another. Never sends.
/// </summary>
public sealed class PullSocket : ReceivingSocket
{
    /// <summary>A PULL socket with the given options (or the defaults).</summary>
    public PullSocket(SocketOptions? options = null)
        : base(SocketType.Pull, options, static (_, _) => (null, new FairQueue()))
    {
    }
}
