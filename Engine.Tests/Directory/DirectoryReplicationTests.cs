using System.Diagnostics;
using Engine.Directory;
using Engine.Sockets;
using Engine.Tests.Infrastructure;
using static Engine.Tests.Directory.DirectoryTestKit;

namespace Engine.Tests.Directory;

/// <summary>Two directory servers: losing one changes nothing for clients; a restarted one is refilled.</summary>
[TestFixture]
[CancelAfter(60_000)]
public class DirectoryReplicationTests
{
    [Test]
    public async Task WithOneOfTwoServersGoneResolutionRegistrationAndWatchesKeepWorking()
    {
        DirectoryServer first = DirectoryServer.Start("tcp://127.0.0.1:0");
        await using DirectoryServer second = DirectoryServer.Start("tcp://127.0.0.1:0");
        await using DirectoryClient owner = Client(first.Endpoint, second.Endpoint);
        await using DirectoryClient watcher = Client(first.Endpoint, second.Endpoint);
        Recorder<DirectoryEvent> status = Record(watcher);
        using var stop = new CancellationTokenSource();
        Recorder<DirectoryChange> changes = Record(watcher, "svc", stop.Token);
        await using DirectoryRegistration before = await owner.RegisterAsync("svc", "tcp://127.0.0.1:4001", Lease);
        await changes.WaitForAsync(c => c.Kind == DirectoryChangeKind.Added && c.Endpoint == "tcp://127.0.0.1:4001", "the first endpoint");
        await WaitUntilAsync(() => first.Registrations == 1 && second.Registrations == 1, "both servers to hold the registration");

        await first.DisposeAsync();
        await status.WaitForAsync(e => e.Kind == DirectoryEventKind.ServerUnreachable && e.Server == first.Endpoint, "the client to say the first server is unreachable");
        int seen = changes.Count;

        // Registration, watch and resolution all go on through the second server.
        await using DirectoryRegistration after = await owner.RegisterAsync("svc", "tcp://127.0.0.1:4002", Lease);
        await changes.WaitForAsync(c => c.Kind == DirectoryChangeKind.Added && c.Endpoint == "tcp://127.0.0.1:4002", "the endpoint registered after the loss", from: seen);
        Assert.That(await watcher.ResolveAsync("svc"), Is.EqualTo(new[] { "tcp://127.0.0.1:4001", "tcp://127.0.0.1:4002" }));
        await before.DisposeAsync();
        await changes.WaitForAsync(c => c.Kind == DirectoryChangeKind.Removed && c.Endpoint == "tcp://127.0.0.1:4001", "the unregistered endpoint to go", from: seen);
        Assert.That(changes.Snapshot().Skip(seen).Count(c => c.Kind == DirectoryChangeKind.Removed), Is.EqualTo(1), "losing a server removed nothing by itself");
        stop.Cancel();
    }

    [Test]
    public async Task AServerThatRestartsEmptyIsRefilledByTheClients()
    {
        await using DirectoryServer steady = DirectoryServer.Start("tcp://127.0.0.1:0");
        DirectoryServer restarting = DirectoryServer.Start("tcp://127.0.0.1:0");
        string address = restarting.Endpoint;
        await using DirectoryClient owner = Client(steady.Endpoint, address);
        await using DirectoryClient watcher = Client(steady.Endpoint, address);
        using var stop = new CancellationTokenSource();
        Recorder<DirectoryChange> changes = Record(watcher, "svc", stop.Token);
        await using DirectoryRegistration registration = await owner.RegisterAsync("svc", "tcp://127.0.0.1:4003", Lease);
        await changes.WaitForAsync(c => c.Kind == DirectoryChangeKind.Added, "the registration");
        await WaitUntilAsync(() => restarting.Registrations == 1, "the second server to hold the registration");

        await restarting.DisposeAsync();
        long restartedAt = Stopwatch.GetTimestamp();
        await using DirectoryServer restarted = DirectoryServer.Start(address);
        Assert.That(restarted.Registrations, Is.Zero, "a restarted server starts empty");

        await WaitUntilAsync(() => restarted.Registrations == 1, "the renewals to refill the restarted server", Patience);
        TimeSpan refill = Stopwatch.GetElapsedTime(restartedAt);
        TestContext.Out.WriteLine($"refilled {refill.TotalMilliseconds:0} ms after the restart (lease {Lease.TotalMilliseconds:0} ms)");
        Assert.That(refill, Is.LessThan(Lease + TimeSpan.FromMilliseconds(500)), "by the reconnect refill, or the next renewal at the latest");

        // The refilled server alone now serves the name, and the watcher's view never lost the endpoint.
        await steady.DisposeAsync();
        await using DirectoryClient late = Client(address);
        Assert.That(await late.ResolveAsync("svc"), Is.EqualTo(new[] { "tcp://127.0.0.1:4003" }));
        Assert.That(changes.Snapshot().Count(c => c.Kind == DirectoryChangeKind.Removed), Is.Zero);
        stop.Cancel();
    }

    [Test]
    public async Task WhenEveryServerIsUnreachableSocketsKeepTheirConnectionsAndSaySo()
    {
        DirectoryServer only = DirectoryServer.Start("tcp://127.0.0.1:0");
        string address = only.Endpoint;
        await using DirectoryClient serviceSide = Client(address);
        await using DirectoryClient clientSide = Client(address);
        await using var pull = new PullSocket(new SocketOptions { Directory = serviceSide, ReceiveTimeout = Patience });
        pull.Bind("tcp://127.0.0.1:0", registerAs: "svc");
        await using var push = new PushSocket(new SocketOptions { Directory = clientSide, SendTimeout = Patience });
        Recorder<MonitorEvent> monitor = Record(push);
        push.Connect("dir://svc");
        await push.SendAsync(Text("one"));
        Assert.That(await ReceiveStringAsync(pull), Is.EqualTo("one"));

        await only.DisposeAsync();
        (MonitorEvent unreachable, _) = await monitor.WaitForAsync(e => e.Kind == MonitorEventKind.DirectoryUnreachable, "the socket's monitor to say the directory is unreachable");
        TestContext.Out.WriteLine(unreachable.ToString());
        Assert.That(unreachable.Endpoint, Is.EqualTo(address));
        Assert.That(unreachable.Reason, Does.Contain("0 directory server(s) reachable"));

        // Messages still flow on the connection the socket already had.
        await push.SendAsync(Text("two"));
        Assert.That(await ReceiveStringAsync(pull), Is.EqualTo("two"));
        Assert.That(monitor.Snapshot().Any(e => e.Kind == MonitorEventKind.DirectoryChanged && e.Reason!.StartsWith("removed", StringComparison.Ordinal)), Is.False);

        // The directory comes back: the client says so and refills it.
        await using DirectoryServer back = DirectoryServer.Start(address);
        await monitor.WaitForAsync(e => e.Kind == MonitorEventKind.DirectoryReachable && e.Reason == "answered", "the directory to be reachable again", from: monitor.Snapshot().IndexOf(unreachable));
        await WaitUntilAsync(() => back.Registrations == 1, "the registration to be back");
        await push.SendAsync(Text("three"));
        Assert.That(await ReceiveStringAsync(pull), Is.EqualTo("three"));
    }
}
