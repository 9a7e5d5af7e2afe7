using System.Text;
using Engine.Patterns;

namespace Engine.Sockets;

/// <summary>
/// XPUB: a PUB that also receives the subscriptions (<c>0x01 topic</c>, <c>0x00 topic</c>) so that
/// proxies and "last value" caches can act on them. Send and receive from one thread at a time.
/// </summary>
public sealed class XPubSocket : DuplexSocket
{
    /// <summary>An XPUB socket with the given options (or the defaults).</summary>
    public XPubSocket(SocketOptions? options = null)
        : base(SocketType.XPub, options, static (o, _) =>
        {
            var pattern = new PublisherPattern(isXPub: true, () => o.XPubVerbose, () => o.MaxSubscriptionBytes);
            return (pattern, pattern);
        })
    {
    }

    /// <summary>Messages a matching subscriber missed because its pipe was at its high-water mark.</summary>
    public long DroppedMessages => ((PublisherPattern)Sender!).Dropped;
}
