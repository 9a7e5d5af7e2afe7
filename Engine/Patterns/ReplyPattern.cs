using Engine.Sessions;

namespace Engine.Patterns;

/// <summary>
/// REP (RFC 28): receive one request (fair-queued), then send exactly one reply to the peer it came
/// from. The request's envelope (routing frames up to and including the empty delimiter) is kept
/// and put back in front of the reply, so REP works behind ROUTER/DEALER chains too.
/// </summary>
internal sealed class ReplyPattern : ISendStrategy, IReceiveStrategy
{
    private readonly FairQueue _queue = new();
    private readonly List<Msg> _envelope = new();
    private Peer? _replyTo;
    private bool _replyDue;
    private bool _deliveringRequest;
    private Msg[] _outgoing = new Msg[8];

    /// <summary>Replies dropped because the requester had gone or its pipe was full.</summary>
    internal long DroppedReplies { get; private set; }

    void ISendStrategy.Attach(Peer peer)
    {
    }

    void ISendStrategy.Detach(Peer peer)
    {
        if (peer == _replyTo)
        {
            _replyTo = null;
        }
    }

    void IReceiveStrategy.Attach(Peer peer) => _queue.Attach(peer);

    void IReceiveStrategy.Detach(Peer peer) => _queue.Detach(peer);

    Peer? IReceiveStrategy.SolePeer => _queue.SolePeer;

    public bool HasRoom() => true;

    public bool TrySend(Span<Msg> staged, ref Msg last)
    {
        if (!_replyDue)
        {
            throw new InvalidOperationException("REP: receive a request before sending a reply.");
        }

        Peer? target = _replyTo;
        if (target is null || target.Detached || !target.Outbound!.CanWrite)
        {
            // libzmq drops here too: the requester left or is not reading. Its REQ will time out and retry.
            DroppedReplies++;
            DisposeAll(staged);
            last.Dispose();
            FinishReply();
            return true;
        }

        int count = _envelope.Count + staged.Length;
        if (_outgoing.Length < count)
        {
            _outgoing = new Msg[count * 2];
        }

        for (int i = 0; i < _envelope.Count; i++)
        {
            _outgoing[i] = _envelope[i];
        }

        _envelope.Clear();
        staged.CopyTo(_outgoing.AsSpan(count - staged.Length));
        staged.Clear();
        var pipe = target.Outbound!;
        for (int i = 0; i < count; i++)
        {
            pipe.Write(ref _outgoing[i]);
        }

        pipe.Write(ref last);
        pipe.Flush();
        FinishReply();
        return true;
    }

    public bool TryReceive(out Msg frame)
    {
        if (_replyDue && !_deliveringRequest)
        {
            throw new InvalidOperationException("REP: send the reply to the current request before receiving the next one.");
        }

        while (_queue.TryReceive(out frame, out Peer? from))
        {
            if (_deliveringRequest)
            {
                _deliveringRequest = frame.More;
                return true;
            }

            if (!ReadEnvelope(ref frame, from!))
            {
                continue;
            }

            _replyTo = from;
            _replyDue = true;
            _deliveringRequest = frame.More;
            return true;
        }

        return false;
    }

    /// <summary>Moves frames up to the empty delimiter into the envelope; leaves the first body frame in <paramref name="frame"/>.</summary>
    private bool ReadEnvelope(ref Msg frame, Peer from)
    {
        ReleaseEnvelope();
        while (true)
        {
            if (!frame.More)
            {
                // No delimiter: not a request we can answer (RFC 28 says discard).
                frame.Dispose();
                ReleaseEnvelope();
                return false;
            }

            bool delimiter = frame.Length == 0;
            _envelope.Add(frame);
            if (!_queue.TryReceive(out frame, out _))
            {
                ReleaseEnvelope();
                return false;
            }

            if (delimiter)
            {
                return true;
            }
        }
    }

    private void FinishReply()
    {
        _replyDue = false;
        _replyTo = null;
        ReleaseEnvelope();
    }

    private void ReleaseEnvelope()
    {
        foreach (Msg frame in _envelope)
        {
            frame.Dispose();
        }

        _envelope.Clear();
    }

    private static void DisposeAll(Span<Msg> frames)
    {
        for (int i = 0; i < frames.Length; i++)
        {
            frames[i].Dispose();
        }
    }
}
