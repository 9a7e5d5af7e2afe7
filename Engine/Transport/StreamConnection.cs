using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Engine.Lifetime;

namespace Engine.Transport;

/// <summary>
/// One connected stream socket (tcp or ipc) seen as a pair of System.IO.Pipelines ends.
/// </summary>
/// <remarks>
/// The reader and writer run inline on the session's own loops (<see cref="PipeReader.Create(Stream, StreamPipeReaderOptions?)"/>
/// and <see cref="PipeWriter.Create(Stream, StreamPipeWriterOptions?)"/>): no extra thread hand-off
/// between the socket and the codec. Segments are 64 KiB, so one flush of many small messages is
/// one system call. Close is two-phase: <see cref="Abort"/> (idempotent, never blocks, first reason
/// wins) and then <see cref="DisposeAsync"/>.
/// </remarks>
internal sealed class StreamConnection : IAsyncDisposable
{
    internal const int SegmentSize = 64 * 1024;

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private int _reason;
    private string? _detail;

    internal StreamConnection(Socket socket, string remoteAddress)
    {
        _socket = socket;
        RemoteAddress = remoteAddress;
        _stream = new NetworkStream(socket, ownsSocket: false);
        // Segments come from our frame pool so that received frames can share them (zero-copy).
        Input = _wireInput = PipeReader.Create(_stream, new StreamPipeReaderOptions(pool: Buffers.SlabMemoryPool.Instance, bufferSize: SegmentSize, minimumReadSize: 4096, leaveOpen: true));
        // Write segments from the same pool: ArrayPool.Shared caches per thread, and send loops hop
        // between pool threads, so large messages kept missing its caches and allocating.
        Output = _wireOutput = PipeWriter.Create(_stream, new StreamPipeWriterOptions(pool: Buffers.SlabMemoryPool.Instance, minimumBufferSize: SegmentSize, leaveOpen: true));
    }

    private readonly PipeReader _wireInput;
    private readonly PipeWriter _wireOutput;
    private Task _filtering = Task.CompletedTask;
    private Pipe? _received;

    /// <summary>The connected socket, for the session's own reads (see <see cref="ReadSocketDirectly"/>).</summary>
    internal Socket Socket => _socket;

    /// <summary>True once the session reads the socket itself into <see cref="ReceivedWriter"/>.</summary>
    internal bool ReadsSocketDirectly => Volatile.Read(ref _received) is not null;

    /// <summary>Where the session's own socket reads go; <see cref="Input"/> reads them back.</summary>
    internal PipeWriter ReceivedWriter => _received!.Writer;

    /// <summary>
    /// From now on the session reads the socket itself, with non-blocking receives, into a pipe of
    /// pooled segments that <see cref="Input"/> then reads. Whoever holds the session's read token
    /// can do that: its receive loop, or an application thread blocked in a receive, which then
    /// waits in the kernel on the socket like a plain blocking socket does (no thread hand-off).
    /// Called once, after a plain (not encrypted) handshake: bytes the handshake reader buffered
    /// after READY are moved over first.
    /// </summary>
    /// <returns>The bytes moved over from the handshake's reader.</returns>
    internal long ReadSocketDirectly()
    {
        long moved = 0;
        var pipe = new Pipe(new PipeOptions(
            pool: Buffers.SlabMemoryPool.Instance,
            readerScheduler: PipeScheduler.Inline,
            writerScheduler: PipeScheduler.Inline,
            pauseWriterThreshold: 0,
            resumeWriterThreshold: 0,
            minimumSegmentSize: SegmentSize,
            useSynchronizationContext: false));
        if (_wireInput.TryRead(out ReadResult rest))
        {
            foreach (ReadOnlyMemory<byte> piece in rest.Buffer)
            {
                pipe.Writer.Write(piece.Span);
            }

            moved = rest.Buffer.Length;
            _wireInput.AdvanceTo(rest.Buffer.End);
        }

        // Never blocks: no pause threshold.
        pipe.Writer.FlushAsync().GetAwaiter().GetResult();
        // Blocking = false makes Socket.Receive return WouldBlock instead of parking the caller;
        // the PipeWriter's sends are asynchronous operations, which this flag does not affect.
        _socket.Blocking = false;
        Input = pipe.Reader;
        // Last: an application thread that sees the pipe sees everything set up before it.
        Volatile.Write(ref _received, pipe);
        return moved;
    }

    /// <summary>What the session reads: the socket's bytes, or after <see cref="Encrypt"/> the opened frames.</summary>
    internal PipeReader Input { get; private set; }

    /// <summary>What the session writes: to the socket, or after <see cref="Encrypt"/> frames to be boxed.</summary>
    internal PipeWriter Output { get; private set; }

    /// <summary>
    /// From now on every frame is boxed and unboxed by CURVE (<see cref="CurveFilter"/>). Called by
    /// the handshake once, before the session's loops start; bytes already buffered after READY
    /// are the first boxes.
    /// </summary>
    internal void Encrypt(Engine.Wire.Mechanisms.CurveCodec codec, long maxFrame)
    {
        var filter = new CurveFilter(codec, _wireInput, _wireOutput, maxFrame, (reason, detail) => Abort(reason, detail));
        Input = filter.Input;
        Output = filter.Output;
        _filtering = filter.RunAsync();
    }

    internal string RemoteAddress { get; }

    /// <summary>True once <see cref="Encrypt"/> put CURVE between the session and the socket.</summary>
    internal bool IsEncrypted => !ReferenceEquals(Input, _wireInput) && _received is null;

    internal ShutdownReason Reason => (ShutdownReason)Volatile.Read(ref _reason);

    internal string? ReasonDetail => _detail;

    internal bool IsAborted => Volatile.Read(ref _reason) != 0;

    /// <summary>Applies the per-connection socket options every transport shares.</summary>
    internal static void Configure(Socket socket, SocketOptions options)
    {
        if (socket.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
        {
            socket.NoDelay = true;
        }

        if (options.SendBufferSize > 0)
        {
            socket.SendBufferSize = options.SendBufferSize;
        }

        if (options.ReceiveBufferSize > 0)
        {
            socket.ReceiveBufferSize = options.ReceiveBufferSize;
        }
    }

    /// <summary>Records why the connection ends (first caller wins) and stops all I/O on it.</summary>
    /// <returns>True for the call that recorded the reason.</returns>
    internal bool Abort(ShutdownReason reason, string? detail = null)
    {
        if (Interlocked.CompareExchange(ref _reason, (int)reason, 0) != 0)
        {
            return false;
        }

        _detail = detail;
        // The session may have ended on its own (peer closed) and completed the pipes between our
        // CompareExchange and here: a completed pipe has no pending read or flush left to cancel,
        // and cancelling it throws ObjectDisposedException (its token source is disposed).
        CancelPending(Input, Output);
        if (!ReferenceEquals(Input, _wireInput))
        {
            // Encrypted: the filter's pumps wait on the wire ends, the session on the plain ones.
            CancelPending(_wireInput, _wireOutput);
        }

        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already reset by the peer: nothing left to shut down.
        }
        catch (ObjectDisposedException)
        {
        }

        return true;
    }

    private static void CancelPending(PipeReader input, PipeWriter output)
    {
        try
        {
            input.CancelPendingRead();
        }
        catch (ObjectDisposedException)
        {
        }

        try
        {
            output.CancelPendingFlush();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        Abort(ShutdownReason.SocketClosed);
        if (IsEncrypted)
        {
            // The pumps end on the cancellation above; the wire ends are theirs until then.
            await Input.CompleteAsync().ConfigureAwait(false);
            await Output.CompleteAsync().ConfigureAwait(false);
            await _filtering.ConfigureAwait(false);
            Input = _wireInput;
            Output = _wireOutput;
        }

        await Input.CompleteAsync().ConfigureAwait(false);
        if (_received is not null)
        {
            await _received.Writer.CompleteAsync().ConfigureAwait(false);
            await _wireInput.CompleteAsync().ConfigureAwait(false);
        }

        try
        {
            await Output.CompleteAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            // Completing flushes what is left; the peer is gone, so that may fail.
        }
        catch (ObjectDisposedException)
        {
        }

        await _stream.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
    }
}
