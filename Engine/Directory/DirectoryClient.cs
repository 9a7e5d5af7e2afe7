using System.Runtime.CompilerServices;

namespace Engine.Directory;

/// <summary>
/// Talks to one or more <see cref="DirectoryServer"/>s: registers endpoints under names (renewed
/// in the background), resolves names, and watches them for changes.
/// </summary>
/// <remarks>
/// <para><b>Replication.</b> Give it two or more servers. Registrations, renewals and watches go to
/// every server; a name resolves to the union of what the servers answer. Servers never talk to
/// each other: their state is soft (leases), so one that restarts empty is refilled as soon as the
/// client reconnects to it, and by the next renewal (a third of the lease) at the latest.</para>
/// <para><b>Consistency.</b> An endpoint is present while any reachable server has it (the union;
/// when no server is reachable the last known views are kept, so sockets keep their peers).
/// Additions reach a watcher one push after the registration; a clean unregister one push after it.
/// A dead owner's endpoint disappears when its lease runs out on the last server that has it: at
/// most one lease after its last renewal, plus one push. A push lost on the way is repaired by the
/// next watch renewal (a third of <see cref="DirectoryClientOptions.WatchLease"/>).</para>
/// <para><b>Threading.</b> One loop task owns the sockets (one DEALER per server) and all state;
/// the methods here post to it and await, never block. A server that stops answering is reported
/// through <see cref="StatusChanged"/>, and the client carries on with the others.</para>
/// </remarks>
public sealed class DirectoryClient : IAsyncDisposable, IDisposable
{
    private readonly DirectoryClientLoop _loop;
    private readonly Task _running;
    private int _closed;

    /// <summary>A client of the directory servers at <paramref name="servers"/> (e.g. <c>tcp://10.0.0.1:5670</c>); it connects at once and keeps reconnecting.</summary>
    public DirectoryClient(IEnumerable<string> servers, DirectoryClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(servers);
        Options = options ?? new DirectoryClientOptions();
        var endpoints = new List<string>();
        foreach (string server in servers)
        {
            Endpoint parsed = Endpoint.Parse(server);
            if (parsed.Transport == TransportKind.Directory)
            {
                throw new ArgumentException($"'{server}' is a name; a directory server is reached by tcp, ipc or inproc.", nameof(servers));
            }

            if (endpoints.Contains(server))
            {
                throw new ArgumentException($"'{server}' is listed twice.", nameof(servers));
            }

            endpoints.Add(server);
        }

        if (endpoints.Count == 0)
        {
            throw new ArgumentException("Give at least one directory server (two or more for redundancy).", nameof(servers));
        }

        Servers = endpoints;
        var links = new ServerLink[endpoints.Count];
        for (int i = 0; i < links.Length; i++)
        {
            links[i] = new ServerLink(endpoints[i], Options);
        }

        _loop = new DirectoryClientLoop(links, Options, OnStatusChanged);
        _running = _loop.RunAsync();
    }

    /// <summary>A client of the given servers with default options.</summary>
    public DirectoryClient(params string[] servers)
        : this((IEnumerable<string>)servers)
    {
    }

    /// <summary>The directory servers, as given.</summary>
    public IReadOnlyList<string> Servers { get; }

    /// <summary>The client's timing.</summary>
    public DirectoryClientOptions Options { get; }

    /// <summary>
    /// A server became reachable or unreachable, or refused a request. Raised on the client's loop:
    /// handlers must be quick and must not block (post the event elsewhere if they need to wait).
    /// </summary>
    public event EventHandler<DirectoryEvent>? StatusChanged;

    /// <summary>
    /// Registers <paramref name="endpoint"/> under <paramref name="name"/> on every server and keeps
    /// renewing it every <paramref name="lease"/>/3 until the returned registration is disposed.
    /// </summary>
    /// <returns>The registration, once at least one server acknowledged it.</returns>
    /// <exception cref="ArgumentException">The name, endpoint or lease is not allowed (the message says why).</exception>
    /// <exception cref="TimeoutException">No server acknowledged within <see cref="DirectoryClientOptions.RequestTimeout"/> (nothing stays registered).</exception>
    public async Task<DirectoryRegistration> RegisterAsync(string name, string endpoint, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        DirectoryRegistration registration = Register(name, endpoint, lease);
        try
        {
            await registration.Acknowledged.Task.WaitAsync(Options.RequestTimeout, cancellationToken).ConfigureAwait(false);
            return registration;
        }
        catch (TimeoutException)
        {
            registration.End();
            throw new TimeoutException($"No directory server acknowledged '{name}' -> '{endpoint}' within {Options.RequestTimeout.TotalMilliseconds:0} ms (servers: {string.Join(", ", Servers)}).");
        }
        catch
        {
            registration.End();
            throw;
        }
    }

    /// <summary>Registers without waiting for an acknowledgement: renewals go on (and reach servers that come back) until it is ended.</summary>
    internal DirectoryRegistration Register(string name, string endpoint, TimeSpan lease)
    {
        ThrowIfInvalid(DirectoryProtocol.NameProblem(name), nameof(name));
        ThrowIfInvalid(DirectoryProtocol.EndpointProblem(endpoint), nameof(endpoint));
        ThrowIfInvalid(DirectoryProtocol.LeaseProblem(lease), nameof(lease));
        var registration = new DirectoryRegistration(this, name, endpoint, lease);
        Post(new RegisterInput(registration));
        return registration;
    }

    /// <summary>
    /// The endpoints registered under <paramref name="name"/>: the union of the answers of every
    /// reachable server (each is asked; the answer comes when all reachable ones replied).
    /// </summary>
    /// <exception cref="TimeoutException">No server answered within <see cref="DirectoryClientOptions.RequestTimeout"/>.</exception>
    public Task<IReadOnlyList<string>> ResolveAsync(string name, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalid(DirectoryProtocol.NameProblem(name), nameof(name));
        var result = new TaskCompletionSource<IReadOnlyList<string>>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(new ResolveInput(name, result));
        return result.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Watches <paramref name="name"/>: first an <see cref="DirectoryChangeKind.Added"/> for each
    /// current endpoint and one <see cref="DirectoryChangeKind.Synced"/>, then every change, merged
    /// over the servers. Unreachable servers do not end the enumeration (see <see cref="StatusChanged"/>);
    /// cancellation or disposing the client does.
    /// </summary>
    public IAsyncEnumerable<DirectoryChange> WatchAsync(string name, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalid(DirectoryProtocol.NameProblem(name), nameof(name));
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _closed) != 0, this);
        return Watch(name, cancellationToken);
    }

    private async IAsyncEnumerable<DirectoryChange> Watch(string name, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var subscriber = new WatchSubscriber(name);
        Post(new SubscribeInput(subscriber));
        try
        {
            await foreach (DirectoryChange change in subscriber.Changes.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return change;
            }
        }
        finally
        {
            _loop.Inbox.TryWrite(new UnsubscribeInput(subscriber));
        }
    }

    internal ValueTask UnregisterAsync(DirectoryRegistration registration)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _loop.Inbox.TryWrite(new UnregisterInput(registration, done)) ? new ValueTask(done.Task) : default;
    }

    internal void Unregister(DirectoryRegistration registration) => _loop.Inbox.TryWrite(new UnregisterInput(registration, null));

    /// <summary>Unregisters everything (waiting up to the request timeout for the servers), ends every watch, closes the sockets.</summary>
    public ValueTask DisposeAsync() => StopAsync(unregister: true);

    /// <inheritdoc cref="DisposeAsync"/>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Stops the way a killed process would: no unregister, the servers find out by lease expiry (for tests of exactly that).</summary>
    internal ValueTask AbandonAsync() => StopAsync(unregister: false);

    private async ValueTask StopAsync(bool unregister)
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _loop.Inbox.TryWrite(new StopInput(unregister, done));
        }

        await _running.ConfigureAwait(false);
    }

    private void Post(ClientInput input)
    {
        if (Volatile.Read(ref _closed) != 0 || !_loop.Inbox.TryWrite(input))
        {
            throw new ObjectDisposedException(nameof(DirectoryClient), "The directory client is closed.");
        }
    }

    private void OnStatusChanged(DirectoryEvent directoryEvent)
    {
        EventHandler<DirectoryEvent>? handlers = StatusChanged;
        if (handlers is null)
        {
            return;
        }

        foreach (EventHandler<DirectoryEvent> handler in handlers.GetInvocationList().Cast<EventHandler<DirectoryEvent>>())
        {
            try
            {
                handler(this, directoryEvent);
            }
            catch (Exception)
            {
                // One faulty handler must not stop the loop or the other handlers.
            }
        }
    }

    private static void ThrowIfInvalid(string? problem, string parameter)
    {
        if (problem is not null)
        {
            throw new ArgumentException($"Invalid {parameter}: {problem}.", parameter);
        }
    }
}
