using System.Buffers;
using System.Runtime.CompilerServices;
using Engine.Buffers;
using Engine.Pipes;
using Engine.Wire;

namespace Engine.Sessions;

/// <summary>
/// Decoding a connection's bytes into frames: bookkeeping over the received sequence, done by
/// whoever holds the read token (the receive loop or a direct read), without awaiting.
/// </summary>
internal sealed partial class Session
{
    /// <summary>Frames up to this size are allocated when their header arrives; larger ones only once all their bytes are here.</summary>
    /// <remarks>
    /// A peer that announces a 2 GB frame and stalls must not make us reserve 2 GB (libzmq does):
    /// above this size memory grows with the bytes that really arrived (they wait in the pipe's
    /// pooled segments and are copied once, as an eagerly allocated frame's would be). 64 KiB, one
    /// pipe segment: what a connection that announces frames and sends nothing can make us reserve
    /// is then no more than a read buffer, however many such connections there are.
    /// </remarks>
    internal const int EagerAllocationLimit = 64 * 1024;

    private const int MaxCommandSize = 64 * 1024;

    /// <summary>
    /// Frames at least this long are handed out as views of the receive buffer. Shorter ones are
    /// copied into a slab: for a few dozen bytes the copy costs less than finding the segment.
    /// </summary>
    private const int ZeroCopyThreshold = 64;

    // Receive-loop-only state: a frame whose body is still arriving, and the frames of a multipart
    // message that is not complete yet (never visible to the application until its last frame).
    private Msg _partial;
    private int _partialFilled;
    // Bytes of the last read that decoding left for later (part of a frame, or held back at the HWM).
    private long _undecodedBytes;
    private bool _partialMore;
    private Msg[] _staged = new Msg[8];
    private int _stagedCount;
    // The message being received: frames taken so far (all with MORE) and their bytes, checked
    // against the limits on every frame header so that no message outgrows them.
    private int _messageFrames;
    private long _messageBytes;
    private long _maxMessageBytes;
    private int _maxMessageFrames;
    private string _messageLimitName = nameof(SocketOptions.MaxMessageSize);
    private long _messagesReceived;
    private MsgBuffer? _sharedSegment;
    private int _shareReserved;
    private const int ShareReservation = 256;

    /// <summary>
    /// Decodes as many frames as the buffer holds. Synchronous: the per-message path has no awaits.
    /// Returns where decoding stopped; <paramref name="blocked"/> says it stopped at the HWM.
    /// </summary>
    private SequencePosition Decode(in ReadOnlySequence<byte> buffer, MessagePipe? inbound, out bool blocked)
    {
        blocked = false;
        var reader = new SequenceReader<byte>(buffer);
        while (true)
        {
            if (_partial._buffer is not null)
            {
                if (!ContinuePartial(ref reader))
                {
                    break;
                }

                continue;
            }

            if (DecodeShortFrames(ref reader, inbound))
            {
                continue;
            }

            long headerStart = reader.Consumed;
            OperationStatus status = FrameCodec.TryReadHeader(ref reader, out FrameFlags flags, out long size, out ProtocolError error);
            if (status == OperationStatus.NeedMoreData)
            {
                break;
            }

            if (status == OperationStatus.InvalidData)
            {
                throw new ProtocolViolationException(error, $"flags 0x{(byte)flags:X2}");
            }

            if ((flags & FrameFlags.Command) != 0)
            {
                if (size > MaxCommandSize || size == 0)
                {
                    // An empty command has no name (NetMQ aborts its process on one); a huge one is
                    // refused on its header, before it is buffered.
                    throw new ProtocolViolationException(ProtocolError.MalformedCommand, $"command of {size} bytes (1 to {MaxCommandSize} allowed)");
                }

                if (reader.Remaining < size)
                {
                    reader.Rewind(reader.Consumed - headerStart);
                    break;
                }

                HandleCommand(reader.UnreadSequence.Slice(0, size));
                reader.Advance(size);
                continue;
            }

            // Limits are checked on the header, before a byte of the body is buffered or allocated.
            CheckMessageLimits(size);

            if (_stagedCount == 0 && inbound is not null && !inbound.CanWrite)
            {
                reader.Rewind(reader.Consumed - headerStart);
                blocked = true;
                break;
            }

            bool more = (flags & FrameFlags.More) != 0;
            if (size > EagerAllocationLimit && reader.Remaining < size)
            {
                // Wait until the whole body is buffered; see EagerAllocationLimit.
                reader.Rewind(reader.Consumed - headerStart);
                break;
            }

            int length = (int)size;
            if (more)
            {
                _messageFrames++;
                _messageBytes += size;
            }
            else
            {
                _messageFrames = 0;
                _messageBytes = 0;
            }

            // Only a message's last frame may be a view: a staged view would keep its whole 64 KiB
            // segment alive until the message completes, so a peer putting large (ignored)
            // commands between 64-byte frames could pin 1024 segments while MaxBufferedBytes
            // counted 64 KiB. Copied staged frames cost exactly what they count.
            if (!more && length >= ZeroCopyThreshold && reader.UnreadSpan.Length >= length
                && SlabMemoryPool.TryLocate(reader.UnreadSequence.First, out MsgBuffer? segment, out int start))
            {
                // The whole body is inside one receive segment: hand out a view of it, no copy.
                Msg shared = Share(segment, start, length);
                reader.Advance(length);
                shared._more = more;
                Deliver(ref shared, inbound);
                continue;
            }

            Msg frame = _allocator.Allocate(length);
            if (reader.Remaining >= length)
            {
                reader.TryCopyTo(frame.WritableSpan);
                reader.Advance(length);
                frame._more = more;
                Deliver(ref frame, inbound);
                continue;
            }

            _partial = frame;
            _partialFilled = 0;
            _partialMore = more;
        }

        return reader.Position;
    }

    /// <summary>
    /// The common shape of a stream of small messages, decoded straight from the current segment:
    /// short data frames (flags 0 or MORE, body under <see cref="ZeroCopyThreshold"/> or not a
    /// message's last frame) that lie wholly in it. Everything else (commands, long or partial
    /// frames, the HWM) is left to the general path, which takes the same decisions frame by frame.
    /// </summary>
    /// <returns>True when at least one frame was taken (the caller looks again).</returns>
    private bool DecodeShortFrames(ref SequenceReader<byte> reader, MessagePipe? inbound)
    {
        ReadOnlySpan<byte> span = reader.UnreadSpan;
        int position = 0;
        while (span.Length - position >= 2)
        {
            int flags = span[position];
            int length = span[position + 1];
            bool more = flags == (int)FrameFlags.More;
            if ((flags & ~(int)FrameFlags.More) != 0
                || span.Length - position - 2 < length
                || (!more && length >= ZeroCopyThreshold))
            {
                break;
            }

            CheckMessageLimits(length);
            if (_stagedCount == 0 && inbound is not null && !inbound.CanWrite)
            {
                break;
            }

            if (more)
            {
                _messageFrames++;
                _messageBytes += length;
            }
            else
            {
                _messageFrames = 0;
                _messageBytes = 0;
            }

            Msg frame = _allocator.Allocate(length);
            FrameCodec.CopyBody(span.Slice(position + 2, length), frame.WritableSpan);
            frame._more = more;
            Deliver(ref frame, inbound);
            position += 2 + length;
        }

        reader.Advance(position);
        return position != 0;
    }

    /// <summary>
    /// Refuses a frame that would take its message past <see cref="SocketOptions.MaxMessageSize"/> or
    /// <see cref="SocketOptions.MaxBufferedBytes"/> (all frames added up) or
    /// <see cref="SocketOptions.MaxFramesPerMessage"/>. Together with
    /// lazy allocation (<see cref="EagerAllocationLimit"/>) this bounds what one connection holds
    /// for a message that has not fully arrived: at most the limit, whatever the peer announces.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckMessageLimits(long size)
    {
        if (size > _maxMessageBytes - _messageBytes || size > Array.MaxLength)
        {
            ThrowMessageTooLarge(size);
        }

        if (_messageFrames >= _maxMessageFrames)
        {
            throw new ProtocolViolationException(ProtocolError.TooManyFrames, $"limit {_maxMessageFrames} (MaxFramesPerMessage)");
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowMessageTooLarge(long size)
    {
        if (size > Array.MaxLength && _maxMessageBytes >= Array.MaxLength)
        {
            throw new ProtocolViolationException(ProtocolError.FrameTooLarge, $"frame of {size} bytes, at most {Array.MaxLength} can be held");
        }

        string what = _messageFrames == 0
            ? $"frame of {size} bytes"
            : $"{_messageBytes + size} bytes in {_messageFrames + 1} frames so far";
        throw new ProtocolViolationException(ProtocolError.MessageTooLarge, $"{what}, limit {_maxMessageBytes} ({_messageLimitName})");
    }

    private bool ContinuePartial(ref SequenceReader<byte> reader)
    {
        int missing = _partial._length - _partialFilled;
        int take = (int)Math.Min(missing, reader.Remaining);
        if (take == 0)
        {
            return false;
        }

        reader.TryCopyTo(_partial.WritableSpan.Slice(_partialFilled, take));
        reader.Advance(take);
        _partialFilled += take;
        if (_partialFilled < _partial._length)
        {
            return false;
        }

        Msg frame = Msg.Take(ref _partial);
        frame._more = _partialMore;
        Deliver(ref frame, _peer!.Inbound);
        return true;
    }

    /// <summary>
    /// A frame over a receive segment. References are taken in batches (see SlabAllocator) so the
    /// segment's counter is not bounced between this loop and the application's thread per frame.
    /// </summary>
    private Msg Share(MsgBuffer segment, int start, int length)
    {
        if (segment != _sharedSegment)
        {
            ReleaseShareReservation();
            _sharedSegment = segment;
        }

        if (_shareReserved == 0)
        {
            segment.AddReferences(ShareReservation);
            _shareReserved = ShareReservation;
        }

        _shareReserved--;
        return new Msg(segment, start, length);
    }

    private void ReleaseShareReservation()
    {
        if (_sharedSegment is not null && _shareReserved > 0)
        {
            _sharedSegment.Release(_shareReserved);
        }

        _sharedSegment = null;
        _shareReserved = 0;
    }

    /// <summary>Stages a frame; at the last frame of a message writes all of it into the pipe at once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Deliver(ref Msg frame, MessagePipe? inbound)
    {
        if (inbound is null)
        {
            // A send-only socket (PUSH) has no use for messages; the pattern RFCs say to discard them.
            frame.Dispose();
            return;
        }

        if (frame._more)
        {
            if (_stagedCount == _staged.Length)
            {
                Array.Resize(ref _staged, _staged.Length * 2);
            }

            _staged[_stagedCount++] = Msg.Take(ref frame);
            return;
        }

        for (int i = 0; i < _stagedCount; i++)
        {
            inbound.Write(ref _staged[i]);
        }

        _stagedCount = 0;
        inbound.Write(ref frame);
        _messagesReceived++;
    }

    private void DiscardPartialMessage()
    {
        ReleaseShareReservation();
        _partial.Dispose();
        for (int i = 0; i < _stagedCount; i++)
        {
            _staged[i].Dispose();
        }

        _stagedCount = 0;
    }
}
