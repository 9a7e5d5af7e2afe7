using Engine.Patterns;

namespace Engine.Sockets;

/// <summary>REP: receives a request (fair-queued) and then sends exactly one reply to its sender, envelope restored.</summary>
public sealed class RepSocket : DuplexSocket
{
    /// <summary>A REP socket with the given options (or the defaults).</summary>
    public RepSocket(SocketOptions? options = null)
        : base(SocketType.Rep, options, static (_, _) =>
        {
            var pattern = new ReplyPattern();
            return (pattern, pattern);
        })
    {
    }
}
