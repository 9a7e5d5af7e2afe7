using Engine.Patterns;

namespace Engine.Directory;

/// <summary>
/// The server's soft state: which endpoints are registered under which name, who watches which
/// name, and when each expires. Pure bookkeeping with the clock passed in, so it is testable alone.
/// </summary>
/// <remarks>
/// Expiry uses one priority queue with lazy deletion: every renewal queues a new deadline, and a
/// popped deadline counts only if the entry's current one has passed. With renewals every lease/3
/// the queue holds about four items per live entry.
/// </remarks>
internal sealed class DirectoryTable
{
    private readonly Dictionary<string, Dictionary<string, long>> _endpoints = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<byte[], long>> _watchers = new(StringComparer.Ordinal);
    private readonly PriorityQueue<Expiry, long> _deadlines = new();
    private readonly int _maxEntries;
    private int _entryCount;
    private int _watchCount;

    internal DirectoryTable(int maxEntries)
    {
        _maxEntries = maxEntries;
    }

    internal int EntryCount => _entryCount;

    internal int WatchCount => _watchCount;

    /// <summary>When the earliest queued deadline falls (long.MaxValue when none).</summary>
    internal long NextDeadline => _deadlines.TryPeek(out _, out long at) ? at : long.MaxValue;

    /// <summary>Adds or renews; null on success with <paramref name="added"/> saying whether it is new, otherwise why not.</summary>
    internal string? Register(string name, string endpoint, uint leaseMs, long now, out bool added)
    {
        added = false;
        if (!_endpoints.TryGetValue(name, out Dictionary<string, long>? endpoints))
        {
            endpoints = new Dictionary<string, long>(StringComparer.Ordinal);
            _endpoints[name] = endpoints;
        }

        if (!endpoints.ContainsKey(endpoint))
        {
            if (_entryCount >= _maxEntries)
            {
                DropIfEmpty(name, endpoints);
                return $"the directory is full ({_maxEntries} registrations)";
            }

            _entryCount++;
            added = true;
        }

        long expiresAt = now + leaseMs;
        endpoints[endpoint] = expiresAt;
        _deadlines.Enqueue(new Expiry(name, endpoint, null), expiresAt);
        return null;
    }

    /// <returns>True when the endpoint was registered (and is now gone).</returns>
    internal bool Unregister(string name, string endpoint)
    {
        if (!_endpoints.TryGetValue(name, out Dictionary<string, long>? endpoints) || !endpoints.Remove(endpoint))
        {
            return false;
        }

        _entryCount--;
        DropIfEmpty(name, endpoints);
        return true;
    }

    /// <summary>The endpoints registered under <paramref name="name"/>, in ordinal order (stable replies).</summary>
    internal List<string> EndpointsOf(string name)
    {
        var list = new List<string>();
        if (_endpoints.TryGetValue(name, out Dictionary<string, long>? endpoints))
        {
            list.AddRange(endpoints.Keys);
            list.Sort(StringComparer.Ordinal);
        }

        return list;
    }

    /// <summary>Adds or renews a watch; null on success, otherwise why not.</summary>
    internal string? Watch(string name, byte[] watcher, uint leaseMs, long now)
    {
        if (!_watchers.TryGetValue(name, out Dictionary<byte[], long>? watchers))
        {
            watchers = new Dictionary<byte[], long>(RoutingIdComparer.Instance);
            _watchers[name] = watchers;
        }

        if (!watchers.ContainsKey(watcher))
        {
            if (_watchCount >= _maxEntries)
            {
                DropIfEmpty(name, watchers);
                return $"the directory is full ({_maxEntries} watches)";
            }

            _watchCount++;
        }

        long expiresAt = now + leaseMs;
        watchers[watcher] = expiresAt;
        _deadlines.Enqueue(new Expiry(name, null, watcher), expiresAt);
        return null;
    }

    internal void Unwatch(string name, byte[] watcher)
    {
        if (_watchers.TryGetValue(name, out Dictionary<byte[], long>? watchers) && watchers.Remove(watcher))
        {
            _watchCount--;
            DropIfEmpty(name, watchers);
        }
    }

    /// <summary>The routing ids watching <paramref name="name"/> (a copy: the caller may send while iterating).</summary>
    internal byte[][] WatchersOf(string name) =>
        _watchers.TryGetValue(name, out Dictionary<byte[], long>? watchers) ? [.. watchers.Keys] : [];

    /// <summary>Removes what expired by <paramref name="now"/>; adds each expired registration to <paramref name="expired"/>.</summary>
    internal void Expire(long now, List<(string Name, string Endpoint)> expired)
    {
        while (_deadlines.TryPeek(out Expiry item, out long at) && at <= now)
        {
            _deadlines.Dequeue();
            if (item.Endpoint is not null)
            {
                if (_endpoints.TryGetValue(item.Name, out Dictionary<string, long>? endpoints)
                    && endpoints.TryGetValue(item.Endpoint, out long current) && current <= now)
                {
                    Unregister(item.Name, item.Endpoint);
                    expired.Add((item.Name, item.Endpoint));
                }
            }
            else if (_watchers.TryGetValue(item.Name, out Dictionary<byte[], long>? watchers)
                && watchers.TryGetValue(item.Watcher!, out long current) && current <= now)
            {
                Unwatch(item.Name, item.Watcher!);
            }
        }
    }

    private void DropIfEmpty(string name, Dictionary<string, long> endpoints)
    {
        if (endpoints.Count == 0)
        {
            _endpoints.Remove(name);
        }
    }

    private void DropIfEmpty(string name, Dictionary<byte[], long> watchers)
    {
        if (watchers.Count == 0)
        {
            _watchers.Remove(name);
        }
    }

    private readonly record struct Expiry(string Name, string? Endpoint, byte[]? Watcher);
}
