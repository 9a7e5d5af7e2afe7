using Engine.Patterns;

namespace Engine.Sockets;

/// <summary>
/// REQ: sends a request to one peer (round-robin) and then receives exactly its reply. Misuse of
/// the alternation throws <see cref="InvalidOperationException"/>; see <see cref="SocketOptions.RequestRelaxed"/>
/// and <see cref="SocketOptions.RequestCorrelate"/> for retries.
/// </summary>
public sealed class ReqSocket : DuplexSocket
{
    /// <summary>A REQ socket with the given options (or the defaults).</summary>
    public ReqSocket(SocketOptions? options = null)
        : base(SocketType.Req, options, static (o, _) =>
        {
            var pattern = new RequestPattern(() => o.RequestRelaxed, () => o.RequestCorrelate);
            return (pattern, pattern);
        })
    {
    }
}
