using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Engine.Buffers;
using Engine.Diagnostics;
using Engine.Lifetime;
using Engine.Pipes;
using Engine.Wire;

namespace Engine.Sessions;

internal sealed partial class Session
{
    /// <summary>
    /// Bytes encoded before a flush is forced, even if more messages wait. It bounds buffered memory
    /// and, more importantly, what a connection that dies mid-flush can take with it: a batch whose
    /// flush failed may be partly in the peer's hands, so it is never re-sent (that could deliver
    /// twice); at most this much is of unknown fate, like the kernel's socket buffers.
    /// </summary>
    private const int FlushThreshold = 64 * 1024;

    private const int MaxBatchFrames = 1024;

    /// <summary>
    /// Takes whole batches from the outbound pipe, encodes them straight into the connection's
    /// PipeWriter and flushes once per batch (one system call for many messages). What is still in
    /// the pipe when the connection ends was never handed to it and can be re-routed without
    /// duplicates; a batch whose flush failed is of unknown fate (counted, not re-sent).
    /// </summary>
    private async Task SendLoopAsync(Peer peer)
    {
        PipeWriter output = _connection.Output;
        MessagePipe? outbound = peer.Outbound;
        // What was encoded since the last flush: frames (bounded per batch) and whole messages.
        int frames = 0;
        long messages = 0;
        bool subscriptionsAsCommands = _peerIs31 && _owner.Type is SocketType.Sub or SocketType.XSub;
        bool midMessage = false;
        // Plain connections write large frames from the frames' own buffers (Session.DirectSend.cs):
        // gathered, many per system call, where the socket's descriptor can be used directly.
        bool directSend = _connection.ReadsSocketDirectly;
        int gatherFd = directSend ? _connection.GatherDescriptor : -1;
        int directFrom = gatherFd >= 0 ? GatherBytes : directSend ? DirectSendBytes : int.MaxValue;
        try
        {
            await SendGreetingMessagesAsync(output).ConfigureAwait(false);

            while (!_connection.IsAborted)
            {
                if (Volatile.Read(ref _violation) is { } violation)
                {
                    output.Write(Commands.BuildError(violation));
                    await output.FlushAsync().ConfigureAwait(false);
                    return;
                }

                long bytes = 0;
                if (peer.SendDrainCommand)
                {
                    peer.SendDrainCommand = false;
                    bytes += WriteBareCommand(output, Commands.Drain);
                }

                if (peer.DrainRequested)
                {
                    if (await AnswerDrainAsync(peer, output).ConfigureAwait(false))
                    {
                        // DRAINED is out: nothing more goes to this peer. Stay up for PONGs until it closes.
                        await ServeAfterDrainedAsync(peer, output).ConfigureAwait(false);
                        return;
                    }

                    continue;
                }

                Msg large = default;
                if (outbound is not null)
                {
                    bytes += EncodeBatch(output, outbound, ref frames, ref messages, ref midMessage, subscriptionsAsCommands, FlushThreshold - bytes, directFrom, ref large);
                }

                if (large._buffer is not null)
                {
                    // A large frame goes out from its own buffer: what was encoded before it first.
                    if (bytes > 0)
                    {
                        FlushResult before = await output.FlushAsync().ConfigureAwait(false);
                        if (before.IsCanceled || before.IsCompleted)
                        {
                            large.Dispose();
                            break;
                        }
                    }

                    bytes += gatherFd >= 0
                        ? SendGathered(output, outbound!, ref large, ref frames, ref messages, ref midMessage, FlushThreshold - bytes, gatherFd)
                        : SendFromFrame(output, ref large);
                }

                if (Volatile.Read(ref _pongPending) != 0)
                {
                    bytes += WritePong(output);
                }

                if (Volatile.Read(ref _pingPending) != 0)
                {
                    bytes += WritePing(output);
                }

                if (bytes > 0)
                {
                    FlushResult flushed = await output.FlushAsync().ConfigureAwait(false);
                    if (flushed.IsCanceled || flushed.IsCompleted)
                    {
                        break;
                    }

                    EngineMetrics.BytesSent.Add(bytes);
                    EngineMetrics.MessagesSent.Add(messages);
                    _owner.CountFlushed(messages);
                    frames = 0;
                    messages = 0;
                    outbound?.CommitRead();
                    continue;
                }

                await ParkAsync(peer, outbound).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (IsConnectionError(e))
        {
            _connection.Abort(ShutdownReason.SendSocketError, e.Message);
        }
        finally
        {
            // Possibly partly delivered: re-sending could duplicate, so they count as in flight.
            _inFlightAtEnd = messages;
        }
    }

    // Pooled: a connection parks every time it goes idle, so this must not allocate per park.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ParkAsync(Peer peer, MessagePipe? outbound, bool drained = false)
    {
        Waiter waiter = peer.SendLoopWaiter;
        waiter.Prepare();
        if ((outbound is not null && outbound.HasData && !peer.DrainRequested) || Volatile.Read(ref _pongPending) != 0 || Volatile.Read(ref _pingPending) != 0
            || (!drained && (peer.SendDrainCommand || (peer.DrainRequested && peer.RoutingStopped)))
            || Volatile.Read(ref _violation) is not null || _connection.IsAborted)
        {
            waiter.Cancel();
            return;
        }

        peer.SendIdle = true;
        // Between our write and the lingerer's parked flag: it fences between its own (Prepare,
        // then AllFlushed), so one of us sees the other, or a close would wait out its linger.
        Interlocked.MemoryBarrier();
        _owner.NotifySendIdle();
        try
        {
            await waiter.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            peer.SendIdle = false;
        }
    }

    /// <summary>
    /// Takes frames from the pipe and encodes them into the writer's current memory, asking the
    /// writer for memory once per segment rather than once per frame (small frames are mostly
    /// header bookkeeping otherwise). Synchronous: no await per message.
    /// </summary>
    /// <remarks>
    /// A frame's bytes are copied into the writer here, so its buffer is given back at once (one
    /// atomic operation per run of frames sharing a slab): the loop only has to remember how many
    /// messages the unflushed bytes hold. The loop state lives in locals, not behind the refs.
    /// A frame of at least <paramref name="directFrom"/> bytes ends the batch unencoded (in large):
    /// the caller sends it from its own buffer.
    /// </remarks>
    /// <returns>Bytes encoded.</returns>
    private static long EncodeBatch(
        PipeWriter output, MessagePipe outbound, ref int frames, ref long messages, ref bool midMessage, bool subscriptionsAsCommands, long budget, int directFrom, ref Msg large)
    {
        int taken = frames;
        long whole = messages;
        bool more = midMessage;
        long bytes = 0;
        Span<byte> window = default;
        int used = 0;
        var releases = default(ReleaseRun);
        try
        {
            while (taken < MaxBatchFrames && bytes < budget && outbound.TryRead(out Msg frame))
            {
                int length = frame._length;
                if (length >= directFrom)
                {
                    more = frame._more;
                    whole += more ? 0 : 1;
                    taken++;
                    large = frame;
                    break;
                }

                bool convert = subscriptionsAsCommands && !more && !frame._more && IsSubscription(frame);
                if (convert || length > SmallFrameBytes)
                {
                    // Rare shapes take the general path: settle the window first.
                    output.Advance(used);
                    used = 0;
                    window = default;
                    bytes += convert ? EncodeSubscriptionCommand(output, frame) : Encode(output, ref frame);
                }
                else
                {
                    int header = FrameCodec.HeaderSize(length);
                    int size = header + length;
                    if (window.Length - used < size)
                    {
                        output.Advance(used);
                        used = 0;
                        window = output.GetSpan(Math.Max(size, WindowHint));
                    }

                    Span<byte> target = window.Slice(used, size);
                    FrameCodec.WriteHeader(target, frame._more, command: false, length);
                    FrameCodec.CopyBody(frame.Span, target[header..]);
                    used += size;
                    bytes += size;
                }

                more = frame._more;
                whole += more ? 0 : 1;
                taken++;
                releases.Add(frame._buffer);
            }

            output.Advance(used);
        }
        finally
        {
            releases.Flush();
            frames = taken;
            messages = whole;
            midMessage = more;
        }

        return bytes;
    }

    private const int SmallFrameBytes = 4096;
    private const int WindowHint = 16 * 1024;

    /// <summary>Writes one frame (header and body) into the writer's memory; returns the bytes written.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Encode(PipeWriter output, ref Msg frame)
    {
        int length = frame._length;
        int header = FrameCodec.HeaderSize(length);
        if (length <= 4096)
        {
            Span<byte> span = output.GetSpan(header + length);
            FrameCodec.WriteHeader(span, frame._more, command: false, length);
            frame.Span.CopyTo(span[header..]);
            output.Advance(header + length);
        }
        else
        {
            Span<byte> span = output.GetSpan(header);
            FrameCodec.WriteHeader(span, frame._more, command: false, length);
            output.Advance(header);
            output.Write(frame.Span);
        }

        return header + length;
    }

    /// <summary>
    /// The peer asked us to stop (DRAIN). A load balancer must first take it out of its rotation;
    /// then what is still queued for it goes back to be routed to the other peers, and DRAINED
    /// marks the end of our stream (TCP keeps it behind everything already written).
    /// </summary>
    /// <returns>True once DRAINED was written; false to come back later (the rotation has not been updated yet).</returns>
    private async ValueTask<bool> AnswerDrainAsync(Peer peer, PipeWriter output)
    {
        if (_owner.RoutesByLoadBalancer && !peer.RoutingStopped)
        {
            await ParkAsync(peer, peer.Outbound).ConfigureAwait(false);
            return false;
        }

        _owner.HandBack(peer);
        WriteBareCommand(output, Commands.Drained);
        await output.FlushAsync().ConfigureAwait(false);
        return true;
    }

    private async ValueTask ServeAfterDrainedAsync(Peer peer, PipeWriter output)
    {
        while (!_connection.IsAborted)
        {
            long bytes = 0;
            if (Volatile.Read(ref _pongPending) != 0)
            {
                bytes += WritePong(output);
            }

            if (Volatile.Read(ref _pingPending) != 0)
            {
                bytes += WritePing(output);
            }

            if (bytes > 0)
            {
                await output.FlushAsync().ConfigureAwait(false);
                continue;
            }

            await ParkAsync(peer, outbound: null, drained: true).ConfigureAwait(false);
        }
    }

    private static int WriteBareCommand(PipeWriter output, ReadOnlySpan<byte> name)
    {
        Span<byte> span = output.GetSpan(FrameCodec.MaxHeaderSize + 1 + name.Length);
        int written = Commands.WriteBare(span, name);
        output.Advance(written);
        return written;
    }

    private static bool IsSubscription(in Msg frame) => frame._length > 0 && frame.Span[0] <= 1;

    /// <summary>ZMTP 3.1 peers get SUBSCRIBE/CANCEL as commands (libzmq 4.3.3+ expects them so).</summary>
    private static int EncodeSubscriptionCommand(PipeWriter output, in Msg frame)
    {
        ReadOnlySpan<byte> topic = frame.Span[1..];
        ReadOnlySpan<byte> name = frame.Span[0] == 1 ? Commands.Subscribe : Commands.Cancel;
        int body = 1 + name.Length + topic.Length;
        int header = FrameCodec.HeaderSize(body);
        Span<byte> span = output.GetSpan(header + body);
        FrameCodec.WriteHeader(span, more: false, command: true, body);
        span[header] = (byte)name.Length;
        name.CopyTo(span[(header + 1)..]);
        topic.CopyTo(span[(header + 1 + name.Length)..]);
        output.Advance(header + body);
        return header + body;
    }

    /// <summary>Hello (every socket type, option) and XPUB's welcome go out first on every new connection.</summary>
    private async ValueTask SendGreetingMessagesAsync(PipeWriter output)
    {
        byte[]? hello = _owner.Options.HelloMessage;
        byte[]? welcome = _owner.Type == SocketType.XPub ? _owner.Options.XPubWelcomeMessage : null;
        if (hello is null && welcome is null)
        {
            return;
        }

        foreach (byte[]? message in new[] { hello, welcome })
        {
            if (message is not null)
            {
                Msg frame = Msg.Copy(message);
                Encode(output, ref frame);
                frame.Dispose();
            }
        }

        await output.FlushAsync().ConfigureAwait(false);
    }

    private int WritePing(PipeWriter output)
    {
        Span<byte> span = output.GetSpan(FrameCodec.MaxHeaderSize + 16);
        long ttl = (long)_owner.Options.HeartbeatTtl.TotalMilliseconds / 100;
        int written = Commands.WritePing(span, (ushort)Math.Min(ttl, ushort.MaxValue), ReadOnlySpan<byte>.Empty);
        output.Advance(written);
        Volatile.Write(ref _pingPending, 0);
        return written;
    }

    private int WritePong(PipeWriter output)
    {
        Span<byte> span = output.GetSpan(FrameCodec.MaxHeaderSize + 32);
        int written = Commands.WritePong(span, _pongContext.AsSpan(0, _pongLength));
        output.Advance(written);
        Volatile.Write(ref _pongPending, 0);
        return written;
    }
}
