using System.Net;
using System.Net.Sockets;

namespace Engine.Transport;

/// <summary>
/// How a connection waits for its non-blocking socket: to become readable, to take more bytes, to
/// finish connecting. All reads and writes themselves are non-blocking system calls made by the
/// connection's loops (or an application thread, see Session.DirectRead.cs); only the waiting
/// differs: the engine's own <see cref="Reactor"/> on Linux, .NET's socket engine elsewhere.
/// </summary>
internal abstract class SocketReadiness : IDisposable
{
    /// <summary>How long one wait inside a receive lasts at most (see <see cref="Receive"/>).</summary>
    internal const int WaitSliceMs = 10;

    internal static SocketReadiness For(Socket socket, bool useReactor) =>
        useReactor && Reactor.IsEnabled ? new ReactorReadiness(socket, Reactor.Shared) : new DotNetReadiness(socket);

    /// <summary>True when <see cref="Receive"/> can wait in the kernel (for up to <see cref="WaitSliceMs"/>).</summary>
    internal abstract bool ReceiveCanWait { get; }

    /// <summary>Called once the socket is connected, before any read or write.</summary>
    internal abstract void Connected();

    /// <summary>One receive; with <paramref name="wait"/> (only where <see cref="ReceiveCanWait"/>) it waits up to a slice.</summary>
    /// <returns>Bytes received (0 with Success: the end of the stream); WouldBlock when nothing came.</returns>
    internal abstract int Receive(Span<byte> buffer, bool wait, out SocketError error);

    /// <summary>One non-blocking send; 0 when the socket has no room. Other errors throw.</summary>
    internal abstract int TrySend(ReadOnlySpan<byte> bytes);

    /// <summary>Completes when the socket may have bytes (or an end, or an error) to read. Never throws.</summary>
    internal abstract ValueTask WaitReadableAsync(CancellationToken cancellationToken);

    /// <summary>Sends some of <paramref name="bytes"/> once the socket has room; returns how many (at least one).</summary>
    internal abstract ValueTask<int> SendWhenWritableAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken);

    /// <summary>Connects the (not yet connected) socket.</summary>
    internal abstract ValueTask ConnectAsync(EndPoint target, CancellationToken cancellationToken);

    /// <summary>Wakes a pending read wait, so that its loop looks at its state again (a cancelled read).</summary>
    internal abstract void InterruptRead();

    /// <summary>Wakes a pending write wait (a cancelled flush).</summary>
    internal abstract void InterruptWrite();

    public abstract void Dispose();
}

/// <summary>Waiting through the engine's <see cref="Reactor"/> (Linux).</summary>
/// <remarks>
/// Reads and writes are waited for by different loops, possibly at the same time, and each epoll
/// entry has one one-shot mask. So the write side watches a duplicate descriptor of the same socket,
/// which has an entry of its own: the two directions never have to agree on a shared mask.
/// </remarks>
internal sealed class ReactorReadiness : SocketReadiness
{
    private readonly Socket _socket;
    private readonly Reactor _reactor;
    private readonly ReadinessSignal _readable = new();
    private readonly ReadinessSignal _writable = new();
    private readonly int _readFd;
    private readonly int _writeFd;
    private bool _readAdded;
    private bool _writeAdded;
    private int _disposed;

    internal ReactorReadiness(Socket socket, Reactor reactor)
    {
        _socket = socket;
        _reactor = reactor;
        _readFd = (int)socket.SafeHandle.DangerousGetHandle();
        _writeFd = LinuxSocket.Duplicate(_readFd);
        if (_writeFd < 0)
        {
            throw new SocketException((int)SocketError.TooManyOpenSockets);
        }

        reactor.Register(_readable);
        reactor.Register(_writable);
    }

    internal override bool ReceiveCanWait => true;

    // Blocking from now on; reads and writes that must not wait say so per call.
    internal override void Connected() => LinuxSocket.MakeBlocking(_readFd, WaitSliceMs);

    internal override int Receive(Span<byte> buffer, bool wait, out SocketError error) => LinuxSocket.Receive(_readFd, buffer, wait, out error);

    internal override int TrySend(ReadOnlySpan<byte> bytes) => LinuxSocket.Send(_readFd, bytes);

    internal override ValueTask WaitReadableAsync(CancellationToken cancellationToken)
    {
        ValueTask wait = _readable.Begin(cancellationToken);
        if (Volatile.Read(ref _disposed) != 0 || !_reactor.Arm(_readFd, Epoll.In | Epoll.RdHup, _readable, ref _readAdded))
        {
            _readable.Fire();
        }

        return wait;
    }

    // Pooled: it suspends whenever the socket is full or empty, which a busy connection does often.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    internal override async ValueTask<int> SendWhenWritableAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        while (true)
        {
            await WaitWritableAsync(cancellationToken).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            int sent = TrySend(bytes.Span);
            if (sent > 0)
            {
                return sent;
            }

            if (Volatile.Read(ref _disposed) != 0)
            {
                throw new ObjectDisposedException(nameof(Socket));
            }
        }
    }

    internal override async ValueTask ConnectAsync(EndPoint target, CancellationToken cancellationToken)
    {
        try
        {
            _socket.Connect(target);
            return;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress or SocketError.AlreadyInProgress)
        {
            // Under way: the socket becomes writable when it is connected or has failed.
        }

        while (true)
        {
            await WaitWritableAsync(cancellationToken).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            int error = (int)_socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
            if (error != 0)
            {
                throw new SocketException(error);
            }

            // Connected once writable with no error; a wake-up before that (spurious) waits again.
            if (_socket.Poll(0, SelectMode.SelectWrite))
            {
                return;
            }
        }
    }

    private ValueTask WaitWritableAsync(CancellationToken cancellationToken)
    {
        ValueTask wait = _writable.Begin(cancellationToken);
        if (Volatile.Read(ref _disposed) != 0 || !_reactor.Arm(_writeFd, Epoll.Out, _writable, ref _writeAdded))
        {
            _writable.Fire();
        }

        return wait;
    }

    internal override void InterruptRead() => _readable.Fire();

    internal override void InterruptWrite() => _writable.Fire();

    public override void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Entries first, while both descriptors still name the socket; then nothing can fire for
        // these signals again (and a late event finds their slots empty).
        _reactor.Remove(_readFd);
        _reactor.Remove(_writeFd);
        _reactor.Unregister(_readable);
        _reactor.Unregister(_writable);
        LinuxSocket.Close(_writeFd);
        _readable.Fire();
        _writable.Fire();
    }
}

/// <summary>Waiting through .NET's socket engine: where there is no <see cref="Reactor"/>.</summary>
internal sealed class DotNetReadiness : SocketReadiness
{
    private readonly Socket _socket;
    private CancellationTokenSource _readInterrupt = new();
    private int _readInterrupted;

    internal DotNetReadiness(Socket socket) => _socket = socket;

    internal override bool ReceiveCanWait => false;

    // Non-blocking: receives and sends return WouldBlock instead of parking the caller.
    internal override void Connected() => _socket.Blocking = false;

    internal override int Receive(Span<byte> buffer, bool wait, out SocketError error)
    {
        int received = _socket.Receive(buffer, SocketFlags.None, out error);
        return error == SocketError.Success ? received : 0;
    }

    internal override int TrySend(ReadOnlySpan<byte> bytes)
    {
        int sent = _socket.Send(bytes, SocketFlags.None, out SocketError error);
        return error switch
        {
            SocketError.Success => sent,
            SocketError.WouldBlock => 0,
            _ => throw new SocketException((int)error),
        };
    }

    // Pooled, like the send below: a loop waits here once per batch, and each wait that suspends
    // would otherwise allocate its state machine.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    internal override async ValueTask WaitReadableAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _readInterrupted, 0) != 0)
        {
            return;
        }

        // One source serves every wait until an interrupt cancels it (then it is replaced): a
        // connection waits once per batch, so a new source per wait would allocate per batch.
        // The cancelled one is not disposed: an interrupt may still be calling Cancel on it, and a
        // source without a timer or wait handle holds nothing the collector does not free.
        CancellationTokenSource interrupt = _readInterrupt;
        if (!interrupt.TryReset())
        {
            interrupt = new CancellationTokenSource();
            // A full fence between publishing the new source and reading the flag below.
            Interlocked.Exchange(ref _readInterrupt, interrupt);
        }

        // Only the handshake passes a token of its own (its deadline); it may allocate.
        CancellationTokenSource? linked = cancellationToken.CanBeCanceled
            ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, interrupt.Token)
            : null;
        try
        {
            // A zero-byte receive consumes nothing: it completes when there is something to read.
            ValueTask<int> readable = _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, linked?.Token ?? interrupt.Token);
            if (Volatile.Read(ref _readInterrupted) != 0)
            {
                // Interrupted while the wait was being set up, perhaps through the previous source.
                interrupt.Cancel();
            }

            await readable.ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The caller's next read or check reports it.
        }
        finally
        {
            linked?.Dispose();
            // This wait has ended: an interrupt meant for it is used up (the caller looks again).
            Volatile.Write(ref _readInterrupted, 0);
        }
    }

    // Pooled: a sender faster than its peer waits here for every batch (the allocation tests
    // found it under load, ~1.5 B per 64 KiB message).
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    internal override async ValueTask<int> SendWhenWritableAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken) =>
        await _socket.SendAsync(bytes, SocketFlags.None, cancellationToken).ConfigureAwait(false);

    internal override ValueTask ConnectAsync(EndPoint target, CancellationToken cancellationToken) =>
        _socket.ConnectAsync(target, cancellationToken);

    /// <summary>
    /// Cancels the pending zero-byte receive, or makes the next wait return at once. The flag is
    /// set before the source is read, and a wait reads the flag after it started receiving, so
    /// either the interrupt finds the wait's source or the wait finds the flag.
    /// </summary>
    internal override void InterruptRead()
    {
        Interlocked.Exchange(ref _readInterrupted, 1);
        // If a wait replaces the source meanwhile, it reads the flag after doing so.
        Volatile.Read(ref _readInterrupt).Cancel();
    }

    internal override void InterruptWrite()
    {
    }

    public override void Dispose()
    {
    }
}
