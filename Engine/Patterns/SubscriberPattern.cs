using Engine.Sessions;

namespace Engine.Patterns;

/// <summary>
/// SUB and XSUB (RFC 29): receive fair-queued from publishers, keeping only messages that match a
/// subscription (publishers filter too; this also covers messages that crossed an unsubscribe).
/// XSUB sends subscription messages (<c>0x01 topic</c> / <c>0x00 topic</c>) and anything else to
/// every publisher.
/// </summary>
internal sealed class SubscriberPattern : ISendStrategy, IReceiveStrategy
{
    private readonly FairQueue _queue = new();
    private readonly SubscriptionSet _subscriptions;
    private bool _delivering;

    internal SubscriberPattern(SubscriptionSet subscriptions) => _subscriptions = subscriptions;

    // Outgoing traffic goes to every peer the socket has (see SubscriptionSet), not to a routing list.
    void ISendStrategy.Attach(Peer peer)
    {
    }

    void ISendStrategy.Detach(Peer peer)
    {
    }

    void IReceiveStrategy.Attach(Peer peer) => _queue.Attach(peer);

    void IReceiveStrategy.Detach(Peer peer) => _queue.Detach(peer);

    Peer? IReceiveStrategy.SolePeer => _queue.SolePeer;

    public bool HasRoom() => true;

    /// <summary>XSUB send: a subscription message updates the set; any message goes to all publishers.</summary>
    public bool TrySend(Span<Msg> staged, ref Msg last)
    {
        if (staged.IsEmpty && last.Length > 0 && last.Span[0] <= 1)
        {
            _subscriptions.Update(last.Span);
        }
        else
        {
            for (int i = 0; i < staged.Length; i++)
            {
                _subscriptions.WriteToAll(staged[i].Span, more: true);
                staged[i].Dispose();
            }

            _subscriptions.WriteToAll(last.Span, more: false);
        }

        last.Dispose();
        return true;
    }

    public bool TryReceive(out Msg frame)
    {
        while (_queue.TryReceive(out frame, out Peer? from))
        {
            if (_delivering)
            {
                _delivering = frame.More;
                return true;
            }

            if (_subscriptions.Matches(frame.Span))
            {
                _delivering = frame.More;
                return true;
            }

            bool more = frame.More;
            frame.Dispose();
            if (more)
            {
                _queue.DiscardRest(from!);
            }
        }

        return false;
    }
}
