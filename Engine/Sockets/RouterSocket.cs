using Engine.Patterns;

namespace Engine.Sockets;

/// <summary>
/// ROUTER: each received message starts with the sender's routing id; each sent message starts
/// with the routing id of its destination. See <see cref="SocketOptions.RouterMandatory"/> and
/// <see cref="SocketOptions.RouterHandover"/>.
/// </summary>
public sealed class RouterSocket : DuplexSocket
{
    /// <summary>A ROUTER socket with the given options (or the defaults).</summary>
    public RouterSocket(SocketOptions? options = null)
        : base(SocketType.Router, options, static (o, _) =>
        {
            var pattern = new RouterPattern(() => o.RouterMandatory);
            return (pattern, pattern);
        })
    {
    }

    /// <summary>Messages dropped for an unknown routing id or a full peer pipe (without RouterMandatory).</summary>
    public long DroppedMessages => ((RouterPattern)Sender!).Dropped;
}
