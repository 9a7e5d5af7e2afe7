using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Engine.Lifetime;
using Engine.Transport;

namespace Engine.Tests.Transport;

/// <summary>
/// Regression test for d149eb7: a socket's Dispose aborts its connections while a connection that
/// just ended (its peer closed) disposes itself. Abort records its reason first and cancels the
/// pipes after, so the connection's own DisposeAsync could complete the PipeWriter in between, and
/// Abort then threw ObjectDisposedException out of MessageSocket.Dispose. The interop tests hit it
/// in about one run in ten on a busy machine (TearDown failing); racing the two calls directly hits
/// it a few times per thousand rounds, so 10,000 rounds (1-3 s) fail reliably without the fix.
/// </summary>
[TestFixture]
[CancelAfter(60_000)]
public sealed class StreamConnectionAbortRaceTests
{
    [Test]
    public async Task AbortRacingDisposeNeverThrows()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(16);
        var failures = new List<string>();
        var clock = Stopwatch.StartNew();
        int rounds = 0;
        for (; rounds < 10_000 && clock.Elapsed < TimeSpan.FromSeconds(15); rounds++)
        {
            using var client = new Socket(AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, ProtocolType.Tcp);
            client.Connect(listener.LocalEndPoint!);
            using Socket accepted = listener.Accept();
            var connection = new StreamConnection(accepted, "tcp://127.0.0.1:0");
            using var start = new Barrier(2);
            Task abort = Task.Run(() =>
            {
                start.SignalAndWait();
                connection.Abort(ShutdownReason.SocketClosed);
            });
            start.SignalAndWait();
            await connection.DisposeAsync();
            try
            {
                await abort;
            }
            catch (ObjectDisposedException e)
            {
                failures.Add(e.Message);
            }
        }

        Assert.That(failures, Is.Empty, $"Abort threw in {failures.Count} of {rounds} rounds");
    }
}
