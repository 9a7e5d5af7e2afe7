namespace Engine.Wire;

/// <summary>Wire names of socket types and which pairs may talk (RFC 37, "Socket-Type" and the pattern RFCs).</summary>
internal static class SocketTypes
{
    internal static string WireName(SocketType type) => type switch
    {
        SocketType.Pair => "PAIR",
        SocketType.Pub => "PUB",
        SocketType.Sub => "SUB",
        SocketType.Req => "REQ",
        SocketType.Rep => "REP",
        SocketType.Dealer => "DEALER",
        SocketType.Router => "ROUTER",
        SocketType.Pull => "PULL",
        SocketType.Push => "PUSH",
        SocketType.XPub => "XPUB",
        SocketType.XSub => "XSUB",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown socket type."),
    };

    internal static bool TryParse(string? wireName, out SocketType type)
    {
        switch (wireName?.ToUpperInvariant())
        {
            case "PAIR": type = SocketType.Pair; return true;
            case "PUB": type = SocketType.Pub; return true;
            case "SUB": type = SocketType.Sub; return true;
            case "REQ": type = SocketType.Req; return true;
            case "REP": type = SocketType.Rep; return true;
            case "DEALER": type = SocketType.Dealer; return true;
            case "ROUTER": type = SocketType.Router; return true;
            case "PULL": type = SocketType.Pull; return true;
            case "PUSH": type = SocketType.Push; return true;
            case "XPUB": type = SocketType.XPub; return true;
            case "XSUB": type = SocketType.XSub; return true;
            default: type = default; return false;
        }
    }

    internal static bool AreCompatible(SocketType local, SocketType peer) => local switch
    {
        SocketType.Req => peer is SocketType.Rep or SocketType.Router,
        SocketType.Rep => peer is SocketType.Req or SocketType.Dealer,
        SocketType.Dealer => peer is SocketType.Rep or SocketType.Dealer or SocketType.Router,
        SocketType.Router => peer is SocketType.Req or SocketType.Dealer or SocketType.Router,
        SocketType.Pub or SocketType.XPub => peer is SocketType.Sub or SocketType.XSub,
        SocketType.Sub or SocketType.XSub => peer is SocketType.Pub or SocketType.XPub,
        SocketType.Push => peer is SocketType.Pull,
        SocketType.Pull => peer is SocketType.Push,
        SocketType.Pair => peer is SocketType.Pair,
        _ => false,
    };

    /// <summary>Types whose READY carries an Identity property (the ones a ROUTER can address).</summary>
    internal static bool SendsIdentity(SocketType type) => type is SocketType.Req or SocketType.Dealer or SocketType.Router;
}
