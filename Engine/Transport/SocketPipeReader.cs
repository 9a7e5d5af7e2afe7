using System.IO.Pipelines;
using System.Net.Sockets;

namespace Engine.Transport;

/// <summary>
/// The read end of a connection: bytes received with non-blocking calls into a pipe of pooled
/// 64 KiB segments, so that received frames can share them (zero-copy). A reader that finds nothing
/// new receives more itself, and waits through <see cref="SocketReadiness"/> only when the socket
/// has nothing either. Plain connections' sessions also receive into <see cref="ReceivedWriter"/>
/// directly (see Session.DirectRead.cs): all receiving happens on whichever thread reads.
/// </summary>
internal sealed class SocketPipeReader : PipeReader
{
    /// <summary>Receives ask for at least this much room (the rest of a 64 KiB segment usually).</summary>
    internal const int MinimumReadSize = 4096;

    private readonly SocketReadiness _readiness;
    private readonly Pipe _received;
    private int _interrupted;

    internal SocketPipeReader(SocketReadiness readiness)
    {
        _readiness = readiness;
        // Nobody awaits the pipe's own ReadAsync (readers come through this class).
        _received = StreamConnection.NewSegmentPipe();
    }

    /// <summary>Where received bytes go; whoever holds the connection's reading writes here.</summary>
    internal PipeWriter ReceivedWriter => _received.Writer;

    public override bool TryRead(out ReadResult result) => _received.Reader.TryRead(out result);

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) =>
        _received.Reader.TryRead(out ReadResult result) ? new ValueTask<ReadResult>(result) : ReceiveAsync(cancellationToken);

    public override void AdvanceTo(SequencePosition consumed) => _received.Reader.AdvanceTo(consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => _received.Reader.AdvanceTo(consumed, examined);

    public override void CancelPendingRead()
    {
        _received.Reader.CancelPendingRead();
        Interlocked.Exchange(ref _interrupted, 1);
        _readiness.InterruptRead();
    }

    public override void Complete(Exception? exception = null)
    {
        _received.Reader.Complete(exception);
        _received.Writer.Complete();
    }

    /// <summary>
    /// Receives what the socket has now into the pipe. Returns the socket error, or Success with
    /// 0 bytes at the end of the stream (the pipe is then completed).
    /// </summary>
    internal SocketError ReceiveAvailable(out int received)
    {
        PipeWriter writer = _received.Writer;
        received = _readiness.Receive(writer.GetSpan(MinimumReadSize), wait: false, out SocketError error);
        if (error != SocketError.Success)
        {
            return error;
        }

        if (received == 0)
        {
            writer.Complete();
            return SocketError.Success;
        }

        writer.Advance(received);
        // No pause threshold: completes at once, nothing allocated.
        writer.FlushAsync().GetAwaiter().GetResult();
        return SocketError.Success;
    }

    // Pooled: it suspends whenever the socket is full or empty, which a busy connection does often.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadResult> ReceiveAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_received.Reader.TryRead(out ReadResult result))
            {
                return result;
            }

            SocketError error = ReceiveAvailable(out _);
            if (error == SocketError.WouldBlock)
            {
                ValueTask wait = _readiness.WaitReadableAsync(cancellationToken);
                if (Interlocked.Exchange(ref _interrupted, 0) != 0)
                {
                    // Cancelled between our look and the wait: do not sleep through it.
                    _readiness.InterruptRead();
                }

                await wait.ConfigureAwait(false);
            }
            else if (error != SocketError.Success)
            {
                throw new SocketException((int)error);
            }
        }
    }
}
