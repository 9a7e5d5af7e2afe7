using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using static Engine.Directory.DirectoryProtocol;

namespace Engine.Directory;

/// <summary>
/// The one task that owns a <see cref="DirectoryClient"/>'s sockets and state: it sends every
/// request, applies every answer, renews leases and watches, and probes the servers. Everything
/// else only posts <see cref="ClientInput"/> into its inbox, so nothing here takes a lock.
/// </summary>
internal sealed partial class DirectoryClientLoop
{
    private readonly Channel<ClientInput> _inbox = Channel.CreateUnbounded<ClientInput>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ServerLink[] _links;
    private readonly DirectoryClientOptions _options;
    private readonly Action<DirectoryEvent> _raise;
    private readonly long _probeMs;
    private readonly long _timeoutMs;
    private readonly List<DirectoryRegistration> _registrations = new();
    private readonly WatchBook _watches = new();
    private readonly Dictionary<uint, PendingRequest> _pending = new();
    private readonly List<PendingRequest> _finished = new();
    private uint _lastId;
    private StopInput? _stop;
    private long _stopDeadline;

    internal DirectoryClientLoop(ServerLink[] links, DirectoryClientOptions options, Action<DirectoryEvent> raise)
    {
        _links = links;
        _options = options;
        _raise = raise;
        _probeMs = (long)options.ProbeInterval.TotalMilliseconds;
        _timeoutMs = (long)options.RequestTimeout.TotalMilliseconds;
    }

    internal ChannelWriter<ClientInput> Inbox => _inbox.Writer;

    private static long Now => Environment.TickCount64;

    internal async Task RunAsync()
    {
        await Task.Yield();
        long started = Now;
        foreach (ServerLink link in _links)
        {
            link.LastHeard = started;
            link.Start(_inbox.Writer);
        }

        try
        {
            while (true)
            {
                while (_inbox.Reader.TryRead(out ClientInput? input))
                {
                    HandleSafely(input);
                }

                if (_stop is { Unregister: false })
                {
                    // Abandoned: not even one more renewal may go out.
                    break;
                }

                long now = Now;
                long next = Housekeep(now);
                if (_stop is not null && (!AnyPending(RequestKind.Unregister) || now >= _stopDeadline))
                {
                    break;
                }

                long wait = Math.Min(next, _stop is null ? long.MaxValue : _stopDeadline) - Now;
                if (wait > 0)
                {
                    using var timer = new CancellationTokenSource(TimeSpan.FromMilliseconds(wait));
                    try
                    {
                        await _inbox.Reader.WaitToReadAsync(timer.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }
            }
        }
        finally
        {
            await ShutdownAsync().ConfigureAwait(false);
        }
    }

    private void HandleSafely(ClientInput input)
    {
        try
        {
            Handle(input, Now);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A bug must not stop the loop: every caller waits on it.
            _options.Logger.LogError(e, "Directory client: failed to handle {Input}", input.GetType().Name);
        }
    }

    private void Handle(ClientInput input, long now)
    {
        switch (input)
        {
            case ServerMessageInput message:
                OnServerMessage(message.Link, message.Frames, now);
                break;
            case ServerUpInput { Up: true } up:
                up.Link.Up = true;
                Refill(up.Link, now);
                break;
            case ServerUpInput down:
                down.Link.Up = false;
                GiveUpOn(down.Link);
                break;
            case RegisterInput register:
                _registrations.Add(register.Registration);
                register.Registration.NextRenewal = now + (long)(register.Registration.Lease.TotalMilliseconds / 3);
                SendRegister(register.Registration, UpLinks(), now);
                break;
            case UnregisterInput unregister:
                SendUnregister(unregister.Registration, unregister.Done, now);
                break;
            case ResolveInput resolve:
                var pending = Issue(RequestKind.Resolve, Resolve, now, [Ascii(resolve.Name)], UpLinks(), resolve.Name, resolved: resolve.Result);
                CheckDone(pending);
                break;
            case SubscribeInput subscribe:
                if (_watches.Add(subscribe.Subscriber, out WatchEntry entry))
                {
                    entry.NextRenewal = now + (long)(_options.WatchLease.TotalMilliseconds / 3);
                    SendWatch(entry, UpLinks(), now);
                }

                break;
            case UnsubscribeInput unsubscribe:
                if (_watches.Remove(unsubscribe.Subscriber) is { } forgotten)
                {
                    SendUnwatch(forgotten.Name, now);
                }

                break;
            case StopInput stop:
                Stop(stop, now);
                break;
        }
    }

    private void OnServerMessage(ServerLink link, byte[][] frames, long now)
    {
        link.LastHeard = now;
        link.ProbeSentAt = 0;
        if (link.State != LinkState.Reachable)
        {
            SetState(link, LinkState.Reachable, "answered");
        }

        if (frames.Length < 3 || !frames[0].AsSpan().SequenceEqual(VersionFrame) || !TryReadUInt32(frames[2], out uint id))
        {
            _options.Logger.LogWarning("Directory client: ignored a malformed message from {Server}", link.Endpoint);
            return;
        }

        string status = Encoding.ASCII.GetString(frames[1]);
        if (status == Change)
        {
            ApplyChange(link, frames);
            return;
        }

        if (!_pending.TryGetValue(id, out PendingRequest? pending) || !pending.Answered.Add(link))
        {
            return;
        }

        switch (status)
        {
            case Error:
                pending.LastError = frames.Length > 3 ? TryDecode(frames[3]) : "no reason given";
                Raise(DirectoryEventKind.RequestRefused, link, $"{pending.Kind} {pending.Name}: {pending.LastError}");
                break;
            case Ok when pending.Kind == RequestKind.Register:
                pending.Registration!.Acknowledged.TrySetResult();
                break;
            case Endpoints when frames.Length >= 4:
                OnEndpoints(link, pending, frames);
                break;
        }

        CheckDone(pending);
    }

    private void OnEndpoints(ServerLink link, PendingRequest pending, byte[][] frames)
    {
        var endpoints = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 4; i < frames.Length; i++)
        {
            if (TryDecode(frames[i]) is { } endpoint)
            {
                endpoints.Add(endpoint);
            }
        }

        if (pending.Kind == RequestKind.Resolve)
        {
            pending.Answers++;
            pending.Union!.UnionWith(endpoints);
        }
        else if (pending.Kind == RequestKind.Watch && _watches.Find(pending.Name) is { } entry)
        {
            // A snapshot replaces what this server said before: it repairs any push that was lost.
            link.Views[entry.Name] = endpoints;
            entry.SnapshotSeen = true;
            _watches.Merge(entry, _links);
        }
    }

    private void ApplyChange(ServerLink link, byte[][] frames)
    {
        if (frames.Length != 6 || TryDecode(frames[3]) is not { } name || _watches.Find(name) is not { } entry || TryDecode(frames[5]) is not { } endpoint)
        {
            return;
        }

        if (!link.Views.TryGetValue(name, out HashSet<string>? view))
        {
            view = new HashSet<string>(StringComparer.Ordinal);
            link.Views[name] = view;
        }

        bool added = frames[4].AsSpan().SequenceEqual("+"u8);
        if (added ? view.Add(endpoint) : view.Remove(endpoint))
        {
            _watches.Merge(entry, _links);
        }
    }

    /// <summary>A server (re)connected: it may have restarted empty, so it gets every registration and watch now, not at the next renewal.</summary>
    private void Refill(ServerLink link, long now)
    {
        ServerLink[] only = [link];
        foreach (DirectoryRegistration registration in _registrations)
        {
            SendRegister(registration, only, now);
        }

        foreach (WatchEntry entry in _watches.Entries)
        {
            SendWatch(entry, only, now);
        }

        foreach (PendingRequest pending in _pending.Values)
        {
            if (pending.Kind is RequestKind.Resolve or RequestKind.Unregister && !pending.Targets.Contains(link))
            {
                pending.Targets.Add(link);
                link.Send(pending.Frames);
            }
        }
    }

    /// <summary>A server's connection ended: nothing waits for its answer any more (a late one is ignored).</summary>
    private void GiveUpOn(ServerLink link)
    {
        link.ProbeSentAt = 0;
        foreach (PendingRequest pending in _pending.Values)
        {
            // Dropped from the targets, not counted as answered: a reconnect within the deadline
            // sends the request again (see Refill).
            if (!pending.Answered.Contains(link) && pending.Targets.Remove(link))
            {
                CheckDone(pending);
            }
        }
    }

    private void Stop(StopInput stop, long now)
    {
        _stop = stop;
        _stopDeadline = now + _timeoutMs;
        if (!stop.Unregister)
        {
            return;
        }

        foreach (DirectoryRegistration registration in _registrations.ToArray())
        {
            SendUnregister(registration, null, now);
        }

        foreach (WatchEntry entry in _watches.Entries)
        {
            SendUnwatch(entry.Name, now);
        }

        RemoveFinished();
    }

    /// <summary>Fails what still waits, ends every watch, closes the sockets, and refuses what arrives late.</summary>
    private async Task ShutdownAsync()
    {
        var closed = new ObjectDisposedException(nameof(DirectoryClient), "The directory client is closed.");
        foreach (PendingRequest pending in _pending.Values)
        {
            pending.Resolved?.TrySetException(closed);
            pending.Done?.TrySetResult();
        }

        foreach (DirectoryRegistration registration in _registrations)
        {
            registration.Acknowledged.TrySetException(closed);
        }

        _watches.CompleteAll(null);
        foreach (ServerLink link in _links)
        {
            await link.DisposeAsync().ConfigureAwait(false);
        }

        _inbox.Writer.TryComplete();
        while (_inbox.Reader.TryRead(out ClientInput? late))
        {
            switch (late)
            {
                case ResolveInput resolve:
                    resolve.Result.TrySetException(closed);
                    break;
                case UnregisterInput unregister:
                    unregister.Done?.TrySetResult();
                    break;
                case RegisterInput register:
                    register.Registration.Acknowledged.TrySetException(closed);
                    break;
                case SubscribeInput subscribe:
                    subscribe.Subscriber.Changes.Writer.TryComplete();
                    break;
                case StopInput stop:
                    stop.Done.TrySetResult();
                    break;
            }
        }

        _stop?.Done.TrySetResult();
    }
}
