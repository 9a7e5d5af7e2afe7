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
        Input = PipeReader.Create(_stream, new StreamPipeReaderOptions(pool: Buffers.SlabMemoryPool.Instance, bufferSize: SegmentSize, minimumReadSize: 4096, leaveOpen: true));
        // Write segments from the same pool: ArrayPool.Shared caches per thread, and send loops hop
        // between pool threads, so large messages kept missing its caches and allocating.
        Output = PipeWriter.Create(_stream, new StreamPipeWriterOptions(pool: Buffers.SlabMemoryPool.Instance, minimumBufferSize: SegmentSize, leaveOpen: true));
    }

    internal PipeReader Input { get; }

    internal PipeWriter Output { get; }

    internal string RemoteAddress { get; }

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
        try
        {
            Input.CancelPendingRead();
        }
        catch (ObjectDisposedException)
        {
        }

        try
        {
            Output.CancelPendingFlush();
        }
        catch (ObjectDisposedException)
        {
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

    public async ValueTask DisposeAsync()
    {
        Abort(ShutdownReason.SocketClosed);
        await Input.CompleteAsync().ConfigureAwait(false);
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
