using System.Threading.Channels;
using Engine.Sockets;

namespace Engine.Directory;

/// <summary>
/// One directory server as a client sees it: its own DEALER, what it last said about each watched
/// name, and whether it answers.
/// </summary>
/// <remarks>
/// One DEALER per server rather than one connected to all: a DEALER round-robins, so it could not
/// send a registration to every server or a probe to a chosen one, and a reply would not say which
/// server sent it. With one socket each, every server has its own queue (a frozen one holds back
/// nobody else), its own liveness, and replies are known by the socket they arrive on.
/// The client's loop is the only sender; <see cref="ReceiveAsync"/> is the only receiver; both only
/// post into the loop's inbox, so the loop owns all state.
/// </remarks>
internal sealed class ServerLink
{
    private readonly DealerSocket _dealer;
    private readonly CancellationTokenSource _stop = new();
    private Task _receiving = Task.CompletedTask;
    private Task _monitoring = Task.CompletedTask;

    internal ServerLink(string endpoint, DirectoryClientOptions options)
    {
        Endpoint = endpoint;
        _dealer = new DealerSocket(new SocketOptions
        {
            // Requests are only sent while the server is connected, so the queue stays short; no
            // limit means a send never fails half-way through a multipart request.
            SendHighWatermark = 0,
            Linger = TimeSpan.Zero,
            // Silence is judged like the client judges it (probe + request timeout): a heartbeat
            // timeout of one interval drops healthy connections on a busy machine, and renewals
            // skip a server while its connection is down.
            HeartbeatInterval = options.ProbeInterval,
            HeartbeatTimeout = options.ProbeInterval + options.RequestTimeout,
            ReconnectInterval = TimeSpan.FromMilliseconds(Math.Min(100, options.ProbeInterval.TotalMilliseconds)),
            ReconnectIntervalMax = options.ProbeInterval,
            ConnectTimeout = options.RequestTimeout,
            HandshakeTimeout = options.RequestTimeout,
            Logger = options.Logger,
        })
        {
            // The client closes it; a process-wide drain (GracefulShutdown) must not, or the client
            // can neither unregister during the drain nor close cleanly after it.
            IsEngineInternal = true,
        };
    }

    internal string Endpoint { get; }

    internal LinkState State { get; set; } = LinkState.Unknown;

    /// <summary>True between the handshake and the end of the connection (as the loop last heard).</summary>
    internal bool Up { get; set; }

    /// <summary>When the server last sent anything (TickCount64).</summary>
    internal long LastHeard { get; set; }

    /// <summary>When the last PING went out (TickCount64), 0 when none is outstanding.</summary>
    internal long ProbeSentAt { get; set; }

    /// <summary>Why the last connection attempt failed or the connection ended (written by the monitor task).</summary>
    internal string? LastFailure { get; private set; }

    /// <summary>What this server last said is registered under each watched name.</summary>
    internal Dictionary<string, HashSet<string>> Views { get; } = new(StringComparer.Ordinal);

    internal void Start(ChannelWriter<ClientInput> inbox)
    {
        _dealer.Connect(Endpoint);
        _receiving = ReceiveAsync(inbox);
        _monitoring = MonitorAsync(inbox);
    }

    /// <summary>Sends one request (the loop only). Never blocks: the pipe has no limit.</summary>
    internal void Send(byte[][] frames)
    {
        for (int i = 0; i < frames.Length; i++)
        {
            Msg frame = Msg.Copy(frames[i], more: i < frames.Length - 1);
            _dealer.TrySend(ref frame, TimeSpan.Zero);
            frame.Dispose();
        }
    }

    private async Task ReceiveAsync(ChannelWriter<ClientInput> inbox)
    {
        await Task.Yield();
        var frames = new List<byte[]>();
        try
        {
            while (true)
            {
                bool more;
                do
                {
                    Msg frame = await _dealer.ReceiveAsync(_stop.Token).ConfigureAwait(false);
                    more = frame.More;
                    frames.Add(frame.ToArray());
                    frame.Dispose();
                }
                while (more);

                inbox.TryWrite(new ServerMessageInput(this, [.. frames]));
                frames.Clear();
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task MonitorAsync(ChannelWriter<ClientInput> inbox)
    {
        try
        {
            await foreach (MonitorEvent e in _dealer.MonitorAsync(_stop.Token).ConfigureAwait(false))
            {
                switch (e.Kind)
                {
                    case MonitorEventKind.HandshakeSucceeded:
                        inbox.TryWrite(new ServerUpInput(this, true));
                        break;
                    case MonitorEventKind.Disconnected or MonitorEventKind.PeerDead or MonitorEventKind.ProtocolError:
                        LastFailure = $"{e.Kind}: {e.Reason}";
                        inbox.TryWrite(new ServerUpInput(this, false));
                        break;
                    case MonitorEventKind.ConnectRetried or MonitorEventKind.HandshakeFailed:
                        LastFailure = e.Reason;
                        break;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    internal async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _dealer.DisposeAsync().ConfigureAwait(false);
        await Task.WhenAll(_receiving, _monitoring).ConfigureAwait(false);
        _stop.Dispose();
    }
}

/// <summary>A directory server's standing with the client.</summary>
internal enum LinkState : byte
{
    /// <summary>Never heard from yet.</summary>
    Unknown,
    Reachable,
    Unreachable,
}
