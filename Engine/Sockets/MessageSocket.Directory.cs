using System.Net;
using Engine.Directory;

namespace Engine.Sockets;

/// <summary>Names instead of addresses: <c>Connect("dir://name")</c> follows a name, <c>Bind(endpoint, registerAs)</c> publishes one.</summary>
public abstract partial class MessageSocket
{
    private readonly object _directoryGate = new();
    private readonly Dictionary<string, NameConnector> _followedNames = new(StringComparer.Ordinal);
    private readonly List<(string Requested, string Bound, DirectoryRegistration Registration)> _directoryRegistrations = new();
    private readonly List<DirectoryClient> _directories = new();

    /// <summary>
    /// Binds <paramref name="endpoint"/> like <see cref="Bind(string)"/>, then registers the bound
    /// endpoint under <paramref name="registerAs"/> in <see cref="SocketOptions.Directory"/> with a
    /// lease renewed in the background. <see cref="Unbind"/> and closing the socket unregister it.
    /// </summary>
    /// <param name="endpoint">What to bind. A wildcard host (<c>tcp://*:0</c>) is registered as this machine's host name.</param>
    /// <param name="registerAs">The name: 1 to 255 letters, digits, '-', '_' or '.'.</param>
    /// <param name="lease">How long the directory keeps the entry if this process dies; defaults to the client's <see cref="DirectoryClientOptions.DefaultLease"/>.</param>
    /// <returns>The endpoint as bound.</returns>
    /// <exception cref="InvalidOperationException"><see cref="SocketOptions.Directory"/> is not set.</exception>
    public string Bind(string endpoint, string registerAs, TimeSpan? lease = null)
    {
        ThrowIfDisposed();
        DirectoryClient directory = RequireDirectory($"register '{registerAs}'");
        if (DirectoryProtocol.NameProblem(registerAs) is { } problem)
        {
            throw new ArgumentException($"Cannot register as '{registerAs}': {problem}.", nameof(registerAs));
        }

        TimeSpan leaseTime = lease ?? directory.Options.DefaultLease;
        if (DirectoryProtocol.LeaseProblem(leaseTime) is { } leaseProblem)
        {
            throw new ArgumentOutOfRangeException(nameof(lease), leaseTime, $"Cannot register '{registerAs}': {leaseProblem}.");
        }

        string bound = Bind(endpoint);
        DirectoryRegistration registration;
        try
        {
            // Not awaited: a directory that is down must not stop a service from starting; the
            // registration is renewed (and so reaches servers that come back) until unbound.
            registration = directory.Register(registerAs, Advertised(bound), leaseTime);
        }
        catch
        {
            Unbind(bound);
            throw;
        }

        lock (_directoryGate)
        {
            _directoryRegistrations.Add((endpoint, bound, registration));
        }

        ForwardDirectoryStatus(directory);
        return bound;
    }

    private void RefuseDirectoryBind(Endpoint parsed)
    {
        if (parsed.Transport == TransportKind.Directory)
        {
            throw new ArgumentException($"Cannot bind '{parsed}': a name is not an address. Bind an address and register it: Bind(\"tcp://127.0.0.1:0\", registerAs: \"{parsed.Address}\").", "endpoint");
        }
    }

    /// <summary>Starts following a name: connects to its endpoints now and as they change.</summary>
    private void ConnectByName(Endpoint parsed)
    {
        DirectoryClient directory = RequireDirectory($"connect to '{parsed}'");
        var follower = new NameConnector(this, directory, parsed.Address);
        lock (_directoryGate)
        {
            if (!_followedNames.TryAdd(parsed.Address, follower))
            {
                throw new ArgumentException($"'{parsed}' is already connected on this socket.", "endpoint");
            }
        }

        ForwardDirectoryStatus(directory);
        follower.Start();
    }

    /// <summary>Stops following a name and disconnects the endpoints it brought.</summary>
    private void DisconnectByName(Endpoint parsed)
    {
        NameConnector? follower;
        lock (_directoryGate)
        {
            _followedNames.Remove(parsed.Address, out follower);
        }

        if (follower is null)
        {
            throw new ArgumentException($"'{parsed}' is not connected on this socket.", "endpoint");
        }

        follower.StopAsync(disconnect: true).GetAwaiter().GetResult();
    }

    /// <summary>Unbind: the endpoint leaves the directory before the listener stops.</summary>
    private void EndDirectoryRegistration(string endpoint)
    {
        lock (_directoryGate)
        {
            for (int i = _directoryRegistrations.Count - 1; i >= 0; i--)
            {
                if (_directoryRegistrations[i].Requested == endpoint || _directoryRegistrations[i].Bound == endpoint)
                {
                    _directoryRegistrations[i].Registration.End();
                    _directoryRegistrations.RemoveAt(i);
                }
            }
        }
    }

    /// <summary>
    /// Unregisters every name this socket published, so sockets following them move away. Close
    /// does it first; a drain should too, before it stops accepting (one call at its start).
    /// </summary>
    private void WithdrawNames()
    {
        lock (_directoryGate)
        {
            foreach ((_, _, DirectoryRegistration registration) in _directoryRegistrations)
            {
                registration.End();
            }

            _directoryRegistrations.Clear();
        }
    }

    /// <summary>Close: unregister every name first (watchers move away while we still listen), then stop following names.</summary>
    private async ValueTask CloseDirectoryAsync()
    {
        WithdrawNames();
        NameConnector[] followers;
        DirectoryClient[] directories;
        lock (_directoryGate)
        {
            followers = [.. _followedNames.Values];
            _followedNames.Clear();
            directories = [.. _directories];
            _directories.Clear();
        }

        foreach (NameConnector follower in followers)
        {
            await follower.StopAsync(disconnect: false).ConfigureAwait(false);
        }

        foreach (DirectoryClient directory in directories)
        {
            directory.StatusChanged -= OnDirectoryStatus;
        }
    }

    private DirectoryClient RequireDirectory(string action) =>
        Options.Directory ?? throw new InvalidOperationException(
            $"Cannot {action}: set SocketOptions.Directory to a DirectoryClient (new DirectoryClient(\"tcp://host:5670\", ...)) before connecting to or registering names.");

    private void ForwardDirectoryStatus(DirectoryClient directory)
    {
        lock (_directoryGate)
        {
            if (_directories.Contains(directory))
            {
                return;
            }

            _directories.Add(directory);
        }

        directory.StatusChanged += OnDirectoryStatus;
    }

    private void OnDirectoryStatus(object? sender, DirectoryEvent e)
    {
        switch (e.Kind)
        {
            case DirectoryEventKind.ServerUnreachable:
                Monitor.Raise(MonitorEventKind.DirectoryUnreachable, e.Server, $"{e.Detail}; {e.ReachableServers} directory server(s) reachable, current connections kept");
                break;
            case DirectoryEventKind.ServerReachable:
                Monitor.Raise(MonitorEventKind.DirectoryReachable, e.Server, e.Detail);
                break;
        }
    }

    /// <summary>What peers should connect to: a wildcard bind is registered under this machine's host name.</summary>
    private static string Advertised(string bound)
    {
        Endpoint parsed = Endpoint.Parse(bound);
        if (parsed.Transport == TransportKind.Tcp && IPAddress.TryParse(parsed.Host, out IPAddress? address)
            && (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)))
        {
            return $"tcp://{Dns.GetHostName()}:{parsed.Port}";
        }

        return bound;
    }
}
