using System.Text;
using Microsoft.Extensions.Logging;
using static Engine.Directory.DirectoryProtocol;

namespace Engine.Directory;

/// <summary>Timers: renewals, probes, and deciding that a server is unreachable.</summary>
internal sealed partial class DirectoryClientLoop
{
    /// <summary>Renewals, probes, liveness and request deadlines; returns when it next has something to do.</summary>
    private long Housekeep(long now)
    {
        long next = now + _probeMs;
        foreach (DirectoryRegistration registration in _registrations)
        {
            if (registration.NextRenewal <= now)
            {
                registration.NextRenewal = now + (long)(registration.Lease.TotalMilliseconds / 3);
                SendRegister(registration, UpLinks(), now);
            }

            next = Math.Min(next, registration.NextRenewal);
        }

        foreach (WatchEntry entry in _watches.Entries)
        {
            if (entry.NextRenewal <= now)
            {
                entry.NextRenewal = now + (long)(_options.WatchLease.TotalMilliseconds / 3);
                SendWatch(entry, UpLinks(), now);
            }

            next = Math.Min(next, entry.NextRenewal);
        }

        foreach (ServerLink link in _links)
        {
            next = Math.Min(next, CheckLiveness(link, now));
        }

        foreach (PendingRequest pending in _pending.Values)
        {
            if (pending.Deadline <= now)
            {
                Expire(pending);
            }
            else
            {
                next = Math.Min(next, pending.Deadline);
            }
        }

        RemoveFinished();
        return next;
    }

    private long CheckLiveness(ServerLink link, long now)
    {
        long silent = now - link.LastHeard;
        if (link.Up && silent >= _probeMs && (link.ProbeSentAt == 0 || now - link.ProbeSentAt >= _timeoutMs))
        {
            link.ProbeSentAt = now;
            Issue(RequestKind.Ping, Ping, now, [], [link]);
        }

        long unreachableAt = link.LastHeard + _probeMs + _timeoutMs;
        if (link.State != LinkState.Unreachable && now > unreachableAt)
        {
            SetState(link, LinkState.Unreachable, link.Up ? $"no answer for {silent} ms" : $"not connected for {silent} ms ({link.LastFailure ?? "connecting"})");
        }

        return link.State == LinkState.Unreachable ? long.MaxValue : unreachableAt + 1;
    }

    private void SetState(ServerLink link, LinkState state, string detail)
    {
        link.State = state;
        Raise(state == LinkState.Reachable ? DirectoryEventKind.ServerReachable : DirectoryEventKind.ServerUnreachable, link, detail);
        foreach (WatchEntry entry in _watches.Entries)
        {
            _watches.Merge(entry, _links);
        }

        foreach (PendingRequest pending in _pending.Values)
        {
            CheckDone(pending);
        }
    }

    private string DescribeServers()
    {
        var text = new StringBuilder();
        foreach (ServerLink link in _links)
        {
            text.Append(text.Length == 0 ? string.Empty : "; ").Append(link.Endpoint).Append(": ")
                .Append(link.State == LinkState.Reachable ? "reachable" : link.LastFailure ?? (link.Up ? "silent" : "connecting"));
        }

        return text.ToString();
    }

    private void Raise(DirectoryEventKind kind, ServerLink link, string detail)
    {
        int reachable = 0;
        foreach (ServerLink each in _links)
        {
            reachable += each.State == LinkState.Reachable ? 1 : 0;
        }

        var directoryEvent = new DirectoryEvent(kind, link.Endpoint, detail, reachable);
        _options.Logger.Log(kind == DirectoryEventKind.ServerReachable ? LogLevel.Information : LogLevel.Warning, "Directory client: {Event}", directoryEvent.ToString());
        _raise(directoryEvent);
    }
}
