using System.Collections.Concurrent;
using System.Diagnostics;
using Engine.Lifetime;
using Engine.Sessions;
using Engine.Transport;

namespace Engine.Sockets;

public abstract partial class MessageSocket
{
    /// <summary>A foreign peer (libzmq, NetMQ) cannot be told to stop: it counts as done after this much silence.</summary>
    private static readonly TimeSpan ForeignQuietPeriod = TimeSpan.FromMilliseconds(300);

    private static readonly TimeSpan DrainPollInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>Every open socket of the process, for <see cref="Drain.AllAsync"/>.</summary>
    internal static readonly ConcurrentDictionary<MessageSocket, byte> Live = new();

    private int _draining;
    private int _inputEnded;
    private int _receiveDrained;
    private long _deliveredDuringDrain;
    private long _flushedMessages;

    /// <summary>True once a drain has begun.</summary>
    public bool IsDraining => Volatile.Read(ref _draining) != 0;

    /// <summary>
    /// True once a drain has delivered everything that will ever arrive: receives then return false
    /// at once (and <c>ReceiveAsync</c> throws <see cref="SocketDrainedException"/>).
    /// </summary>
    public bool IsDrained => Volatile.Read(ref _receiveDrained) != 0;

    /// <summary>
    /// True for sockets the engine itself owns (a <c>DirectoryClient</c>'s links, a <c>DirectoryServer</c>'s ROUTER): <see cref="Drain.AllAsync"/>
    /// leaves them to their owner, which still needs them while the application's sockets drain
    /// (to unregister names) and closes them itself.
    /// </summary>
    internal bool IsEngineInternal { get; init; }

    /// <summary>True for sockets that take input the application reads (drained first by <see cref="Drain.AllAsync"/>).</summary>
    internal bool HasInput => _receiver is not null;

    /// <summary>Messages queued in every open socket's pipes, for the queue-depth gauge.</summary>
    internal static long TotalQueued()
    {
        long total = 0;
        foreach (MessageSocket socket in Live.Keys)
        {
            foreach (Peer peer in socket._peers.Keys)
            {
                total += (peer.Inbound?.QueuedMessages ?? 0) + (peer.Outbound?.QueuedMessages ?? 0);
            }
        }

        return total;
    }

    /// <summary>Send loops add what they flushed, per batch.</summary>
    internal void CountFlushed(long messages) => Interlocked.Add(ref _flushedMessages, messages);

    /// <summary>Session: a peer said DRAINED; the drain may be able to finish.</summary>
    internal void OnPeerEnded() => _receiveWaiter.Wake();

    /// <summary>
    /// Shuts the socket down losing nothing: no new connections, upstream peers told to stop
    /// sending (peers that announced the drain capability re-route what they still had queued for
    /// us and mark the end of their stream; libzmq and NetMQ peers are read until they fall
    /// silent), everything received is handed to the application (which keeps receiving until a
    /// receive reports <see cref="IsDrained"/>), outbound messages are flushed to the wire, then
    /// the socket closes. Bounded by <paramref name="timeout"/>; the report names what could not
    /// be delivered and why.
    /// </summary>
    public async Task<DrainReport> DrainAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _draining, 1) != 0 || IsDisposed)
        {
            throw new InvalidOperationException("The socket is already draining or closed.");
        }

        var clock = Stopwatch.StartNew();
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        long flushedAtStart = Interlocked.Read(ref _flushedMessages);
        var undelivered = new List<UndeliveredMessages>();
        var notes = new List<string>();
        bool completed = true;

        // Withdraw our names first: sockets following them move away while we still accept.
        WithdrawNames();
        await StopTakingNewPeersAsync().ConfigureAwait(false);
        if (_receiver is not null)
        {
            completed &= await DrainInputAsync(deadline, notes, cancellationToken).ConfigureAwait(false);
            completed &= await WaitForApplicationAsync(deadline, undelivered, cancellationToken).ConfigureAwait(false);
        }

        if (_sender is not null || UsesOutbound)
        {
            completed &= await FlushOutputAsync(deadline, undelivered, cancellationToken).ConfigureAwait(false);
        }

        TimeSpan linger = Options.Linger;
        Options.Linger = TimeSpan.Zero;
        await DisposeAsync().ConfigureAwait(false);
        Options.Linger = linger;
        return new DrainReport
        {
            Socket = $"{Type} {LastEndpoint ?? string.Empty}".Trim(),
            Completed = completed && undelivered.Count == 0,
            Elapsed = clock.Elapsed,
            DeliveredToApplication = Interlocked.Read(ref _deliveredDuringDrain),
            FlushedToPeers = Interlocked.Read(ref _flushedMessages) - flushedAtStart,
            Undelivered = undelivered,
            Notes = notes,
        };
    }

    /// <summary>Stops accepting connections and stops reconnecting; existing connections stay up.</summary>
    private async Task StopTakingNewPeersAsync()
    {
        StreamListener[] listeners;
        StreamConnector[] connectors;
        lock (_endpointsGate)
        {
            listeners = _listeners.ToArray();
            connectors = _connectors.ToArray();
            _listeners.Clear();
        }

        foreach (StreamListener listener in listeners)
        {
            await listener.StopAsync().ConfigureAwait(false);
        }

        foreach (StreamConnector connector in connectors)
        {
            connector.StopReconnecting();
        }
    }

    /// <summary>Has the send loop of an upstream peer that understands DRAIN send it, once per connection.</summary>
    internal void AskToStopSending(Peer peer)
    {
        if (peer.Inbound is null || peer.IsInproc || !peer.SupportsDrain || Interlocked.Exchange(ref peer.DrainAsked, 1) != 0)
        {
            return;
        }

        peer.SendDrainCommand = true;
        peer.SendLoopWaiter.Signal();
    }

    /// <summary>Tells every upstream peer to stop and waits until each has ended its stream or, for foreign peers, fallen silent.</summary>
    private async Task<bool> DrainInputAsync(long deadline, List<string> notes, CancellationToken cancellationToken)
    {
        int foreign = 0;
        foreach (Peer peer in _peers.Keys)
        {
            if (peer.Inbound is null || peer.IsInproc || !peer.SessionActive)
            {
                continue;
            }

            if (peer.SupportsDrain)
            {
                AskToStopSending(peer);
            }
            else
            {
                foreign++;
            }
        }

        if (foreign > 0)
        {
            notes.Add($"{foreign} peer(s) without the drain capability (libzmq/NetMQ): not accepting new connections and reading until each was silent for {ForeignQuietPeriod.TotalMilliseconds:0} ms; what they still queue for us stays with them");
        }

        while (true)
        {
            if (AllInputEnded())
            {
                // Foreign peers fell silent: close their connections so nothing arrives after "drained".
                foreach (Session session in _sessions.Keys)
                {
                    Peer? peer = session.CurrentPeer;
                    if (peer is not null && !peer.SupportsDrain && peer.Inbound is not null)
                    {
                        session.Abort(ShutdownReason.Disconnected, "drained (foreign peer fell silent)");
                    }
                }

                Volatile.Write(ref _inputEnded, 1);
                _receiveWaiter.Signal();
                return true;
            }

            if (Environment.TickCount64 > deadline || cancellationToken.IsCancellationRequested)
            {
                notes.Add("upstream peers did not finish their streams before the timeout");
                Volatile.Write(ref _inputEnded, 1);
                _receiveWaiter.Signal();
                return false;
            }

            await Task.Delay(DrainPollInterval, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private bool AllInputEnded()
    {
        // Connections still being made or in their handshake count as open input: each is looked
        // at before the next stage of its life (connector, session, peer), in the order each
        // stage hands over to the next, so none slips between two looks.
        lock (_endpointsGate)
        {
            foreach (StreamConnector connector in _connectors)
            {
                if (connector.ConnectionPending)
                {
                    return false;
                }
            }
        }

        foreach (Session session in _sessions.Keys)
        {
            if (session.ComingUp)
            {
                return false;
            }
        }

        long now = Environment.TickCount64;
        foreach (Peer peer in _peers.Keys)
        {
            if (peer.Inbound is null || peer.IsInproc || !peer.SessionActive || peer.EndOfStream)
            {
                continue;
            }

            if (peer.SupportsDrain || now - Volatile.Read(ref peer.LastReceivedTicks) < ForeignQuietPeriod.TotalMilliseconds)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Waits until the application has received everything (a receive found nothing after the input ended).</summary>
    private async Task<bool> WaitForApplicationAsync(long deadline, List<UndeliveredMessages> undelivered, CancellationToken cancellationToken)
    {
        while (Volatile.Read(ref _receiveDrained) == 0)
        {
            if (Environment.TickCount64 > deadline || cancellationToken.IsCancellationRequested)
            {
                long left = InboundQueued;
                if (left > 0)
                {
                    undelivered.Add(new UndeliveredMessages(left, "received but not read by the application before the drain timeout"));
                }

                return false;
            }

            await Task.Delay(DrainPollInterval, CancellationToken.None).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>Waits until every peer's queue is on the wire; what is left at the deadline is reported per peer.</summary>
    private async Task<bool> FlushOutputAsync(long deadline, List<UndeliveredMessages> undelivered, CancellationToken cancellationToken)
    {
        while (!AllFlushed())
        {
            if (Environment.TickCount64 > deadline || cancellationToken.IsCancellationRequested)
            {
                foreach (Peer peer in _peers.Keys)
                {
                    long queued = peer.Outbound is null || peer.IsInproc ? 0 : peer.Outbound.QueuedMessages;
                    if (queued > 0)
                    {
                        string why = peer.SessionActive
                            ? $"queued for {peer.Address}, which did not read them before the drain timeout"
                            : $"queued for {peer.Address}, which was not connected";
                        undelivered.Add(new UndeliveredMessages(queued, why));
                    }
                }

                return false;
            }

            await Task.Delay(DrainPollInterval, CancellationToken.None).ConfigureAwait(false);
        }

        return true;
    }
}

/// <summary>Thrown by <c>ReceiveAsync</c> once a drained socket has nothing more to deliver: the one-time end of the stream.</summary>
public sealed class SocketDrainedException : InvalidOperationException
{
    public SocketDrainedException()
        : base("The socket is drained: every message that will ever arrive has been received.")
    {
    }
}
