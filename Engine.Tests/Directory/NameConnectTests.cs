using System.Diagnostics;
using Engine.Directory;
using Engine.Sockets;
using Engine.Tests.Infrastructure;
using static Engine.Tests.Directory.DirectoryTestKit;

namespace Engine.Tests.Directory;

/// <summary>Sockets connected by name follow a service that moves, without a restart.</summary>
[TestFixture]
[CancelAfter(60_000)]
public class NameConnectTests
{
    /// <summary>One watch round trip on a loaded 2-core machine: a push, the client's loop, the socket's connect.</summary>
    // A watch push and a connect take a few ms here; the rest is room for a shared, loaded
    // 2-core machine (a run at load average 21 took 797 ms against a 750 ms bound).
    private static readonly TimeSpan WatchRoundTrip = TimeSpan.FromMilliseconds(750);

    [TestCase(true, TestName = "AServiceThatMovesIsReachedAtItsNewPortWhenTheOldOwnerUnregistered")]
    [TestCase(false, TestName = "AServiceThatMovesIsReachedAtItsNewPortWhenTheOldOwnerDiedAndItsLeaseExpired")]
    public async Task AServiceThatMovesIsReachedAtItsNewPort(bool unregisters)
    {
        await using DirectoryServer server = DirectoryServer.Start("tcp://127.0.0.1:0");
        await using DirectoryClient clientSide = Client(server.Endpoint);
        await using var push = new PushSocket(new SocketOptions { Directory = clientSide, SendTimeout = Patience, ReconnectIntervalMax = TimeSpan.FromMilliseconds(200) });
        Recorder<MonitorEvent> monitor = Record(push);
        push.Connect("dir://intermediate-in");

        // The service starts on one port...
        DirectoryClient oldOwner = Client(server.Endpoint);
        var oldService = new PullSocket(new SocketOptions { Directory = oldOwner, ReceiveTimeout = Patience });
        string oldEndpoint = oldService.Bind("tcp://127.0.0.1:0", registerAs: "intermediate-in", Lease);
        await push.SendAsync(Text("before the move"));
        Assert.That(await ReceiveStringAsync(oldService), Is.EqualTo("before the move"));

        // ...and moves: the old socket closes, a new one binds another port and registers.
        if (!unregisters)
        {
            // A killed process: its client stops renewing and never unregisters.
            await oldOwner.AbandonAsync();
        }

        long moved = Stopwatch.GetTimestamp();
        await oldService.DisposeAsync();
        await using DirectoryClient newOwner = Client(server.Endpoint);
        await using var newService = new PullSocket(new SocketOptions { Directory = newOwner });
        string newEndpoint = newService.Bind("tcp://127.0.0.1:0", registerAs: "intermediate-in", Lease);
        Assert.That(newEndpoint, Is.Not.EqualTo(oldEndpoint));

        // The running client socket reaches the new location without being told anything.
        TimeSpan reached = TimeSpan.Zero;
        for (int attempt = 0; attempt < 10_000 && reached == TimeSpan.Zero; attempt++)
        {
            // False while no peer has room (the old one is gone, the new one not yet connected): try again.
            push.TrySend(Text($"after the move {attempt}"), TimeSpan.Zero);
            using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(20));
            try
            {
                Msg frame = await newService.ReceiveAsync(wait.Token);
                reached = Stopwatch.GetElapsedTime(moved);
                frame.Dispose();
            }
            catch (OperationCanceledException)
            {
                // Nothing yet: send another and look again.
            }

            Assert.That(Stopwatch.GetElapsedTime(moved), Is.LessThan(Patience), "the new location was never reached");
        }

        (_, long droppedAt) = await monitor.WaitForAsync(e => e.Kind == MonitorEventKind.DirectoryChanged && e.Reason == "removed " + oldEndpoint, "the old endpoint to be disconnected");
        TimeSpan dropped = Stopwatch.GetElapsedTime(moved, droppedAt);
        TimeSpan bound = Lease + WatchRoundTrip;
        TestContext.Out.WriteLine($"{(unregisters ? "unregistered" : "lease expiry")}: new location reached after {reached.TotalMilliseconds:0} ms, old endpoint dropped after {dropped.TotalMilliseconds:0} ms (bound {bound.TotalMilliseconds:0} ms = lease {Lease.TotalMilliseconds:0} + round trip {WatchRoundTrip.TotalMilliseconds:0})");
        Assert.That(reached, Is.LessThanOrEqualTo(bound), "new location reached within lease + one watch round trip");
        Assert.That(dropped, Is.LessThanOrEqualTo(bound), "old location dropped within lease + one watch round trip");
        if (unregisters)
        {
            Assert.That(dropped, Is.LessThan(WatchRoundTrip), "an explicit unregister does not wait for the lease");
            await oldOwner.DisposeAsync();
        }
    }

    [Test]
    public void ConnectingToANameWithoutADirectorySaysWhatToSet()
    {
        using var push = new PushSocket();

        var error = Assert.Throws<InvalidOperationException>(() => push.Connect("dir://intermediate-in"));

        Assert.That(error!.Message, Does.Contain("set SocketOptions.Directory"));
        var bind = Assert.Throws<InvalidOperationException>(() => push.Bind("tcp://127.0.0.1:0", registerAs: "svc"));
        Assert.That(bind!.Message, Does.Contain("set SocketOptions.Directory"));
    }

    [Test]
    public void ANameCannotBeBound()
    {
        using var pull = new PullSocket();

        var error = Assert.Throws<ArgumentException>(() => pull.Bind("dir://svc"));

        Assert.That(error!.Message, Does.Contain("registerAs: \"svc\""));
    }

    [TestCase("dir://intermediate-in", "intermediate-in")]
    [TestCase("dir://a", "a")]
    [TestCase("DIR://Svc_1.v2", "Svc_1.v2")]
    public void ADirectoryNameParses(string uri, string name)
    {
        Endpoint endpoint = Endpoint.Parse(uri);

        Assert.That(endpoint.Transport, Is.EqualTo(TransportKind.Directory));
        Assert.That(endpoint.Address, Is.EqualTo(name));
        Assert.That(endpoint.ToString(), Is.EqualTo("dir://" + name));
    }

    [TestCase("dir://a b", "the name contains ' '")]
    [TestCase("dir://svc:5555", "the name contains ':'")]
    [TestCase("dir://caf\u00e9", "use only letters, digits")]
    public void ABadDirectoryNameSaysWhatIsAllowed(string uri, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => Endpoint.Parse(uri));

        Assert.That(error!.Message, Does.Contain(expected));
    }

    [Test]
    public void ANameOfMoreThan255CharactersIsRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => Endpoint.Parse("dir://" + new string('n', 256)));

        Assert.That(error!.Message, Does.Contain("256 characters long; at most 255"));
    }

    [Test]
    public async Task BindWithANameRegistersAndUnbindWithdraws()
    {
        await using DirectoryServer server = DirectoryServer.Start("tcp://127.0.0.1:0");
        await using DirectoryClient client = Client(server.Endpoint);
        using var stop = new CancellationTokenSource();
        Recorder<DirectoryChange> changes = Record(client, "svc", stop.Token);
        await using var pull = new PullSocket(new SocketOptions { Directory = client });

        string bound = pull.Bind("tcp://127.0.0.1:0", registerAs: "svc");
        await changes.WaitForAsync(c => c.Kind == DirectoryChangeKind.Added && c.Endpoint == bound, "the bound endpoint to be registered");
        pull.Unbind(bound);

        await changes.WaitForAsync(c => c.Kind == DirectoryChangeKind.Removed && c.Endpoint == bound, "Unbind to withdraw it");
        Assert.That(await client.ResolveAsync("svc"), Is.Empty);
        stop.Cancel();
    }

    [Test]
    public async Task DisconnectingANameDropsItsEndpointsAndStopsFollowing()
    {
        await using DirectoryServer server = DirectoryServer.Start("tcp://127.0.0.1:0");
        await using DirectoryClient client = Client(server.Endpoint);
        await using var pull = new PullSocket(new SocketOptions { Directory = client, ReceiveTimeout = Patience });
        pull.Bind("tcp://127.0.0.1:0", registerAs: "svc");
        await using var push = new PushSocket(new SocketOptions { Directory = client, SendTimeout = Patience });
        Recorder<MonitorEvent> monitor = Record(push);

        push.Connect("dir://svc");
        Assert.Throws<ArgumentException>(() => push.Connect("dir://svc"), "a name is followed once per socket");
        await monitor.WaitForAsync(e => e.Kind == MonitorEventKind.DirectoryResolved && e.Reason == "1 endpoint(s)", "the name to resolve");
        await WaitUntilAsync(() => push.ConnectedCount == 1, "the push to connect");
        push.Disconnect("dir://svc");

        await WaitUntilAsync(() => push.SessionCount == 0, "the endpoint to be disconnected");
        Assert.Throws<ArgumentException>(() => push.Disconnect("dir://svc"), "no longer followed");
        push.Connect("dir://svc");
        await push.SendAsync(Text("again"));
        Assert.That(await ReceiveStringAsync(pull), Is.EqualTo("again"));
    }
}
