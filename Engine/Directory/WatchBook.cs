namespace Engine.Directory;

/// <summary>A watched name on the client: who reads it, and the merged set they have been told about.</summary>
internal sealed class WatchEntry(string name)
{
    internal string Name { get; } = name;

    internal List<WatchSubscriber> Subscribers { get; } = new();

    /// <summary>The union the subscribers have been told (every change below was written to each).</summary>
    internal HashSet<string> Merged { get; private set; } = new(StringComparer.Ordinal);

    /// <summary>True once a server answered the WATCH: <see cref="DirectoryChangeKind.Synced"/> may go out.</summary>
    internal bool SnapshotSeen { get; set; }

    internal bool Synced { get; private set; }

    /// <summary>When the watch is renewed next (TickCount64).</summary>
    internal long NextRenewal { get; set; }

    internal void Replace(HashSet<string> merged) => Merged = merged;

    internal void MarkSynced() => Synced = true;
}

/// <summary>
/// The client's watches and the merge rule: an endpoint is present when any server that counts
/// has it. Unreachable servers do not count while another one is reachable; when none is, the
/// last known views all count, so sockets keep what they have instead of dropping every peer.
/// </summary>
internal sealed class WatchBook
{
    private readonly Dictionary<string, WatchEntry> _entries = new(StringComparer.Ordinal);

    internal IEnumerable<WatchEntry> Entries => _entries.Values;

    internal WatchEntry? Find(string name) => _entries.GetValueOrDefault(name);

    /// <summary>Adds a subscriber and tells it the current merged set; true when the name was not watched before.</summary>
    internal bool Add(WatchSubscriber subscriber, out WatchEntry entry)
    {
        bool isNew = !_entries.TryGetValue(subscriber.Name, out WatchEntry? existing);
        entry = existing ?? new WatchEntry(subscriber.Name);
        if (isNew)
        {
            _entries[subscriber.Name] = entry;
        }

        entry.Subscribers.Add(subscriber);
        foreach (string endpoint in Sorted(entry.Merged))
        {
            subscriber.Changes.Writer.TryWrite(new DirectoryChange(DirectoryChangeKind.Added, entry.Name, endpoint));
        }

        if (entry.Synced)
        {
            subscriber.Changes.Writer.TryWrite(new DirectoryChange(DirectoryChangeKind.Synced, entry.Name, string.Empty));
        }

        return isNew;
    }

    /// <summary>Removes a subscriber; returns the entry when nobody watches its name any more (it is then forgotten).</summary>
    internal WatchEntry? Remove(WatchSubscriber subscriber)
    {
        subscriber.Changes.Writer.TryComplete();
        if (!_entries.TryGetValue(subscriber.Name, out WatchEntry? entry) || !entry.Subscribers.Remove(subscriber) || entry.Subscribers.Count > 0)
        {
            return null;
        }

        _entries.Remove(subscriber.Name);
        return entry;
    }

    /// <summary>Recomputes the union for <paramref name="entry"/> and tells every subscriber what changed (additions first: a moving service is never absent).</summary>
    internal void Merge(WatchEntry entry, IReadOnlyList<ServerLink> links)
    {
        bool anyReachable = false;
        foreach (ServerLink link in links)
        {
            anyReachable |= link.State == LinkState.Reachable;
        }

        var union = new HashSet<string>(StringComparer.Ordinal);
        foreach (ServerLink link in links)
        {
            if ((link.State != LinkState.Unreachable || !anyReachable) && link.Views.TryGetValue(entry.Name, out HashSet<string>? view))
            {
                union.UnionWith(view);
            }
        }

        var added = new List<string>();
        foreach (string endpoint in union)
        {
            if (!entry.Merged.Contains(endpoint))
            {
                added.Add(endpoint);
            }
        }

        var removed = new List<string>();
        foreach (string endpoint in entry.Merged)
        {
            if (!union.Contains(endpoint))
            {
                removed.Add(endpoint);
            }
        }

        entry.Replace(union);
        Publish(entry, DirectoryChangeKind.Added, Sorted(added));
        Publish(entry, DirectoryChangeKind.Removed, Sorted(removed));
        if (entry.SnapshotSeen && !entry.Synced)
        {
            entry.MarkSynced();
            Publish(entry, DirectoryChangeKind.Synced, [string.Empty]);
        }
    }

    /// <summary>Ends every enumeration (the client is closing).</summary>
    internal void CompleteAll(Exception? error)
    {
        foreach (WatchEntry entry in _entries.Values)
        {
            foreach (WatchSubscriber subscriber in entry.Subscribers)
            {
                subscriber.Changes.Writer.TryComplete(error);
            }
        }

        _entries.Clear();
    }

    private static void Publish(WatchEntry entry, DirectoryChangeKind kind, List<string> endpoints)
    {
        foreach (string endpoint in endpoints)
        {
            var change = new DirectoryChange(kind, entry.Name, endpoint);
            foreach (WatchSubscriber subscriber in entry.Subscribers)
            {
                subscriber.Changes.Writer.TryWrite(change);
            }
        }
    }

    private static List<string> Sorted(IEnumerable<string> endpoints)
    {
        var list = new List<string>(endpoints);
        list.Sort(StringComparer.Ordinal);
        return list;
    }
}
