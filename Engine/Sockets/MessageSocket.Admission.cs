using System.Buffers.Binary;
using Engine.Patterns;
using Engine.Sessions;

namespace Engine.Sockets;

public abstract partial class MessageSocket
{
    private readonly object _routingGate = new();
    private readonly Dictionary<byte[], Peer> _routingIds = new(RoutingIdComparer.Instance);
    private uint _nextGeneratedId = (uint)Random.Shared.Next();

    /// <summary>True when a connecting peer is handed to the strategies at Connect (its pipe queues before the connection is up).</summary>
    /// <remarks>A ROUTER only learns a peer's routing id in the handshake, so it attaches then.</remarks>
    private protected virtual bool AttachOnConnect => Type != SocketType.Router;

    /// <summary>
    /// Called by a session after a successful handshake, before the peer is attached: applies what
    /// the socket type requires of a new connection.
    /// </summary>
    /// <returns>Null to accept the peer; otherwise why it is refused.</returns>
    internal string? AdmitPeer(Peer peer, in HandshakeResult handshake)
    {
        if (Type == SocketType.Pair && Interlocked.CompareExchange(ref _pairHolder, peer, null) is { } holder && holder != peer)
        {
            // One slot, claimed atomically: two handshakes finishing together both saw no other
            // active peer when this looked at SessionActive, which is set only later.
            return "PAIR socket already has a peer";
        }

        if (Type == SocketType.Router)
        {
            string? refusal = AssignRoutingId(peer, handshake.PeerIdentity);
            if (refusal is not null)
            {
                return refusal;
            }
        }

        Subscriptions?.Resend(peer);
        if (peer.Persistent && !peer.Attached && !AttachUnlessHandedOver(peer))
        {
            return "routing id taken over by a new connection";
        }

        return null;
    }

    /// <summary>
    /// Attaches a newly admitted peer; a ROUTER only while the peer still holds its routing id,
    /// checked and attached under the lock that hands ids over. Otherwise a handover that came
    /// between admission and attach (when the old session could not yet be aborted, or its
    /// attach would be applied after the newcomer's) left the id routed to the old connection,
    /// and once that ended, to nobody, for the newcomer's whole life.
    /// </summary>
    /// <returns>False when the id was handed over meanwhile: the caller closes this connection.</returns>
    internal bool AttachUnlessHandedOver(Peer peer)
    {
        if (Type != SocketType.Router)
        {
            AttachPeer(peer);
            return true;
        }

        lock (_routingGate)
        {
            if (peer.RoutingId is null || !_routingIds.TryGetValue(peer.RoutingId, out Peer? holder) || holder != peer)
            {
                return false;
            }

            AttachPeer(peer);
            return true;
        }
    }

    /// <summary>PAIR: the peer whose connection holds the socket's one slot.</summary>
    private Peer? _pairHolder;

    /// <summary>PAIR: the connection of <paramref name="peer"/> ended (or the peer left): the slot is free again.</summary>
    internal void LeavePairSlot(Peer peer) => Interlocked.CompareExchange(ref _pairHolder, null, peer);

    private string? AssignRoutingId(Peer peer, byte[]? announced)
    {
        lock (_routingGate)
        {
            byte[] id = announced ?? peer.RoutingId ?? GenerateRoutingId();
            if (_routingIds.TryGetValue(id, out Peer? holder) && holder != peer)
            {
                if (!Options.RouterHandover)
                {
                    return $"routing id {RoutingIdComparer.Format(id)} is already in use by another peer";
                }

                // Handover: the newcomer takes the id; the old connection is closed.
                holder.CurrentSession?.Abort(Lifetime.ShutdownReason.Disconnected, "routing id taken over by a new connection");
            }

            if (peer.RoutingId is not null && !RoutingIdComparer.Instance.Equals(peer.RoutingId, id))
            {
                // A reconnecting peer keeps the id the application already knows it by.
                return null;
            }

            _routingIds[id] = peer;
            peer.RoutingId = id;
            return null;
        }
    }

    /// <summary>libzmq's shape for generated ids: a zero byte (never a valid announced identity) and a 32-bit counter.</summary>
    private byte[] GenerateRoutingId()
    {
        var id = new byte[5];
        BinaryPrimitives.WriteUInt32BigEndian(id.AsSpan(1), ++_nextGeneratedId);
        return id;
    }

    private void ReleaseRoutingId(Peer peer)
    {
        if (peer.RoutingId is null)
        {
            return;
        }

        lock (_routingGate)
        {
            if (_routingIds.TryGetValue(peer.RoutingId, out Peer? holder) && holder == peer)
            {
                _routingIds.Remove(peer.RoutingId);
            }
        }
    }
}
