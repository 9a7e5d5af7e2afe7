namespace Engine.Directory;

/// <summary>
/// An endpoint registered under a name, renewed in the background at a third of its lease until
/// disposed. Disposing unregisters it on every reachable server (the others let the lease run out).
/// </summary>
public sealed class DirectoryRegistration : IAsyncDisposable
{
    private readonly DirectoryClient _client;
    private int _ended;

    internal DirectoryRegistration(DirectoryClient client, string name, string endpoint, TimeSpan lease)
    {
        _client = client;
        Name = name;
        Endpoint = endpoint;
        Lease = lease;
    }

    /// <summary>The registered name.</summary>
    public string Name { get; }

    /// <summary>The registered endpoint.</summary>
    public string Endpoint { get; }

    /// <summary>How long servers keep the registration without a renewal.</summary>
    public TimeSpan Lease { get; }

    /// <summary>Completed when the first server acknowledged it.</summary>
    internal TaskCompletionSource Acknowledged { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>When the loop renews it next (TickCount64).</summary>
    internal long NextRenewal { get; set; }

    /// <summary>Unregisters on every reachable server and stops renewing; waits for their answers up to the request timeout.</summary>
    public ValueTask DisposeAsync() => Interlocked.Exchange(ref _ended, 1) == 0 ? _client.UnregisterAsync(this) : default;

    /// <summary>Unregisters without waiting (socket close, Unbind).</summary>
    internal void End()
    {
        if (Interlocked.Exchange(ref _ended, 1) == 0)
        {
            _client.Unregister(this);
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} -> {Endpoint} (lease {Lease.TotalMilliseconds:0} ms)";
}
