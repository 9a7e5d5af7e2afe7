using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;

namespace Engine.Transport;

/// <summary>
/// The write end of a connection: encoders write into pooled 64 KiB segments and a flush sends
/// them with non-blocking calls, on the flushing thread (one system call for many messages). Only
/// a flush that finds the socket full waits, through <see cref="SocketReadiness"/>; a flush that
/// does not returns a completed ValueTask (no async machinery per batch).
/// </summary>
internal sealed class SocketPipeWriter : PipeWriter
{
    private static readonly FlushResult s_sent = new(isCanceled: false, isCompleted: false);
    private static readonly FlushResult s_canceled = new(isCanceled: true, isCompleted: false);

    private readonly SocketReadiness _readiness;
    private readonly Pipe _unsent;
    private int _interrupted;

    internal SocketPipeWriter(SocketReadiness readiness)
    {
        _readiness = readiness;
        // Nobody awaits the pipe's own ReadAsync either: flushes read it with TryRead.
        _unsent = StreamConnection.NewSegmentPipe();
    }

    public override void Advance(int bytes) => _unsent.Writer.Advance(bytes);

    public override Memory<byte> GetMemory(int sizeHint = 0) => _unsent.Writer.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => _unsent.Writer.GetSpan(sizeHint);

    public override void CancelPendingFlush()
    {
        Interlocked.Exchange(ref _interrupted, 1);
        _readiness.InterruptWrite();
    }

    public override void Complete(Exception? exception = null)
    {
        // Whatever is unsent stays so: completing follows an abort, and the socket is shut down.
        _unsent.Writer.Complete(exception);
        _unsent.Reader.Complete(exception);
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        // No pause threshold: completes at once.
        _unsent.Writer.FlushAsync(CancellationToken.None).GetAwaiter().GetResult();
        // A cancel left from before this flush is stale (a plain store: this is once per batch).
        Volatile.Write(ref _interrupted, 0);
        return TrySendAll(out ReadOnlyMemory<byte> rest) ? new ValueTask<FlushResult>(s_sent) : SendRestAsync(rest, cancellationToken);
    }

    /// <summary>Sends what is unsent until the socket is full.</summary>
    /// <param name="rest">When false: the bytes of the segment the socket stopped in.</param>
    /// <returns>True when everything went out.</returns>
    private bool TrySendAll(out ReadOnlyMemory<byte> rest)
    {
        rest = default;
        PipeReader unsent = _unsent.Reader;
        while (unsent.TryRead(out ReadResult read))
        {
            ReadOnlySequence<byte> buffer = read.Buffer;
            if (buffer.IsEmpty)
            {
                unsent.AdvanceTo(buffer.End);
                return true;
            }

            long sent = 0;
            foreach (ReadOnlyMemory<byte> segment in buffer)
            {
                int taken = _readiness.TrySend(segment.Span);
                sent += taken;
                if (taken < segment.Length)
                {
                    unsent.AdvanceTo(buffer.GetPosition(sent));
                    rest = segment[taken..];
                    return false;
                }
            }

            unsent.AdvanceTo(buffer.End);
        }

        return true;
    }

    // Pooled: it suspends whenever the socket is full or empty, which a busy connection does often.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<FlushResult> SendRestAsync(ReadOnlyMemory<byte> rest, CancellationToken cancellationToken)
    {
        PipeReader unsent = _unsent.Reader;
        while (true)
        {
            if (Interlocked.Exchange(ref _interrupted, 0) != 0)
            {
                return s_canceled;
            }

            // The segment the socket stopped in, sent when it has room (at least one byte).
            int sent = await _readiness.SendWhenWritableAsync(rest, cancellationToken).ConfigureAwait(false);
            if (!unsent.TryRead(out ReadResult read))
            {
                return s_sent;
            }

            unsent.AdvanceTo(read.Buffer.GetPosition(sent));
            if (TrySendAll(out rest))
            {
                return s_sent;
            }
        }
    }
}
