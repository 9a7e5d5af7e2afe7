using System.Diagnostics;
using Engine.Sockets;
using Engine.Tests.Infrastructure;

namespace Engine.Tests.FaultTolerance;

[TestFixture]
[CancelAfter(120_000)]
public class ReconnectStormTests
{
    private static int OpenFileDescriptors() => System.IO.Directory.GetFiles("/proc/self/fd").Length;

    [Test]
    public void APeerFlappingFiftyTimesLeaksNoSocketsThreadsOrMemory()
    {
        using var push = new PushSocket(new SocketOptions { ReconnectInterval = TimeSpan.FromMilliseconds(10), ReconnectIntervalMax = TimeSpan.FromMilliseconds(20) });
        var first = new PullSocket(new SocketOptions { ReceiveTimeout = TimeSpan.FromSeconds(10) });
        string endpoint = first.Bind("tcp://127.0.0.1:0");
        push.Connect(endpoint);
        push.Send("warm-up"u8);
        Assert.That(first.ReceiveString(), Is.EqualTo("warm-up"));
        first.Dispose();

        // Settle the process before measuring: JIT, thread pool, pools.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        int fdsBefore = OpenFileDescriptors();
        int threadsBefore = Process.GetCurrentProcess().Threads.Count;
        long memoryBefore = GC.GetTotalMemory(forceFullCollection: true);

        for (int flap = 0; flap < 50; flap++)
        {
            using var pull = new PullSocket(new SocketOptions { ReceiveTimeout = TimeSpan.FromSeconds(10) });
            pull.Bind(endpoint);
            // A message written while the previous connection is still dying goes into a closed
            // socket (no transport can save that one); what is sent after the reconnect must arrive.
            pull.WaitForConnected(1);
            push.Send(BitConverter.GetBytes(flap));
            Assert.That(BitConverter.ToInt32(pull.ReceiveBytes()), Is.EqualTo(flap), $"flap {flap}");
        }

        Deadline.WaitUntil(() => push.ConnectedCount == 0 && push.SessionCount == 0, "the last connection to be gone");
        GC.Collect();
        GC.WaitForPendingFinalizers();
        int fdsAfter = OpenFileDescriptors();
        int threadsAfter = Process.GetCurrentProcess().Threads.Count;
        long memoryAfter = GC.GetTotalMemory(forceFullCollection: true);
        TestContext.Out.WriteLine($"fds {fdsBefore}->{fdsAfter}, threads {threadsBefore}->{threadsAfter}, managed memory {memoryBefore / 1024} KiB->{memoryAfter / 1024} KiB");

        Assert.That(fdsAfter, Is.LessThanOrEqualTo(fdsBefore + 4), "no leaked sockets (a reconnect attempt may be in flight)");
        Assert.That(threadsAfter, Is.LessThanOrEqualTo(threadsBefore + 8), "no thread per connection kept");
        Assert.That(memoryAfter - memoryBefore, Is.LessThan(8L * 1024 * 1024), "no memory kept per connection");
    }
}
