using Engine.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static Engine.Directory.DirectoryProtocol;

namespace Engine.Directory;

/// <summary>Options of a <see cref="DirectoryServer"/>.</summary>
public sealed class DirectoryServerOptions
{
    private int _maxEntries = 100_000;

    /// <summary>Registrations (and, separately, watches) the server holds at most; more are refused with an error reply. Defaults to 100 000.</summary>
    public int MaxEntries
    {
        get => _maxEntries;
        set => _maxEntries = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(MaxEntries), value, "MaxEntries must be 1 or more.");
    }

    /// <summary>Where refused requests and expiries are logged. Defaults to a logger that discards.</summary>
    public ILogger Logger { get; set; } = NullLogger.Instance;
}

/// <summary>
/// A directory server: names to endpoints, with leases and watches, over our own ROUTER socket.
/// Embed it in any process or run it with <c>Butterfly directory --bind tcp://127.0.0.1:5670</c>.
/// </summary>
/// <remarks>
/// <para>All state is soft: it lives in memory, registrations expire unless renewed, and clients
/// renew at a third of their lease, so a server that restarts empty is refilled within that time.
/// Run two or more for redundancy; they never talk to each other (see <see cref="DirectoryClient"/>).</para>
/// <para>One task owns the socket and the table: it receives a request, answers it, pushes
/// changes to watchers, and expires leases at their deadline. No locks.</para>
/// <para>The wire protocol is documented on <c>DirectoryProtocol</c> in the source. A malformed
/// request gets an ERROR reply saying which field is wrong; it never affects other clients.</para>
/// </remarks>
public sealed class DirectoryServer : IAsyncDisposable, IDisposable
{
    private readonly RouterSocket _router;
    private readonly DirectoryTable _table;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<byte[]> _frames = new(MaxRequestFrames + 2);
    private readonly List<(string Name, string Endpoint)> _expired = new();
    private Task _loop = Task.CompletedTask;
    private long _rejected;
    private int _disposed;

    private DirectoryServer(RouterSocket router, string endpoint, DirectoryServerOptions options)
    {
        _router = router;
        Endpoint = endpoint;
        _table = new DirectoryTable(options.MaxEntries);
        _logger = options.Logger;
    }

    /// <summary>The endpoint the server listens on, as bound (with the real port).</summary>
    public string Endpoint { get; }

    /// <summary>Registrations held right now (approximate while requests are being handled).</summary>
    public int Registrations => Volatile.Read(ref _registrations);

    /// <summary>Requests answered with an error since the server started.</summary>
    public long RejectedRequests => Interlocked.Read(ref _rejected);

    private int _registrations;

    /// <summary>Binds <paramref name="endpoint"/> (e.g. <c>tcp://127.0.0.1:5670</c>, or port 0 for a free one) and starts serving.</summary>
    public static DirectoryServer Start(string endpoint, DirectoryServerOptions? options = null)
    {
        options ??= new DirectoryServerOptions();
        var router = new RouterSocket(new SocketOptions
        {
            // A request is a handful of short frames: anything bigger is not a directory client.
            MaxMessageSize = 64 * 1024,
            Linger = TimeSpan.Zero,
            Logger = options.Logger,
        })
        {
            // Closed by the server's own Dispose. A process-wide drain must leave it alone: drained,
            // its receive throws SocketDrainedException and the server loop dies while the process's
            // own sockets still need it to unregister their names.
            IsEngineInternal = true,
        };
        try
        {
            string bound = router.Bind(endpoint);
            var server = new DirectoryServer(router, bound, options);
            server._loop = server.RunAsync();
            return server;
        }
        catch
        {
            router.Dispose();
            throw;
        }
    }

    private async Task RunAsync()
    {
        // Off the caller's stack at once: Start returns while the loop waits for requests.
        await Task.Yield();
        while (!_stop.IsCancellationRequested)
        {
            long now = Environment.TickCount64;
            ExpireDue(now);
            int total;
            try
            {
                total = await ReceiveRequestAsync(_table.NextDeadline - now).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                continue;
            }
            catch (ObjectDisposedException)
            {
                break;
            }

            try
            {
                Handle(total, Environment.TickCount64);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A bug must not take the directory down for every client: log it and serve on.
                _logger.LogError(e, "Directory: failed to handle a request");
            }

            Volatile.Write(ref _registrations, _table.EntryCount);
        }
    }

    /// <summary>Reads one whole message into <see cref="_frames"/> (keeping the first few frames); waits at most <paramref name="waitMs"/> for it to start.</summary>
    /// <returns>How many frames the message had.</returns>
    private async ValueTask<int> ReceiveRequestAsync(long waitMs)
    {
        _frames.Clear();
        if (!_router.TryReceive(out Msg frame, TimeSpan.Zero))
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            if (waitMs < int.MaxValue)
            {
                deadline.CancelAfter(TimeSpan.FromMilliseconds(Math.Max(1, waitMs)));
            }

            frame = await _router.ReceiveAsync(deadline.Token).ConfigureAwait(false);
        }

        int total = 0;
        while (true)
        {
            total++;
            if (_frames.Count < MaxRequestFrames + 2)
            {
                _frames.Add(frame.ToArray());
            }

            bool more = frame.More;
            frame.Dispose();
            if (!more)
            {
                return total;
            }

            // A message arrives whole, so the rest is normally here already.
            if (!_router.TryReceive(out frame, TimeSpan.Zero))
            {
                frame = await _router.ReceiveAsync(_stop.Token).ConfigureAwait(false);
            }
        }
    }

    private void Handle(int total, long now)
    {
        byte[] client = _frames[0];

        // A REQ client puts an empty delimiter first; keep it for the reply so REQ accepts it.
        bool delimited = _frames.Count > 1 && _frames[1].Length == 0;
        int first = delimited ? 2 : 1;
        List<byte[]> body = _frames.GetRange(first, _frames.Count - first);
        DirectoryRequest? request = DirectoryRequest.Parse(body, total - first, out uint requestId, out string? error);
        if (request is null)
        {
            Refuse(client, delimited, requestId, error!);
            return;
        }

        byte[] id = UInt32(request.RequestId);
        switch (request.Command)
        {
            case Register:
                error = _table.Register(request.Name, request.Endpoint, request.LeaseMs, now, out bool added);
                if (error is not null)
                {
                    Refuse(client, delimited, requestId, error);
                    return;
                }

                Send(client, delimited, Ascii(Ok), id);
                if (added)
                {
                    Notify(request.Name, AddedMark, request.Endpoint);
                }

                break;
            case Unregister:
                bool removed = _table.Unregister(request.Name, request.Endpoint);
                Send(client, delimited, Ascii(Ok), id);
                if (removed)
                {
                    Notify(request.Name, RemovedMark, request.Endpoint);
                }

                break;
            case Resolve:
                SendEndpoints(client, delimited, id, request.Name);
                break;
            case Watch:
                error = _table.Watch(request.Name, client, request.LeaseMs, now);
                if (error is not null)
                {
                    Refuse(client, delimited, requestId, error);
                    return;
                }

                SendEndpoints(client, delimited, id, request.Name);
                break;
            case Unwatch:
                _table.Unwatch(request.Name, client);
                Send(client, delimited, Ascii(Ok), id);
                break;
            default:
                Send(client, delimited, Ascii(Ok), id);
                break;
        }
    }

    private void ExpireDue(long now)
    {
        _table.Expire(now, _expired);
        foreach ((string name, string endpoint) in _expired)
        {
            _logger.LogInformation("Directory: lease of {Endpoint} under {Name} expired", endpoint, name);
            Notify(name, RemovedMark, endpoint);
        }

        _expired.Clear();
        Volatile.Write(ref _registrations, _table.EntryCount);
    }

    private void Refuse(byte[] client, bool delimited, uint requestId, string reason)
    {
        Interlocked.Increment(ref _rejected);
        _logger.LogWarning("Directory: refused a request from {Client}: {Reason}", Patterns.RoutingIdComparer.Format(client), reason);
        Send(client, delimited, Ascii(Error), UInt32(requestId), Utf8(reason));
    }

    private void SendEndpoints(byte[] client, bool delimited, byte[] id, string name)
    {
        List<string> endpoints = _table.EndpointsOf(name);
        var frames = new byte[endpoints.Count + 3][];
        frames[0] = Ascii(DirectoryProtocol.Endpoints);
        frames[1] = id;
        frames[2] = Ascii(name);
        for (int i = 0; i < endpoints.Count; i++)
        {
            frames[i + 3] = Utf8(endpoints[i]);
        }

        Send(client, delimited, frames);
    }

    private void Notify(string name, string mark, string endpoint)
    {
        foreach (byte[] watcher in _table.WatchersOf(name))
        {
            Send(watcher, false, Ascii(Change), UInt32(0), Ascii(name), Ascii(mark), Utf8(endpoint));
        }
    }

    /// <summary>Sends [client, (delimiter), "DIR1", frames...]. A ROUTER never blocks: a gone or full client loses the reply (it retries).</summary>
    private void Send(byte[] client, bool delimited, params byte[][] frames)
    {
        SendFrame(client, more: true);
        if (delimited)
        {
            SendFrame([], more: true);
        }

        SendFrame(VersionFrame, more: true);
        for (int i = 0; i < frames.Length; i++)
        {
            SendFrame(frames[i], more: i < frames.Length - 1);
        }
    }

    private void SendFrame(byte[] bytes, bool more)
    {
        Msg frame = Msg.Copy(bytes, more);
        _router.TrySend(ref frame, TimeSpan.Zero);
        frame.Dispose();
    }

    /// <summary>Stops serving and closes the socket. Registrations are not kept: clients refill a restarted server.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stop.Cancel();
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await _router.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    /// <inheritdoc cref="DisposeAsync"/>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
