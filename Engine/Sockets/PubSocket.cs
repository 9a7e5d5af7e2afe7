using System.Text;
using Engine.Patterns;

namespace Engine.Sockets;

/// <summary>
/// PUB: sends each message to every subscriber whose subscription is a prefix of it (filtered
/// here). A subscriber at its HWM misses the message (see <see cref="DroppedMessages"/>); the
/// publisher never blocks. Never receives.
/// </summary>
public sealed class PubSocket : SendingSocket
{
    /// <summary>A PUB socket with the given options (or the defaults).</summary>
    public PubSocket(SocketOptions? options = null)
        : base(SocketType.Pub, options, static (o, _) => (new PublisherPattern(isXPub: false, () => o.XPubVerbose, () => o.MaxSubscriptionBytes), null))
    {
    }

    /// <summary>Messages a matching subscriber missed because its pipe was at its high-water mark.</summary>
    public long DroppedMessages => ((PublisherPattern)Sender!).Dropped;

    private protected override bool UsesInbound => true;
}
