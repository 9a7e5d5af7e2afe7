using System.Buffers;
using Engine.Lifetime;
using Engine.Wire;

namespace Engine.Sessions;

/// <summary>ZMTP commands as the decoder meets them: PING/PONG, DRAIN/DRAINED, ERROR, SUBSCRIBE/CANCEL.</summary>
internal sealed partial class Session
{
    private byte[]? _pongContext;
    private int _pongLength;
    private int _pongPending;

    private void HandleCommand(ReadOnlySequence<byte> body)
    {
        Span<byte> copy = stackalloc byte[(int)Math.Min(body.Length, 512)];
        scoped ReadOnlySpan<byte> span;
        if (body.IsSingleSegment)
        {
            span = body.FirstSpan;
        }
        else if (body.Length <= copy.Length)
        {
            body.CopyTo(copy);
            span = copy[..(int)body.Length];
        }
        else
        {
            // A long command across segments: its first 512 bytes hold any name (at most 255) and
            // all we read of PING, PONG and ERROR. Only a subscription needs all of its topic, so
            // a peer sending large unknown commands causes no allocation per command.
            body.Slice(0, copy.Length).CopyTo(copy);
            span = copy;
            if (_owner.Type is SocketType.Pub or SocketType.XPub && Commands.TryParse(span, out ReadOnlySpan<byte> longName, out _)
                && (longName.SequenceEqual(Commands.Subscribe) || longName.SequenceEqual(Commands.Cancel)))
            {
                span = body.ToArray();
            }
        }

        if (!Commands.TryParse(span, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> data))
        {
            throw new ProtocolViolationException(ProtocolError.MalformedCommand, $"command name of {span[0]} bytes in a {span.Length}-byte command");
        }

        if (name.SequenceEqual(Commands.Ping))
        {
            if (data.Length < 2)
            {
                throw new ProtocolViolationException(ProtocolError.MalformedCommand, "PING without TTL");
            }

            SchedulePong(data[2..]);
            OnRemoteTtl(System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(data) * 100);
        }
        else if (name.SequenceEqual(Commands.Drain))
        {
            // The peer is draining: stop routing to it; the send loop answers DRAINED once nothing more can go to it.
            // Only the first DRAIN counts: each one queues a command for the application's thread,
            // which applies them only when it next sends, so a repeated DRAIN would grow that queue without bound.
            if (_peer!.DrainRequested)
            {
                return;
            }

            _peer.DrainRequested = true;
            _owner.OnPeerDraining(_peer, this);
            _peer.SendLoopWaiter.Signal();
        }
        else if (name.SequenceEqual(Commands.Drained))
        {
            // Everything it will ever send us is in hand: make it visible before saying the stream ended.
            if (_stagedCount > 0)
            {
                throw new ProtocolViolationException(ProtocolError.UnexpectedCommand, "DRAINED inside a multipart message");
            }

            _peer!.Inbound?.Flush();
            _peer.EndOfStream = true;
            _owner.OnPeerEnded();
        }
        else if (name.SequenceEqual(Commands.Error))
        {
            _connection.Abort(ShutdownReason.PeerSentError, Commands.ParseErrorReason(data));
        }
        else if (name.SequenceEqual(Commands.Ready))
        {
            throw new ProtocolViolationException(ProtocolError.UnexpectedCommand, "READY after the handshake");
        }
        else if (_owner.Type is SocketType.Pub or SocketType.XPub
            && (name.SequenceEqual(Commands.Subscribe) || name.SequenceEqual(Commands.Cancel)))
        {
            DeliverSubscription(name[0] == (byte)'S', data);
        }

        // PONG only proves the peer is alive (any traffic does); unknown commands are ignored so
        // that newer peers can extend the protocol.
    }

    /// <summary>Turns a 3.1 SUBSCRIBE/CANCEL command into the 3.0 message form publishers read from their pipes.</summary>
    private void DeliverSubscription(bool subscribe, ReadOnlySpan<byte> topic)
    {
        if (_stagedCount > 0)
        {
            throw new ProtocolViolationException(ProtocolError.UnexpectedCommand, "subscription inside a multipart message");
        }

        Msg frame = _allocator.Allocate(topic.Length + 1);
        frame.WritableSpan[0] = subscribe ? (byte)1 : (byte)0;
        topic.CopyTo(frame.WritableSpan[1..]);
        Deliver(ref frame, _peer!.Inbound);
    }

    private void SchedulePong(ReadOnlySpan<byte> context)
    {
        if (Volatile.Read(ref _pongPending) != 0)
        {
            return;
        }

        _pongContext ??= new byte[Commands.MaxPingContext];
        _pongLength = Math.Min(context.Length, Commands.MaxPingContext);
        context[.._pongLength].CopyTo(_pongContext);
        Volatile.Write(ref _pongPending, 1);
        _peer?.SendLoopWaiter.Signal();
    }
}
