using System.Buffers.Binary;
using Engine.Sessions;

namespace Engine.Patterns;

/// <summary>
/// REQ (RFC 28): send a request to one peer (round-robin), then receive exactly its reply.
/// The request goes out behind an empty delimiter frame; the reply's delimiter is stripped.
/// </summary>
/// <remarks>
/// Strict alternation by default, with a clear <see cref="InvalidOperationException"/> on misuse.
/// <c>Relaxed</c> lets a new request go out before the reply (Lazy Pirate retries); <c>Correlate</c>
/// puts a request id in front, so that a late reply to an abandoned request is discarded, never
/// taken for the answer to the new one.
/// </remarks>
internal sealed class RequestPattern : ISendStrategy, IReceiveStrategy
{
    private readonly LoadBalancer _balancer = new();
    private readonly FairQueue _queue = new();
    private readonly Func<bool> _relaxed;
    private readonly Func<bool> _correlate;
    private Msg[] _outgoing = new Msg[8];
    private bool _awaitingReply;
    private bool _deliveringReply;
    private Peer? _replyFrom;
    private uint _requestId = (uint)Random.Shared.Next();

    internal RequestPattern(Func<bool> relaxed, Func<bool> correlate)
    {
        _relaxed = relaxed;
        _correlate = correlate;
    }

    void ISendStrategy.Attach(Peer peer) => _balancer.Attach(peer);

    void ISendStrategy.Detach(Peer peer) => _balancer.Detach(peer);

    void IReceiveStrategy.Attach(Peer peer) => _queue.Attach(peer);

    void IReceiveStrategy.Detach(Peer peer) => _queue.Detach(peer);

    Peer? IReceiveStrategy.SolePeer => _queue.SolePeer;

    public bool HasRoom() => _balancer.HasRoom();

    public bool TrySend(Span<Msg> staged, ref Msg last)
    {
        if (_awaitingReply && !_relaxed())
        {
            throw new InvalidOperationException("REQ: receive the reply to the previous request before sending another (or set RequestRelaxed).");
        }

        bool correlate = _correlate();
        int prefix = correlate ? 2 : 1;
        int count = prefix + staged.Length;
        if (_outgoing.Length < count)
        {
            _outgoing = new Msg[count * 2];
        }

        uint id = _requestId + 1;
        if (correlate)
        {
            _outgoing[0] = Msg.Allocate(4);
            BinaryPrimitives.WriteUInt32BigEndian(_outgoing[0].WritableSpan, id);
            _outgoing[0].More = true;
        }

        _outgoing[prefix - 1] = new Msg { More = true };
        staged.CopyTo(_outgoing.AsSpan(prefix));
        bool sent = _balancer.TrySend(_outgoing.AsSpan(0, count), ref last, out Peer? chosen);
        if (!sent)
        {
            // Nothing was taken: the staged frames still belong to the socket; only our prefix is ours.
            _outgoing[0].Dispose();
            _outgoing.AsSpan(0, count).Clear();
            return false;
        }

        staged.Clear();
        _requestId = id;
        _awaitingReply = true;
        _deliveringReply = false;
        _replyFrom = chosen;
        return true;
    }

    public bool TryReceive(out Msg frame)
    {
        if (!_awaitingReply)
        {
            throw new InvalidOperationException("REQ: send a request before receiving a reply.");
        }

        while (_queue.TryReceive(out frame, out Peer? from))
        {
            if (_deliveringReply)
            {
                if (!frame.More)
                {
                    _deliveringReply = false;
                    _awaitingReply = false;
                }

                return true;
            }

            // First frame of a message: accept it only as the reply to our current request.
            if (from != _replyFrom || !AcceptEnvelope(ref frame, from!))
            {
                continue;
            }

            if (!frame.More)
            {
                _awaitingReply = false;
            }
            else
            {
                _deliveringReply = true;
            }

            return true;
        }

        return false;
    }

    /// <summary>Checks (and strips) the request id and the delimiter; on a mismatch discards the message.</summary>
    private bool AcceptEnvelope(ref Msg frame, Peer from)
    {
        if (_correlate())
        {
            bool matches = frame.Length == 4 && frame.More && BinaryPrimitives.ReadUInt32BigEndian(frame.Span) == _requestId;
            if (!matches || !_queue.TryReceive(out Msg next, out _))
            {
                Discard(ref frame, from);
                return false;
            }

            frame.Dispose();
            frame = next;
        }

        if (frame.Length != 0 || !frame.More || !_queue.TryReceive(out Msg body, out _))
        {
            Discard(ref frame, from);
            return false;
        }

        frame.Dispose();
        frame = body;
        return true;
    }

    private void Discard(ref Msg frame, Peer from)
    {
        bool more = frame.More;
        frame.Dispose();
        if (more)
        {
            _queue.DiscardRest(from);
        }
    }
}
