using System.Diagnostics;
using Engine.Directory;
using static Engine.Tests.Directory.DirectoryTestKit;

namespace Engine.Tests.Directory;

/// <summary>Leases: renewals keep an entry, silence removes it, unregister removes it at once.</summary>
[TestFixture]
[CancelAfter(60_000)]
public class DirectoryLeaseTests
{
    [Test]
    public async Task ADeadOwnersEndpointIsRemovedWhenItsLeaseExpires()
    {
        await using DirectoryServer server = DirectoryServer.Start("tcp://127.0.0.1:0");
        await using DirectoryClient watcher = Client(server.Endpoint);
        using var stop = new CancellationTokenSource();
        Recorder<DirectoryChange> changes = Record(watcher, "svc", stop.Token);
        DirectoryClient owner = Client(server.Endpoint);
        await owner.RegisterAsync("svc", "tcp://127.0.0.1:3001", Lease);
        await changes.WaitForAsync(c => c.Kind == DirectoryChangeKind.Added, "the registration");

        // The owner dies: no unregister, no more renewals. Its last renewal went out between
        // lease/3 before "dying" and "dead".
        long dying = Stopwatch.GetTimestamp();
        await owner.AbandonAsync();
        long dead = Stopwatch.GetTimestamp();
        (_, long removedAt) = await changes.WaitForAsync(c => c.Kind == DirectoryChangeKind.Removed && c.Endpoint == "tcp://127.0.0.1:3001", "the expiry");
        TimeSpan afterDeath = Stopwatch.GetElapsedTime(dead, removedAt);

        TestContext.Out.WriteLine($"removed {afterDeath.TotalMilliseconds:0} ms after the owner died (lease {Lease.TotalMilliseconds:0} ms)");
        Assert.That(Stopwatch.GetElapsedTime(dying, removedAt), Is.GreaterThanOrEqualTo(Lease * 0.6), "removed by the lease (2/3 of it at least), not by something else");
        Assert.That(afterDeath, Is.LessThanOrEqualTo(Lease + TimeSpan.FromMilliseconds(250)), "within the lease plus one push");
        Assert.That(await watcher.ResolveAsync("svc"), Is.Empty);
        Assert.That(server.Registrations, Is.Zero);
        stop.Cancel();
    }

    [Test]
    public async Task RenewalsKeepARegistrationAliveForManyLeases()
    {
        await using DirectoryServer server = DirectoryServer.Start("tcp://127.0.0.1:0");
        await using DirectoryClient owner = Client(server.Endpoint);
        await using DirectoryClient reader = Client(server.Endpoint);
        await using DirectoryRegistration registration = await owner.RegisterAsync("svc", "tcp://127.0.0.1:3002", TimeSpan.FromMilliseconds(300));

        // Resolve again and again for about seven leases: every answer must still hold the endpoint.
        var clock = Stopwatch.StartNew();
        int resolutions = 0;
        while (clock.Elapsed < TimeSpan.FromMilliseconds(2000) && resolutions < 100_000)
        {
            Assert.That(await reader.ResolveAsync("svc"), Is.EqualTo(new[] { "tcp://127.0.0.1:3002" }), $"after {clock.ElapsedMilliseconds} ms");
            resolutions++;
        }

        Assert.That(resolutions, Is.GreaterThan(10));
    }

    [Test]
    public async Task UnregisterRemovesTheEndpointAtOnce()
    {
        await using DirectoryServer server = DirectoryServer.Start("tcp://127.0.0.1:0");
        await using DirectoryClient client = Client(server.Endpoint);
        using var stop = new CancellationTokenSource();
        Recorder<DirectoryChange> changes = Record(client, "svc", stop.Token);
        var longLease = TimeSpan.FromSeconds(30);
        DirectoryRegistration registration = await client.RegisterAsync("svc", "tcp://127.0.0.1:3003", longLease);
        await changes.WaitForAsync(c => c.Kind == DirectoryChangeKind.Added, "the registration");

        long start = Stopwatch.GetTimestamp();
        await registration.DisposeAsync();
        (_, long removedAt) = await changes.WaitForAsync(c => c.Kind == DirectoryChangeKind.Removed, "the removal");

        Assert.That(Stopwatch.GetElapsedTime(start, removedAt), Is.LessThan(TimeSpan.FromSeconds(2)), "long before the 30 s lease");
        Assert.That(server.Registrations, Is.Zero);
        stop.Cancel();
    }

    [Test]
    public async Task AWatchStartsWithTheCurrentEndpointsThenSynced()
    {
        await using DirectoryServer server = DirectoryServer.Start("tcp://127.0.0.1:0");
        await using DirectoryClient client = Client(server.Endpoint);
        await using DirectoryRegistration a = await client.RegisterAsync("svc", "tcp://127.0.0.1:3005", Lease);
        await using DirectoryRegistration b = await client.RegisterAsync("svc", "tcp://127.0.0.1:3004", Lease);
        using var stop = new CancellationTokenSource();

        Recorder<DirectoryChange> changes = Record(client, "svc", stop.Token);
        await changes.WaitForAsync(c => c.Kind == DirectoryChangeKind.Synced, "synced");

        Assert.That(changes.Snapshot(), Is.EqualTo(new[]
        {
            new DirectoryChange(DirectoryChangeKind.Added, "svc", "tcp://127.0.0.1:3004"),
            new DirectoryChange(DirectoryChangeKind.Added, "svc", "tcp://127.0.0.1:3005"),
            new DirectoryChange(DirectoryChangeKind.Synced, "svc", string.Empty),
        }));
        stop.Cancel();
    }

    [Test]
    public async Task ANameThatIsNotValidIsRefusedBeforeAnythingIsSent()
    {
        await using DirectoryServer server = DirectoryServer.Start("tcp://127.0.0.1:0");
        await using DirectoryClient client = Client(server.Endpoint);

        var bad = Assert.ThrowsAsync<ArgumentException>(() => client.ResolveAsync("a b"));
        Assert.That(bad!.Message, Does.Contain("the name contains ' '"));
        var wild = Assert.ThrowsAsync<ArgumentException>(() => client.RegisterAsync("svc", "tcp://*:1", Lease));
        Assert.That(wild!.Message, Does.Contain("wildcard"));
        var shortLease = Assert.ThrowsAsync<ArgumentException>(() => client.RegisterAsync("svc", "tcp://127.0.0.1:1", TimeSpan.FromMilliseconds(5)));
        Assert.That(shortLease!.Message, Does.Contain("the lease is 5 ms"));
    }

    [Test]
    public void TheTableExpiresOnlyWhatWasNotRenewed()
    {
        var table = new DirectoryTable(maxEntries: 10);
        var expired = new List<(string Name, string Endpoint)>();
        Assert.That(table.Register("svc", "tcp://a:1", 300, now: 0, out bool added), Is.Null);
        Assert.That(added, Is.True);
        Assert.That(table.Register("svc", "tcp://b:1", 300, now: 0, out _), Is.Null);
        Assert.That(table.Register("svc", "tcp://a:1", 300, now: 200, out added), Is.Null, "a renewal");
        Assert.That(added, Is.False);

        table.Expire(now: 299, expired);
        Assert.That(expired, Is.Empty);
        table.Expire(now: 300, expired);
        Assert.That(expired, Is.EqualTo(new[] { ("svc", "tcp://b:1") }));
        Assert.That(table.EndpointsOf("svc"), Is.EqualTo(new[] { "tcp://a:1" }));
        expired.Clear();
        table.Expire(now: 500, expired);
        Assert.That(expired, Is.EqualTo(new[] { ("svc", "tcp://a:1") }));
        Assert.That(table.EntryCount, Is.Zero);
        Assert.That(table.NextDeadline, Is.EqualTo(long.MaxValue));
    }

    [Test]
    public void TheTableRefusesMoreThanItsLimit()
    {
        var table = new DirectoryTable(maxEntries: 2);
        Assert.That(table.Register("a", "tcp://h:1", 1000, 0, out _), Is.Null);
        Assert.That(table.Register("b", "tcp://h:1", 1000, 0, out _), Is.Null);
        Assert.That(table.Register("c", "tcp://h:1", 1000, 0, out _), Does.Contain("the directory is full (2 registrations)"));
        Assert.That(table.Register("a", "tcp://h:1", 1000, 0, out _), Is.Null, "renewing an existing entry is always allowed");
        Assert.That(table.EndpointsOf("c"), Is.Empty);
    }
}
