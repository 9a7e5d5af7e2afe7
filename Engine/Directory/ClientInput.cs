using System.Threading.Channels;

namespace Engine.Directory;

/// <summary>Everything the client's loop reacts to arrives as one of these, in one inbox: the API calls, the servers' messages, connection changes.</summary>
internal abstract class ClientInput;

internal sealed class RegisterInput(DirectoryRegistration registration) : ClientInput
{
    internal DirectoryRegistration Registration { get; } = registration;
}

internal sealed class UnregisterInput(DirectoryRegistration registration, TaskCompletionSource? done) : ClientInput
{
    internal DirectoryRegistration Registration { get; } = registration;

    internal TaskCompletionSource? Done { get; } = done;
}

internal sealed class ResolveInput(string name, TaskCompletionSource<IReadOnlyList<string>> result) : ClientInput
{
    internal string Name { get; } = name;

    internal TaskCompletionSource<IReadOnlyList<string>> Result { get; } = result;
}

internal sealed class SubscribeInput(WatchSubscriber subscriber) : ClientInput
{
    internal WatchSubscriber Subscriber { get; } = subscriber;
}

internal sealed class UnsubscribeInput(WatchSubscriber subscriber) : ClientInput
{
    internal WatchSubscriber Subscriber { get; } = subscriber;
}

internal sealed class ServerMessageInput(ServerLink link, byte[][] frames) : ClientInput
{
    internal ServerLink Link { get; } = link;

    internal byte[][] Frames { get; } = frames;
}

internal sealed class ServerUpInput(ServerLink link, bool up) : ClientInput
{
    internal ServerLink Link { get; } = link;

    internal bool Up { get; } = up;
}

/// <summary>Ends the loop; with <see cref="Unregister"/> it first unregisters everything (a clean close), without it the servers see a crash.</summary>
internal sealed class StopInput(bool unregister, TaskCompletionSource done) : ClientInput
{
    internal bool Unregister { get; } = unregister;

    internal TaskCompletionSource Done { get; } = done;
}

/// <summary>One <c>WatchAsync</c> enumeration: the loop writes its changes, the enumerator reads them.</summary>
internal sealed class WatchSubscriber(string name)
{
    internal string Name { get; } = name;

    internal Channel<DirectoryChange> Changes { get; } =
        Channel.CreateUnbounded<DirectoryChange>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
}
