using static Engine.Directory.DirectoryProtocol;

namespace Engine.Directory;

/// <summary>Requests: how they are sent to the servers, and when they count as answered.</summary>
internal sealed partial class DirectoryClientLoop
{
    private void SendRegister(DirectoryRegistration registration, IEnumerable<ServerLink> targets, long now) =>
        Issue(RequestKind.Register, Register, now, [Ascii(registration.Name), Utf8(registration.Endpoint), UInt32((uint)registration.Lease.TotalMilliseconds)], targets, registration.Name, registration);

    private void SendUnregister(DirectoryRegistration registration, TaskCompletionSource? done, long now)
    {
        _registrations.Remove(registration);
        PendingRequest pending = Issue(RequestKind.Unregister, Unregister, now, [Ascii(registration.Name), Utf8(registration.Endpoint)], UpLinks(), registration.Name, registration, done);
        CheckDone(pending);
    }

    private void SendWatch(WatchEntry entry, IEnumerable<ServerLink> targets, long now) =>
        Issue(RequestKind.Watch, Watch, now, [Ascii(entry.Name), UInt32((uint)_options.WatchLease.TotalMilliseconds)], targets, entry.Name);

    private void SendUnwatch(string name, long now)
    {
        foreach (ServerLink link in _links)
        {
            link.Views.Remove(name);
        }

        Issue(RequestKind.Unwatch, Unwatch, now, [Ascii(name)], UpLinks(), name);
    }

    private PendingRequest Issue(
        RequestKind kind,
        string command,
        long now,
        byte[][] arguments,
        IEnumerable<ServerLink> targets,
        string name = "",
        DirectoryRegistration? registration = null,
        TaskCompletionSource? done = null,
        TaskCompletionSource<IReadOnlyList<string>>? resolved = null)
    {
        do
        {
            _lastId++;
        }
        while (_lastId == 0 || _pending.ContainsKey(_lastId));

        var frames = new byte[arguments.Length + 3][];
        frames[0] = VersionFrame;
        frames[1] = Ascii(command);
        frames[2] = UInt32(_lastId);
        arguments.CopyTo(frames, 3);
        var pending = new PendingRequest(kind, _lastId, frames, now + _timeoutMs)
        {
            Name = name,
            Registration = registration,
            Done = done,
            Resolved = resolved,
            Union = resolved is null ? null : new HashSet<string>(StringComparer.Ordinal),
        };
        _pending[pending.Id] = pending;
        foreach (ServerLink target in targets)
        {
            pending.Targets.Add(target);
            target.Send(frames);
        }

        return pending;
    }

    private void CheckDone(PendingRequest pending)
    {
        bool done = pending.Kind == RequestKind.Resolve
            ? pending.Answers > 0 && pending.AllAnswered(skipUnreachable: true)
            : pending.Targets.Count == 0 ? pending.Kind == RequestKind.Unregister : pending.AllAnswered(skipUnreachable: false);
        if (done)
        {
            Complete(pending);
        }
    }

    private void Expire(PendingRequest pending)
    {
        if (pending.Kind == RequestKind.Resolve && pending.Answers == 0)
        {
            pending.Resolved!.TrySetException(new TimeoutException(
                $"No directory server answered RESOLVE {pending.Name} within {_timeoutMs} ms ({DescribeServers()})."));
            _finished.Add(pending);
            return;
        }

        Complete(pending);
    }

    private void Complete(PendingRequest pending)
    {
        if (pending.Resolved is not null)
        {
            var endpoints = new List<string>(pending.Union!);
            endpoints.Sort(StringComparer.Ordinal);
            pending.Resolved.TrySetResult(endpoints);
        }

        pending.Done?.TrySetResult();
        _finished.Add(pending);
    }

    private void RemoveFinished()
    {
        foreach (PendingRequest pending in _finished)
        {
            _pending.Remove(pending.Id);
        }

        _finished.Clear();
    }

    private bool AnyPending(RequestKind kind)
    {
        foreach (PendingRequest pending in _pending.Values)
        {
            if (pending.Kind == kind)
            {
                return true;
            }
        }

        return false;
    }

    private List<ServerLink> UpLinks()
    {
        var up = new List<ServerLink>(_links.Length);
        foreach (ServerLink link in _links)
        {
            if (link.Up)
            {
                up.Add(link);
            }
        }

        return up;
    }
}
