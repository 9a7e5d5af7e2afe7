using System.Collections.Concurrent;
using System.Diagnostics;

namespace Engine.Tests.Infrastructure;

/// <summary>
/// A PULL peer in its own OS process (Engine.Benchmarks' <c>testpeer</c> verb), so a test can
/// kill -9 it. It reports every message id it received on stdout.
/// </summary>
internal sealed class ChildPeer : IDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource<string> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ChildPeer(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            if (e.Data.StartsWith("READY ", StringComparison.Ordinal))
            {
                _ready.TrySetResult(e.Data[6..]);
            }
            else if (e.Data.StartsWith("DRAINED ", StringComparison.Ordinal))
            {
                DrainReports.Add(e.Data[8..]);
            }
            else if (long.TryParse(e.Data, out long id))
            {
                ReceivedIds.Add(id);
            }
        };
        _process.BeginOutputReadLine();
    }

    internal ConcurrentBag<long> ReceivedIds { get; } = new();

    internal ConcurrentBag<string> DrainReports { get; } = new();

    internal Process Process => _process;

    internal string Endpoint { get; private set; } = string.Empty;

    internal static string BenchmarksDll
    {
        get
        {
            // Engine.Tests/bin/<Configuration>/net10.0 -> Engine.Benchmarks/bin/<Configuration>/net10.0
            var testDir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
            string configuration = testDir.Parent!.Name;
            string root = testDir.Parent!.Parent!.Parent!.Parent!.FullName;
            return Path.Combine(root, "Engine.Benchmarks", "bin", configuration, testDir.Name, "Engine.Benchmarks.dll");
        }
    }

    /// <param name="wrapper">A command to run the peer under, e.g. <c>ip netns exec NAME</c> for another "host".</param>
    internal static ChildPeer StartPull(int delayMicroseconds, string endpoint = "tcp://127.0.0.1:0", string? wrapper = null, bool graceful = false)
    {
        string[] prefix = wrapper?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];
        var start = new ProcessStartInfo(prefix.Length > 0 ? prefix[0] : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string part in prefix.Skip(1))
        {
            start.ArgumentList.Add(part);
        }

        if (prefix.Length > 0)
        {
            start.ArgumentList.Add("dotnet");
        }

        start.ArgumentList.Add(BenchmarksDll);
        start.ArgumentList.Add("testpeer");
        start.ArgumentList.Add("pull");
        start.ArgumentList.Add("--endpoint");
        start.ArgumentList.Add(endpoint);
        start.ArgumentList.Add("--delay-us");
        start.ArgumentList.Add(delayMicroseconds.ToString());
        start.ArgumentList.Add("--graceful");
        start.ArgumentList.Add(graceful ? "true" : "false");
        var child = new ChildPeer(Process.Start(start)!);
        if (!child._ready.Task.Wait(TimeSpan.FromSeconds(30)))
        {
            child.Dispose();
            Assert.Fail("child peer did not report READY within 30 s");
        }

        child.Endpoint = child._ready.Task.Result;
        return child;
    }

    /// <summary>SIGKILL: no FIN from the application, no flush, no goodbye.</summary>
    internal void KillHard()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            KillHard();
        }

        _process.Dispose();
    }
}
