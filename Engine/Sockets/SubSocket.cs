using System.Text;
using Engine.Patterns;

namespace Engine.Sockets;

/// <summary>
/// SUB: receives the messages that match its subscriptions, fair-queued from its publishers.
/// Subscriptions are counted and are sent again to a publisher after every reconnect.
/// Subscribe from the thread that receives.
/// </summary>
public sealed class SubSocket : ReceivingSocket
{
    /// <summary>A SUB socket with the given options (or the defaults). It receives nothing until it subscribes.</summary>
    public SubSocket(SocketOptions? options = null)
        : base(SocketType.Sub, options, static (_, socket) =>
        {
            var subscriptions = new SubscriptionSet(() => socket.AllPeers);
            socket.Subscriptions = subscriptions;
            return (null, new SubscriberPattern(subscriptions));
        })
    {
    }

    private protected override bool UsesOutbound => true;

    /// <summary>Receives messages starting with <paramref name="topic"/> (empty: everything). Counted: subscribe twice, unsubscribe twice.</summary>
    public void Subscribe(ReadOnlySpan<byte> topic) => Update(1, topic);

    /// <summary>Subscribes to the UTF-8 bytes of <paramref name="topic"/>.</summary>
    public void Subscribe(string topic) => Subscribe(Encoding.UTF8.GetBytes(topic));

    /// <summary>Removes one subscription to <paramref name="topic"/>; the publishers are told when the last one goes.</summary>
    public void Unsubscribe(ReadOnlySpan<byte> topic) => Update(0, topic);

    /// <summary>Unsubscribes from the UTF-8 bytes of <paramref name="topic"/>.</summary>
    public void Unsubscribe(string topic) => Unsubscribe(Encoding.UTF8.GetBytes(topic));

    private void Update(byte kind, ReadOnlySpan<byte> topic)
    {
        ThrowIfDisposed();
        Span<byte> message = topic.Length < 256 ? stackalloc byte[topic.Length + 1] : new byte[topic.Length + 1];
        message[0] = kind;
        topic.CopyTo(message[1..]);
        Subscriptions!.Update(message);
    }
}
