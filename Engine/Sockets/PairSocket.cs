using Engine.Patterns;

namespace Engine.Sockets;

/// <summary>PAIR: exactly one peer; sends and receives. A second peer is refused with a reason.</summary>
public sealed class PairSocket : DuplexSocket
{
    /// <summary>A PAIR socket with the given options (or the defaults).</summary>
    public PairSocket(SocketOptions? options = null)
        : base(SocketType.Pair, options, static (_, _) => (new LoadBalancer(), new FairQueue()))
    {
    }
}
