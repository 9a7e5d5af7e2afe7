using Engine.Directory;
using Engine.Sockets;
using static Engine.Tests.Directory.DirectoryTestKit;

namespace Engine.Tests.Directory;

/// <summary>
/// A process-wide drain (<see cref="GracefulShutdown"/>, <see cref="Drain.AllAsync"/>) in a process
/// that uses the directory: the application's sockets drain, the directory's own sockets stay up
/// for their owners, which close cleanly afterwards.
/// </summary>
/// <remarks>
/// Found by the butterfly demo: every worker drained with SIGTERM exited 1, because the drain
/// also drained the DirectoryClient's DEALERs and DirectoryClient.Dispose then threw
/// SocketDrainedException; a DirectoryServer's ROUTER was drained the same way and its loop died.
/// </remarks>
[TestFixture]
[CancelAfter(60_000)]
public class DirectoryDrainTests
{
    [Test]
    public async Task DrainingEverySocketLeavesTheDirectorysOwnSocketsToTheirOwners()
    {
        await using DirectoryServer server = DirectoryServer.Start("tcp://127.0.0.1:0");
        DirectoryClient client = Client(server.Endpoint);
        var input = new PullSocket(new SocketOptions { Directory = client });
        try
        {
            string endpoint = input.Bind("tcp://127.0.0.1:0", registerAs: "drained-service", Lease);
            await WaitUntilAsync(() => Resolves(client, "drained-service", endpoint) == true, "the service is registered");

            Task<IReadOnlyList<DrainReport>> drain = Drain.AllAsync(TimeSpan.FromSeconds(5));
            // The application's loop: read until the input says it is drained (nothing is sent to it).
            for (int i = 0; i < 1_000 && !input.IsDrained; i++)
            {
                input.TryReceive(out Msg frame, TimeSpan.FromMilliseconds(10));
                frame.Dispose();
            }

            IReadOnlyList<DrainReport> reports = await drain.WaitAsync(Patience);
            using (Assert.EnterMultipleScope())
            {
                Assert.That(input.IsDrained, Is.True, "the application's socket drained");
                Assert.That(reports.Select(r => r.Socket), Has.None.StartsWith("Dealer").And.None.StartsWith("Router"), "the directory's sockets are not drained");
            }

            // The server still serves (the drained socket withdrew its name), and the client closes cleanly.
            await WaitUntilAsync(() => Resolves(client, "drained-service", endpoint) == false, "the drained service left the directory");
            Assert.DoesNotThrowAsync(async () => await client.DisposeAsync(), "the client closes after the drain");
        }
        finally
        {
            // Also when the test fails: a client left behind probes its closed server every 100 ms
            // for the rest of the run, and the allocation tests count what that allocates.
            input.Dispose();
            await client.DisposeAsync();
        }
    }

    /// <summary>Whether <paramref name="name"/> resolves to <paramref name="endpoint"/>; null when the RESOLVE timed out (a busy machine), which is no answer yet.</summary>
    private static bool? Resolves(DirectoryClient client, string name, string endpoint)
    {
        try
        {
            return client.ResolveAsync(name).Result.Contains(endpoint);
        }
        catch (AggregateException e) when (e.InnerException is TimeoutException)
        {
            return null;
        }
    }
}
