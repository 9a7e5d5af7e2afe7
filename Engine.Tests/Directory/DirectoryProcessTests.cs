using System.Diagnostics;
using Engine.Directory;
using static Engine.Tests.Directory.DirectoryTestKit;

namespace Engine.Tests.Directory;

/// <summary>The standalone server (<c>Butterfly directory</c>) as its own OS process, killed with SIGKILL.</summary>
[TestFixture]
[CancelAfter(60_000)]
public class DirectoryProcessTests
{
    [Test]
    public async Task AKilledDirectoryProcessIsReportedAndTheOtherServerCarriesOn()
    {
        await using DirectoryServer local = DirectoryServer.Start("tcp://127.0.0.1:0");
        using Process remote = StartDirectoryProcess(out string remoteEndpoint);
        try
        {
            await using DirectoryClient owner = Client(local.Endpoint, remoteEndpoint);
            await using DirectoryClient reader = Client(local.Endpoint, remoteEndpoint);
            Recorder<DirectoryEvent> status = Record(reader);
            await status.WaitForAsync(e => e.Kind == DirectoryEventKind.ServerReachable && e.Server == remoteEndpoint, "the process to answer");
            await using DirectoryRegistration registration = await owner.RegisterAsync("svc", "tcp://127.0.0.1:6001", Lease);
            Assert.That(await reader.ResolveAsync("svc"), Is.EqualTo(new[] { "tcp://127.0.0.1:6001" }));

            remote.Kill();
            (DirectoryEvent lost, _) = await status.WaitForAsync(e => e.Kind == DirectoryEventKind.ServerUnreachable && e.Server == remoteEndpoint, "the killed process to be reported");
            TestContext.Out.WriteLine(lost.ToString());

            Assert.That(lost.ReachableServers, Is.EqualTo(1));
            Assert.That(await reader.ResolveAsync("svc"), Is.EqualTo(new[] { "tcp://127.0.0.1:6001" }));
            await using DirectoryRegistration more = await owner.RegisterAsync("svc", "tcp://127.0.0.1:6002", Lease);
            Assert.That(await reader.ResolveAsync("svc"), Is.EqualTo(new[] { "tcp://127.0.0.1:6001", "tcp://127.0.0.1:6002" }));
        }
        finally
        {
            if (!remote.HasExited)
            {
                remote.Kill();
            }

            await remote.WaitForExitAsync();
        }
    }

    /// <summary>Starts <c>Butterfly directory</c> on a free port and returns once it printed READY.</summary>
    private static Process StartDirectoryProcess(out string endpoint)
    {
        var info = new ProcessStartInfo(DotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add(ButterflyDll());
        info.ArgumentList.Add("directory");
        info.ArgumentList.Add("--bind");
        info.ArgumentList.Add("tcp://127.0.0.1:0");
        info.ArgumentList.Add("--stdin-eof");
        info.ArgumentList.Add("stop");
        var ready = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.StartsWith("READY directory ", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult(e.Data["READY directory ".Length..]);
            }
        };
        process.ErrorDataReceived += (_, e) => TestContext.Progress.WriteLine("directory process: " + e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        // This test's own thread (a synchronous helper, called before the first await), so waiting here holds no pool thread.
        if (!ready.Task.Wait(TimeSpan.FromSeconds(30)))
        {
            process.Kill();
            Assert.Fail("Butterfly directory did not print READY within 30 s");
        }

        endpoint = ready.Task.Result;
        return process;
    }

    private static string ButterflyDll()
    {
        // <repo>/Engine.Tests/bin/<configuration>/<tfm>/ -> <repo>/Butterfly/bin/<configuration>/<tfm>/Butterfly.dll
        var tests = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        string root = tests.Parent!.Parent!.Parent!.Parent!.FullName;
        string dll = Path.Combine(root, "Butterfly", "bin", tests.Parent.Name, tests.Name, "Butterfly.dll");
        Assert.That(File.Exists(dll), Is.True, $"{dll} is missing: building Engine.Tests builds it");
        return dll;
    }

    private static string DotnetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        return !string.IsNullOrEmpty(host) && File.Exists(host) ? host : "dotnet";
    }
}
