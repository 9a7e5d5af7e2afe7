using Engine.Sockets;

namespace Engine.Directory;

/// <summary>
/// Keeps a socket connected to whatever is registered under one name: connects to each endpoint
/// as it appears and disconnects each one that goes (the socket re-routes what was queued for it).
/// </summary>
/// <remarks>
/// One task follows the client's watch; it alone touches <see cref="_connected"/> until it ends.
/// When the directory is unreachable the watch simply yields nothing new, so the socket keeps the
/// connections it has (and their reconnect loops) until the directory says otherwise.
/// </remarks>
internal sealed class NameConnector
{
    private readonly MessageSocket _socket;
    private readonly DirectoryClient _client;
    private readonly CancellationTokenSource _stop = new();
    private readonly HashSet<string> _connected = new(StringComparer.Ordinal);
    private Task _following = Task.CompletedTask;

    internal NameConnector(MessageSocket socket, DirectoryClient client, string name)
    {
        _socket = socket;
        _client = client;
        Name = name;
    }

    internal string Name { get; }

    private string Address => "dir://" + Name;

    internal void Start() => _following = FollowAsync();

    private async Task FollowAsync()
    {
        await Task.Yield();
        try
        {
            await foreach (DirectoryChange change in _client.WatchAsync(Name, _stop.Token).ConfigureAwait(false))
            {
                await ApplyAsync(change).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
            // The socket or the directory client closed under us: nothing left to follow.
        }
    }

    private async Task ApplyAsync(DirectoryChange change)
    {
        switch (change.Kind)
        {
            case DirectoryChangeKind.Synced:
                _socket.Monitor.Raise(MonitorEventKind.DirectoryResolved, Address, $"{_connected.Count} endpoint(s)");
                break;
            case DirectoryChangeKind.Added when _connected.Add(change.Endpoint):
                try
                {
                    _socket.Connect(change.Endpoint);
                    _socket.Monitor.Raise(MonitorEventKind.DirectoryChanged, Address, "added " + change.Endpoint);
                }
                catch (ArgumentException e)
                {
                    _connected.Remove(change.Endpoint);
                    _socket.Monitor.Raise(MonitorEventKind.DirectoryChanged, Address, $"cannot connect {change.Endpoint}: {e.Message}");
                }

                break;
            case DirectoryChangeKind.Removed when _connected.Remove(change.Endpoint):
                await DisconnectAsync(change.Endpoint).ConfigureAwait(false);
                _socket.Monitor.Raise(MonitorEventKind.DirectoryChanged, Address, "removed " + change.Endpoint);
                break;
        }
    }

    /// <summary>
    /// <c>Disconnect</c> waits (briefly, no network round trip) for the connection's loops to end;
    /// removals are rare, so it gets a thread of its own rather than blocking a pool thread.
    /// </summary>
    private Task DisconnectAsync(string endpoint) =>
        Task.Factory.StartNew(
            static state =>
            {
                (NameConnector self, string target) = ((NameConnector, string))state!;
                self.Disconnect(target);
            },
            (this, endpoint),
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

    private void Disconnect(string endpoint)
    {
        try
        {
            _socket.Disconnect(endpoint);
        }
        catch (ArgumentException)
        {
            // The application disconnected it itself.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Stops following; with <paramref name="disconnect"/> also drops every endpoint it connected.</summary>
    internal async Task StopAsync(bool disconnect)
    {
        _stop.Cancel();
        await _following.ConfigureAwait(false);
        if (disconnect)
        {
            foreach (string endpoint in _connected)
            {
                Disconnect(endpoint);
            }
        }

        _connected.Clear();
        _stop.Dispose();
    }
}
