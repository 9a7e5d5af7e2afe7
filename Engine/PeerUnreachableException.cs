namespace Engine;

/// <summary>
/// A ROUTER with <c>RouterMandatory</c> was asked to send to a routing id that no connected peer
/// has (never had, or has left). Thrown at once: the send never waits for a peer that is gone.
/// </summary>
public sealed class PeerUnreachableException : Exception
{
    public PeerUnreachableException(string message)
        : base(message)
    {
    }
}
