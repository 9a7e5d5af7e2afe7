using System.Buffers;
using System.IO.Pipelines;
using Engine.Diagnostics;
using Engine.Lifetime;
using Engine.Pipes;
using Engine.Wire;

namespace Engine.Sessions;

internal sealed partial class Session
{
    private async Task ReceiveLoopAsync(Peer peer)
    {
        PipeReader input = _connection.Input;
        MessagePipe? inbound = peer.Inbound;
        try
        {
            while (true)
            {
                ReadResult read = await input.ReadAsync().ConfigureAwait(false);
                if (read.IsCanceled)
                {
                    return;
                }

                bool blocked = DecodeRead(input, read.Buffer, peer, inbound);

                if (blocked)
                {
                    await WaitForRoomAsync(peer, inbound!).ConfigureAwait(false);
                    continue;
                }

                if (read.IsCompleted)
                {
                    AbortAtEndOfStream();
                    return;
                }
            }
        }
        catch (ProtocolViolationException violation)
        {
            ReportViolation(peer, violation);
        }
        catch (Exception e) when (IsConnectionError(e))
        {
            _connection.Abort(ShutdownReason.ReceiveSocketError, e.Message);
        }
    }

    /// <summary>
    /// Decodes one read's bytes into the inbound pipe and gives back what was consumed: the step
    /// both kinds of reader share (the receive loop over a PipeReader, and whoever holds the read
    /// token of a connection that reads its socket itself). True when it stopped at the HWM.
    /// </summary>
    private bool DecodeRead(PipeReader input, in ReadOnlySequence<byte> buffer, Peer peer, MessagePipe? inbound)
    {
        MarkReceived(peer);
        long received = _messagesReceived;
        SequencePosition consumed = Decode(buffer, inbound, out bool blocked);
        long used = buffer.Slice(0, consumed).Length;
        _undecodedBytes = buffer.Length - used;
        EngineMetrics.BytesReceived.Add(used);
        EngineMetrics.MessagesReceived.Add(_messagesReceived - received);
        input.AdvanceTo(consumed, blocked ? consumed : buffer.End);
        inbound?.Flush();
        return blocked;
    }

    /// <summary>The peer closed its end: say whether it did so in the middle of a frame or message.</summary>
    private void AbortAtEndOfStream()
    {
        bool truncated = _undecodedBytes > 0 || _partial._buffer is not null || _messageFrames > 0;
        _connection.Abort(ShutdownReason.ReceiveEndOfStream, truncated ? "truncated frame at end of stream" : null);
    }

    /// <summary>Anything from the peer proves it alive (heartbeats, a drain's quiet period).</summary>
    private void MarkReceived(Peer peer)
    {
        long now = Environment.TickCount64;
        Volatile.Write(ref _lastReceivedTicks, now);
        Volatile.Write(ref peer.LastReceivedTicks, now);
    }

    /// <summary>
    /// Deliver what was complete before the bad frame, then let the send loop say why we hang up
    /// (it owns the writer) before the session aborts the connection.
    /// </summary>
    private void ReportViolation(Peer peer, ProtocolViolationException violation)
    {
        peer.Inbound?.Flush();
        Volatile.Write(ref _violation, violation.Message);
        peer.SendLoopWaiter.Signal();
    }

    /// <summary>Read once per connection, before anything is decoded, like every option that shapes one.</summary>
    private void ReadMessageLimits()
    {
        long messageLimit = _owner.Options.MaxMessageSize >= 0 ? _owner.Options.MaxMessageSize : long.MaxValue;
        long bufferLimit = _owner.Options.MaxBufferedBytes >= 0 ? _owner.Options.MaxBufferedBytes : long.MaxValue;
        _maxMessageBytes = Math.Min(messageLimit, bufferLimit);
        _messageLimitName = bufferLimit < messageLimit ? nameof(SocketOptions.MaxBufferedBytes) : nameof(SocketOptions.MaxMessageSize);
        _maxMessageFrames = _owner.Options.MaxFramesPerMessage > 0 ? _owner.Options.MaxFramesPerMessage : int.MaxValue;
    }

    // Pooled: a connection parks every time it goes idle, so this must not allocate per park.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WaitForRoomAsync(Peer peer, MessagePipe inbound)
    {
        while (!_connection.IsAborted)
        {
            peer.ReceiveLoopWaiter.Prepare();
            if (inbound.CanWrite || _connection.IsAborted)
            {
                peer.ReceiveLoopWaiter.Cancel();
                return;
            }

            await peer.ReceiveLoopWaiter.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }
}
