using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Engine.Lifetime;

namespace Engine.Transport;

/// <summary>
/// One connected stream socket (tcp or ipc) seen as a pair of System.IO.Pipelines ends.
/// </summary>
/// <remarks>
/// The socket is non-blocking and every read and write is a plain system call made by the thread
/// that reads or flushes (<see cref="SocketPipeReader"/>, <see cref="SocketPipeWriter"/>): no extra
/// thread between the socket and the codec. Only waiting for the socket goes through
/// <see cref="SocketReadiness"/> (the engine's reactor on Linux). Segments are 64 KiB, so one flush of
/// many small messages is one system call. Close is two-phase: <see cref="Abort"/> (idempotent,
/// never blocks, first reason wins) and then <see cref="DisposeAsync"/>.
/// </remarks>
internal sealed class StreamConnection : IAsyncDisposable
{
    internal const int SegmentSize = 64 * 1024;

    private readonly Socket _socket;
    private readonly SocketReadiness _readiness;
    private int _reason;
    private string? _detail;

    /// <param name="socket">Connected; its reads and writes go through <paramref name="readiness"/> from now on.</param>
    /// <param name="remoteAddress">For monitor events and logs.</param>
    /// <param name="readiness">How the socket is waited for; null: chosen here (an accepted socket).</param>
    /// <param name="useReactor">When chosen here: through the engine's reactor if the system has one.</param>
    internal StreamConnection(Socket socket, string remoteAddress, SocketReadiness? readiness = null, bool useReactor = true)
    {
        _socket = socket;
        RemoteAddress = remoteAddress;
        try
        {
            _readiness = readiness ?? SocketReadiness.For(socket, useReactor);
            _readiness.Connected();
        }
        catch
        {
            // Out of descriptors (the reactor duplicates one) or the like: the connection owns the
            // socket from here on, so nothing may be left open behind the exception.
            readiness?.Dispose();
            _readiness?.Dispose();
            socket.Dispose();
            throw;
        }

        Input = _wireInput = new SocketPipeReader(_readiness);
        Output = _wireOutput = new SocketPipeWriter(_readiness);
    }

    /// <summary>
    /// A pipe of 64 KiB segments from the frame pool (ArrayPool.Shared caches per thread, and a
    /// connection's reads and writes happen on whichever thread runs its loop, so large messages
    /// kept missing its caches), inline and without thresholds: writing and flushing never wait
    /// and nothing is scheduled anywhere. The received bytes and the unsent bytes each live in one.
    /// </summary>
    internal static Pipe NewSegmentPipe() => new(new PipeOptions(
        pool: Buffers.SlabMemoryPool.Instance,
        readerScheduler: PipeScheduler.Inline,
        writerScheduler: PipeScheduler.Inline,
        pauseWriterThreshold: 0,
        resumeWriterThreshold: 0,
        minimumSegmentSize: SegmentSize,
        useSynchronizationContext: false));

    private readonly SocketPipeReader _wireInput;
    private readonly SocketPipeWriter _wireOutput;
    private Task _filtering = Task.CompletedTask;
    private int _readsDirectly;

    /// <summary>
    /// The socket's descriptor when frames may be sent gathered from their own buffers
    /// (<see cref="LinuxSocket.SendPieces"/>: Linux, where the reactor runs); -1 otherwise.
    /// </summary>
    internal int GatherDescriptor => _readiness is ReactorReadiness ? (int)_socket.SafeHandle.DangerousGetHandle() : -1;

    /// <summary>The connected socket, for the session's own reads (see <see cref="ReadSocketDirectly"/>).</summary>
    internal Socket Socket => _socket;

    /// <summary>True once the session reads the socket itself into <see cref="ReceivedWriter"/>.</summary>
    internal bool ReadsSocketDirectly => Volatile.Read(ref _readsDirectly) != 0;

    /// <summary>Where the session's own socket reads go; <see cref="Input"/> reads them back.</summary>
    internal PipeWriter ReceivedWriter => _wireInput.ReceivedWriter;

    /// <summary>True when <see cref="Receive"/> can wait in the kernel itself (the reactor's sockets).</summary>
    internal bool ReceiveCanWait => _readiness.ReceiveCanWait;

    /// <summary>One receive by whoever holds the session's reading (see <see cref="SocketReadiness.Receive"/>).</summary>
    internal int Receive(Span<byte> buffer, bool wait, out SocketError error) => _readiness.Receive(buffer, wait, out error);

    /// <summary>Completes when the socket may have something to read (see <see cref="SocketReadiness.WaitReadableAsync"/>).</summary>
    internal ValueTask WaitReadableAsync() => _readiness.WaitReadableAsync(CancellationToken.None);

    /// <summary>Ends a pending <see cref="WaitReadableAsync"/> now, or makes the next one return at once.</summary>
    internal void InterruptReadableWait() => _readiness.InterruptRead();

    /// <summary>
    /// From now on the session reads the socket itself, with non-blocking receives, into the pipe
    /// that <see cref="Input"/> reads. Whoever holds the session's read token can do that: its
    /// receive loop, or an application thread blocked in a receive, which then waits in the kernel
    /// on the socket like a plain blocking socket does (no thread hand-off). Called once, after a
    /// plain (not encrypted) handshake.
    /// </summary>
    /// <param name="receivedAfterReady">
    /// Told how many bytes the handshake received after READY (not yet decoded) before the switch
    /// is published, so that a reader that sees the switch also sees that count.
    /// </param>
    internal void ReadSocketDirectly(ref long receivedAfterReady)
    {
        long buffered = 0;
        if (_wireInput.TryRead(out ReadResult rest))
        {
            buffered = rest.Buffer.Length;
            // Nothing consumed and nothing examined: the decoder's first look sees all of it.
            _wireInput.AdvanceTo(rest.Buffer.Start);
        }

        receivedAfterReady = buffered;
        // Last: an application thread that sees this sees everything set up before it.
        Volatile.Write(ref _readsDirectly, 1);
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
    internal bool IsEncrypted => !ReferenceEquals(Input, _wireInput);

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
        await Output.CompleteAsync().ConfigureAwait(false);
        // Before the socket closes: its reactor entries are removed through its descriptor.
        _readiness.Dispose();
        _socket.Dispose();
    }
}
