using Engine.Patterns;

namespace Engine.Sockets;

/// <summary>DEALER: load-balances outgoing messages over peers with room, fair-queues incoming ones. No envelope handling.</summary>
public sealed class DealerSocket : DuplexSocket
{
    /// <summary>A DEALER socket with the given options (or the defaults).</summary>
    public DealerSocket(SocketOptions? options = null)
        : base(SocketType.Dealer, options, static (o, socket) => (CreateBalancer(o, socket), new FairQueue()))
    {
    }
}
