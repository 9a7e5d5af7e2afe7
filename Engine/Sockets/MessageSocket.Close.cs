using Engine.Lifetime;
using Engine.Pipes;
using Engine.Sessions;
using Engine.Transport;

namespace Engine.Sockets;

public abstract partial class MessageSocket
{
    private const int Open = 0;
    private const int Closing = 1;
    private const int Closed = 2;

    private readonly Waiter _lingerWaiter = new();
    private int _state;

    private protected bool IsDisposed => Volatile.Read(ref _state) != Open;

    private protected void ThrowIfDisposed()
    {
        if (Volatile.Read(ref _state) != Open)
        {
            ThrowDisposed();
        }
    }

    private void ThrowDisposed() => throw new ObjectDisposedException(GetType().Name, "The socket is closed.");

    /// <summary>A send loop just parked with everything flushed: a lingering close may be done.</summary>
    internal void NotifySendIdle() => _lingerWaiter.Wake();

    /// <summary>Closes the socket: waits up to <see cref="SocketOptions.Linger"/> for queued messages to reach the wire, then closes every connection.</summary>
    public void Dispose()
    {
        DisposeAsync().AsTask().GetAwaiter().GetResult();
        GC.SuppressFinalize(this);
    }

    /// <inheritdoc cref="Dispose"/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.CompareExchange(ref _state, Closing, Open) != Open)
        {
            return;
        }

        try
        {
            await CloseAsync().ConfigureAwait(false);
        }
        finally
        {
            Live.TryRemove(this, out _);
            Volatile.Write(ref _state, Closed);
            Monitor.Raise(MonitorEventKind.Closed, LastEndpoint ?? Type.ToString());
            Monitor.Complete();
        }
    }

    private async Task CloseAsync()
    {
        // Wake anyone blocked in send or receive: they see the socket closing and throw.
        _sendWaiter.Signal();
        _receiveWaiter.Signal();
        await CloseDirectoryAsync().ConfigureAwait(false);

        StreamListener[] listeners;
        StreamConnector[] connectors;
        lock (_endpointsGate)
        {
            listeners = _listeners.ToArray();
            connectors = _connectors.ToArray();
            _listeners.Clear();
            _connectors.Clear();
        }

        foreach (StreamListener listener in listeners)
        {
            await listener.StopAsync().ConfigureAwait(false);
        }

        Linger();
        _closing.Cancel();
        CloseInproc();
        foreach (StreamConnector connector in connectors)
        {
            await connector.StopAsync().ConfigureAwait(false);
        }

        foreach (Session session in _sessions.Keys)
        {
            session.Abort(ShutdownReason.SocketClosed);
        }

        DiscardQueued();
    }

    /// <summary>Waits until every peer's queued messages are flushed to the wire, or the linger time passes.</summary>
    private void Linger()
    {
        int lingerMs = SocketOptions.ToMilliseconds(Options.Linger);
        if (lingerMs == 0 || _sender is null)
        {
            return;
        }

        long deadline = lingerMs < 0 ? long.MaxValue : Environment.TickCount64 + lingerMs;
        while (true)
        {
            _lingerWaiter.Prepare();
            if (AllFlushed())
            {
                _lingerWaiter.Cancel();
                return;
            }

            int remaining = lingerMs < 0 ? Timeout.Infinite : (int)Math.Max(0, deadline - Environment.TickCount64);
            if (remaining == 0)
            {
                return;
            }

            _lingerWaiter.Wait(remaining);
        }
    }

    private bool AllFlushed()
    {
        foreach (Peer peer in _peers.Keys)
        {
            MessagePipe? outbound = peer.Outbound;
            if (outbound is null || peer.IsInproc)
            {
                // Inproc messages are already in the other socket's reach; nothing to flush.
                continue;
            }

            bool queued = outbound.QueuedMessages > 0;
            if (queued || (peer.SessionActive && !peer.SendIdle))
            {
                return false;
            }
        }

        return true;
    }

    private void DiscardQueued() => DiscardStaged();
}
