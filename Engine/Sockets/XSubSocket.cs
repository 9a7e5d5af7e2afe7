using System.Text;
using Engine.Patterns;

namespace Engine.Sockets;

/// <summary>
/// XSUB: a SUB whose subscriptions are messages it sends (<c>0x01 topic</c> to subscribe,
/// <c>0x00 topic</c> to unsubscribe); other messages it sends go to every publisher.
/// </summary>
public sealed class XSubSocket : DuplexSocket
{
    /// <summary>An XSUB socket with the given options (or the defaults).</summary>
    public XSubSocket(SocketOptions? options = null)
        : base(SocketType.XSub, options, static (_, socket) =>
        {
            var subscriptions = new SubscriptionSet(() => socket.AllPeers, updatedByAnyThread: true);
            socket.Subscriptions = subscriptions;
            var pattern = new SubscriberPattern(subscriptions);
            return (pattern, pattern);
        })
    {
    }
}
