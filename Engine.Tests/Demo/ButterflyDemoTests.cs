using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Engine.Tests.Infrastructure;

namespace Engine.Tests.Demo;

/// <summary>
/// Runs the real Butterfly demo (two directory servers, two intermediates, two workers per side,
/// source and sink: ten processes over tcp) through the whole failure timeline, shortened to 15 s,
/// as a user would, and checks its verdict and the evidence that each failure really happened.
/// </summary>
[TestFixture]
[CancelAfter(120_000)]
public class ButterflyDemoTests
{
    private static readonly Regex Summary = new(
        @"^butterfly: sent=(?<sent>\d+) received=(?<received>\d+) lost=(?<lost>-?\d+) duplicates=(?<duplicates>\d+) corrupted=(?<corrupted>\d+) retried=(?<retried>\d+) rerouted=(?<rerouted>\d+)$",
        RegexOptions.Multiline | RegexOptions.CultureInvariant);

    private static readonly Regex Moved = new(
        @"event: intermediate2 serving at (?<endpoint>tcp://(?<host>[0-9.]+):(?<port>\d+))",
        RegexOptions.CultureInvariant);

    private static readonly Regex OriginalInput = new(
        @"found intermediate2 under dir://intermediate-in at (?<endpoint>tcp://\S+) through",
        RegexOptions.CultureInvariant);

    private static readonly Regex MovedReplies = new(
        @"^butterfly: replies through intermediate1=(?<first>\d+) intermediate2=(?<second>\d+) intermediate2-moved=(?<moved>\d+)$",
        RegexOptions.Multiline | RegexOptions.CultureInvariant);

    [Test]
    public async Task WholeScenarioLosesNothingAndReallyFreezesKillsAndMovesIntermediate2()
    {
        string butterfly = LocateButterfly();
        string plot = Path.Combine(Path.GetTempPath(), $"butterfly-{Guid.NewGuid():N}.png");
        var info = new ProcessStartInfo(DotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in new[] { butterfly, "demo", "--duration", "15", "--plot", plot, "--timeout", "80" })
        {
            // The demo's own deadline (--timeout) is well inside this test's, so a stuck run still ends with its report.
            info.ArgumentList.Add(argument);
        }

        var output = new StringBuilder();
        using var demo = new Process { StartInfo = info };
        demo.OutputDataReceived += (_, e) => Append(output, e.Data);
        demo.ErrorDataReceived += (_, e) => Append(output, e.Data);
        demo.Start();
        int pid = demo.Id;
        demo.BeginOutputReadLine();
        demo.BeginErrorReadLine();

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.CurrentContext.CancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(100));
        try
        {
            await demo.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            demo.Kill(entireProcessTree: true);
            Assert.Fail($"The demo did not finish within 100 s. Output so far:\n{Text(output)}");
        }

        // Output lines are delivered by events that may trail the exit: wait for the end of both streams.
        demo.WaitForExit();
        string text = Text(output);
        TestContext.Out.WriteLine(text);
        Match summary = Summary.Match(text);
        Assert.That(summary.Success, Is.True, $"No summary line in the output:\n{text}");
        long Value(string name) => long.Parse(summary.Groups[name].Value, System.Globalization.CultureInfo.InvariantCulture);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(demo.ExitCode, Is.EqualTo(0), "exit code");
            Assert.That(Value("sent"), Is.GreaterThan(10_000), "sent");
            Assert.That(Value("received"), Is.EqualTo(Value("sent")), "received");
            Assert.That(Value("lost"), Is.Zero, "lost");
            Assert.That(Value("duplicates"), Is.Zero, "duplicates");
            Assert.That(Value("corrupted"), Is.Zero, "corrupted");

            // Evidence that each failure happened, from the orchestrator's event lines.
            Assert.That(text, Does.Match(@"event: intermediate2 frozen pid=\d+"), "intermediate2 frozen (SIGSTOP)");
            Assert.That(text, Does.Contain("event: intermediate2 silent: declared dead"), "the frozen intermediate2 declared dead by heartbeats");
            Assert.That(text, Does.Match(@"event: intermediate2 killed \(kill -9 pid=\d+\)"), "intermediate2 killed");
            Assert.That(text, Does.Match(@"event: component1#\d exited with code 0 after its drain"), "a component1 drained and exited 0");
            Assert.That(text, Does.Match(@"event: component2#\d exited with code 0 after its drain"), "a component2 drained and exited 0");
        }

        // Reached at its new address: a different address, the workers connected to it there, and
        // replies stamped by the moved intermediate2 (its route tag) reached receive_replies.
        Match moved = Moved.Match(text);
        Assert.That(moved.Success, Is.True, "no 'intermediate2 serving at' event");
        string movedEndpoint = moved.Groups["endpoint"].Value;
        Match original = OriginalInput.Match(text);
        Match replies = MovedReplies.Match(text);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(moved.Groups["host"].Value, Is.Not.EqualTo("127.0.0.1"), "the moved intermediate2 runs at another address");
            Assert.That(original.Success, Is.True, "the workers found the first intermediate2 through the directory");
            Assert.That(movedEndpoint, Is.Not.EqualTo(original.Groups["endpoint"].Value), "a new endpoint");
            Assert.That(text, Does.Contain($"connected to intermediate2 (moved) at {movedEndpoint}"), "a component1 connected to the moved intermediate2");
            Assert.That(text, Does.Contain("event: intermediate2 carries traffic again"), "receive_replies saw the first reply through the moved intermediate2");
            Assert.That(replies.Success, Is.True, "no per-intermediate reply counts");
            Assert.That(long.Parse(replies.Groups["moved"].Value, System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThan(0), "replies through the moved intermediate2");
        }

        // The plot is a real PNG.
        byte[] png = File.ReadAllBytes(plot);
        File.Delete(plot);
        Assert.That(png.AsSpan(0, 8).ToArray(), Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "PNG signature");

        // The orchestrator waits for (or kills) every child and removes its namespace before it exits.
        Deadline.WaitUntil(() => RunningRoles(butterfly).Count == 0, "no Butterfly role process left running", TimeSpan.FromSeconds(10));
        Assert.That(File.Exists($"/var/run/netns/butterfly-{pid}"), Is.False, "the demo's network namespace was removed");
    }

    /// <summary>Butterfly's build output for the configuration and framework this test assembly was built with.</summary>
    private static string LocateButterfly()
    {
        // The test runs from <repo>/Engine.Tests/bin/<configuration>/<tfm>/.
        var testDirectory = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        string framework = testDirectory.Name;
        string configuration = testDirectory.Parent?.Name ?? "Release";
        DirectoryInfo? root = testDirectory;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Butterfly", "Butterfly.csproj")))
        {
            root = root.Parent;
        }

        Assert.That(root, Is.Not.Null, $"No Butterfly project above {testDirectory.FullName}");
        string dll = Path.Combine(root!.FullName, "Butterfly", "bin", configuration, framework, "Butterfly.dll");
        Assert.That(File.Exists(dll), Is.True, $"{dll} is missing: build the Butterfly project (Engine.Tests references it, so building the tests builds it)");
        return dll;
    }

    /// <summary>The dotnet host running this test (set by the SDK), so the demo runs on the same runtime.</summary>
    private static string DotnetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host))
        {
            return host;
        }

        string? current = Environment.ProcessPath;
        return current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
    }

    /// <summary>Processes whose command line runs this Butterfly build (Linux /proc; elsewhere nothing is checked).</summary>
    private static List<int> RunningRoles(string butterfly)
    {
        var found = new List<int>();
        if (!OperatingSystem.IsLinux())
        {
            return found;
        }

        foreach (string directory in System.IO.Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out int pid))
            {
                continue;
            }

            try
            {
                string commandLine = File.ReadAllText(Path.Combine(directory, "cmdline")).Replace('\0', ' ');
                if (commandLine.Contains(butterfly, StringComparison.Ordinal))
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return found;
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static string Text(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }
}
