using Engine.Diagnostics;
using Engine.Lifetime;

namespace Engine.Sessions;

internal sealed partial class Session
{
    // Written by the receive loop per read batch; read by the heartbeat timer.
    private long _lastReceivedTicks = Environment.TickCount64;
    private long _pingRequestedTicks;
    private int _pingPending;
    private int _remoteTtlMs;
    private readonly CancellationTokenSource _ended = new();

    /// <summary>
    /// ZMTP 3.1 heartbeats (libzmq's ZMQ_HEARTBEAT_IVL/TIMEOUT/TTL, interoperable both ways):
    /// a PING every interval; any traffic at all proves the peer alive (libzmq's PONG context
    /// cannot be trusted, so we never check it); no traffic for the timeout after a PING, or for
    /// the TTL the peer announced in its own PINGs, means the peer is dead, even if no FIN or RST
    /// ever arrives. One timer per connection, no work per message.
    /// </summary>
    private async Task HeartbeatLoopAsync()
    {
        SocketOptions options = _owner.Options;
        long interval = (long)options.HeartbeatInterval.TotalMilliseconds;
        long timeout = (long)options.HeartbeatTimeout.TotalMilliseconds;
        long tick = Math.Clamp(Math.Min(interval > 0 ? interval : 1000, timeout > 0 ? timeout : 1000) / 4, 5, 250);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(tick));
        long nextPing = Environment.TickCount64 + interval;
        try
        {
            while (await timer.WaitForNextTickAsync(_ended.Token).ConfigureAwait(false))
            {
                long now = Environment.TickCount64;
                long lastReceived = Volatile.Read(ref _lastReceivedTicks);
                if (interval > 0 && now >= nextPing)
                {
                    nextPing = now + interval;
                    if (Volatile.Read(ref _pingRequestedTicks) <= lastReceived)
                    {
                        Volatile.Write(ref _pingRequestedTicks, now);
                    }

                    Volatile.Write(ref _pingPending, 1);
                    _peer?.SendLoopWaiter.Signal();
                }

                long pingAt = Volatile.Read(ref _pingRequestedTicks);
                if (interval > 0 && pingAt > lastReceived && now - pingAt > timeout)
                {
                    DeclareDead($"no traffic for {now - pingAt} ms after a PING (heartbeat timeout {timeout} ms)");
                    return;
                }

                int ttl = Volatile.Read(ref _remoteTtlMs);
                if (ttl > 0 && now - lastReceived > ttl)
                {
                    DeclareDead($"no traffic within the peer's heartbeat TTL of {ttl} ms");
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The session ended.
        }
    }

    private void DeclareDead(string reason)
    {
        if (_connection.Abort(ShutdownReason.PeerDead, reason))
        {
            EngineMetrics.PeersDead.Add(1);
            Abort(ShutdownReason.PeerDead, reason);
        }
    }

    /// <summary>Receive loop: the peer announced a TTL in its PING; start watching if nothing else does.</summary>
    private void OnRemoteTtl(int ttlMs)
    {
        if (ttlMs <= 0 || Interlocked.Exchange(ref _remoteTtlMs, ttlMs) != 0)
        {
            return;
        }

        if (_owner.Options.HeartbeatInterval == TimeSpan.Zero && Interlocked.Exchange(ref _heartbeatStarted, 1) == 0)
        {
            _ = HeartbeatLoopAsync();
        }
    }

    private int _heartbeatStarted;

    private void StartHeartbeatsIfConfigured()
    {
        if (_owner.Options.HeartbeatInterval > TimeSpan.Zero && Interlocked.Exchange(ref _heartbeatStarted, 1) == 0)
        {
            _ = HeartbeatLoopAsync();
        }
    }
}
