using System.Buffers;
using System.IO.Pipelines;
using Engine.Lifetime;
using Engine.Wire;
using Engine.Wire.Mechanisms;

namespace Engine.Transport;

/// <summary>
/// Puts CURVE's MESSAGE boxes between a connection and its session once the handshake is done:
/// the session keeps reading and writing plain ZMTP frames (so its loops, limits and zero-copy
/// paths stay as they are for NULL and PLAIN), and two pumps translate each frame to and from a
/// MESSAGE command whose flags byte carries MORE and COMMAND.
/// </summary>
/// <remarks>
/// Costs per frame: one extra copy each way, and for boxes that arrive split across segments a
/// rented (pooled) buffer; no allocation per message. Any frame that is not a MESSAGE, does not
/// authenticate, or repeats a nonce ends the connection with the reason.
/// </remarks>
internal sealed class CurveFilter
{
    private readonly CurveCodec _codec;
    private readonly PipeReader _wireIn;
    private readonly PipeWriter _wireOut;
    private readonly Pipe _plainIn = new(new PipeOptions(pool: Buffers.SlabMemoryPool.Instance, minimumSegmentSize: StreamConnection.SegmentSize, useSynchronizationContext: false));
    // Thresholds of one byte: the session's FlushAsync completes only once the pump has boxed
    // everything and flushed it to the socket (it advances after the wire flush), so "flushed"
    // means on the wire as without CURVE, and Linger and the sent counters keep their meaning.
    private readonly Pipe _plainOut = new(new PipeOptions(minimumSegmentSize: StreamConnection.SegmentSize, pauseWriterThreshold: 1, resumeWriterThreshold: 1, useSynchronizationContext: false));
    private readonly long _maxFrame;
    private readonly Action<ShutdownReason, string> _abort;

    internal CurveFilter(CurveCodec codec, PipeReader wireIn, PipeWriter wireOut, long maxFrame, Action<ShutdownReason, string> abort)
    {
        _codec = codec;
        _wireIn = wireIn;
        _wireOut = wireOut;
        _maxFrame = maxFrame;
        _abort = abort;
    }

    /// <summary>What the session reads: plain frames.</summary>
    internal PipeReader Input => _plainIn.Reader;

    /// <summary>What the session writes: plain frames.</summary>
    internal PipeWriter Output => _plainOut.Writer;

    internal Task RunAsync() => Task.WhenAll(Task.Run(DecryptLoopAsync), Task.Run(EncryptLoopAsync));

    private async Task DecryptLoopAsync()
    {
        PipeWriter plain = _plainIn.Writer;
        try
        {
            while (true)
            {
                ReadResult read = await _wireIn.ReadAsync().ConfigureAwait(false);
                if (read.IsCanceled)
                {
                    break;
                }

                ReadOnlySequence<byte> buffer = read.Buffer;
                int frames = 0;
                string? failure = null;
                while (failure is null && TryOpenFrame(ref buffer, plain, out failure))
                {
                    frames++;
                }

                _wireIn.AdvanceTo(buffer.Start, buffer.End);
                if (failure is not null)
                {
                    _abort(ShutdownReason.ProtocolViolation, failure);
                    break;
                }

                if (frames > 0 && (await plain.FlushAsync().ConfigureAwait(false)).IsCompleted)
                {
                    break;
                }

                if (read.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
        }

        await plain.CompleteAsync().ConfigureAwait(false);
    }

    private bool TryOpenFrame(ref ReadOnlySequence<byte> buffer, PipeWriter plain, out string? failure)
    {
        failure = null;
        var reader = new SequenceReader<byte>(buffer);
        OperationStatus status = FrameCodec.TryReadHeader(ref reader, out _, out long size, out ProtocolError error);
        if (status == OperationStatus.InvalidData)
        {
            failure = ProtocolErrors.Describe(error);
            return false;
        }

        if (status == OperationStatus.NeedMoreData)
        {
            return false;
        }

        if (size < CurveCodec.Overhead || (_maxFrame >= 0 && size > _maxFrame + CurveCodec.Overhead) || size > Array.MaxLength)
        {
            // Checked on the header: a box announcing 2 GB costs nothing until its bytes arrive.
            failure = $"CURVE MESSAGE of {size} bytes ({CurveCodec.Overhead} to {_maxFrame + CurveCodec.Overhead} allowed)";
            return false;
        }

        if (reader.Remaining < size)
        {
            return false;
        }

        ReadOnlySequence<byte> body = reader.UnreadSequence.Slice(0, size);
        int payload = (int)size - CurveCodec.Overhead;
        int header = FrameCodec.HeaderSize(payload);
        Span<byte> destination = plain.GetSpan(header + payload);
        byte[]? rented = null;
        try
        {
            ReadOnlySpan<byte> box;
            if (body.IsSingleSegment)
            {
                box = body.FirstSpan;
            }
            else
            {
                rented = ArrayPool<byte>.Shared.Rent((int)size);
                body.CopyTo(rented);
                box = rented.AsSpan(0, (int)size);
            }

            // flags(1) + payload lands so that the payload is where the plain frame wants it; the
            // flags byte is then overwritten by the end of the plain frame's header.
            failure = _codec.Open(box, destination.Slice(header - 1, payload + 1));
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        if (failure is not null)
        {
            return false;
        }

        byte flags = destination[header - 1];
        FrameCodec.WriteHeader(destination, more: (flags & CurveCodec.FlagMore) != 0, command: (flags & CurveCodec.FlagCommand) != 0, payload);
        plain.Advance(header + payload);
        buffer = buffer.Slice(reader.Position).Slice(size);
        return true;
    }

    private async Task EncryptLoopAsync()
    {
        PipeReader plain = _plainOut.Reader;
        try
        {
            while (true)
            {
                ReadResult read = await plain.ReadAsync().ConfigureAwait(false);
                if (read.IsCanceled)
                {
                    break;
                }

                ReadOnlySequence<byte> buffer = read.Buffer;
                int frames = 0;
                while (TrySealFrame(ref buffer))
                {
                    frames++;
                }

                bool wireClosed = frames > 0 && (await _wireOut.FlushAsync().ConfigureAwait(false)) is { IsCompleted: true } or { IsCanceled: true };
                plain.AdvanceTo(buffer.Start, buffer.End);
                if (wireClosed)
                {
                    break;
                }

                if (read.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
        }

        await plain.CompleteAsync().ConfigureAwait(false);
    }

    private bool TrySealFrame(ref ReadOnlySequence<byte> buffer)
    {
        // Our own session wrote these frames, so they are well formed.
        var reader = new SequenceReader<byte>(buffer);
        if (FrameCodec.TryReadHeader(ref reader, out FrameFlags flags, out long size, out _) != OperationStatus.Done || reader.Remaining < size)
        {
            return false;
        }

        int payload = (int)size;
        byte[] plain = ArrayPool<byte>.Shared.Rent(payload + 1);
        try
        {
            plain[0] = (byte)(((flags & FrameFlags.More) != 0 ? CurveCodec.FlagMore : 0) | ((flags & FrameFlags.Command) != 0 ? CurveCodec.FlagCommand : 0));
            reader.UnreadSequence.Slice(0, size).CopyTo(plain.AsSpan(1));
            int bodySize = payload + CurveCodec.Overhead;
            int header = FrameCodec.HeaderSize(bodySize);
            Span<byte> destination = _wireOut.GetSpan(header + bodySize);
            // Sent as a single data frame: MORE and COMMAND travel inside the box, and libzmq opens
            // every frame after the handshake as a MESSAGE whatever its wire flags.
            FrameCodec.WriteHeader(destination, more: false, command: false, bodySize);
            _codec.Seal(destination.Slice(header, bodySize), plain.AsSpan(0, payload + 1));
            _wireOut.Advance(header + bodySize);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(plain);
        }

        buffer = buffer.Slice(reader.Position).Slice(size);
        return true;
    }
}
