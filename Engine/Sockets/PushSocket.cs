using Engine.Patterns;

namespace Engine.Sockets;

/// <summary>
/// PUSH (RFC 30): sends messages round-robin to the connected PULL peers whose pipe has room;
/// blocks (or times out) only when every pipe is at its high-water mark. Never receives.
/// </summary>
public sealed class PushSocket : SendingSocket
{
    /// <summary>A PUSH socket with the given options (or the defaults).</summary>
    public PushSocket(SocketOptions? options = null)
        : base(SocketType.Push, options, static (o, socket) => (CreateBalancer(o, socket), null))
    {
    }
}
