using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Engine.Tests.Infrastructure;

namespace Engine.Tests.Demo;

/// <summary>
/// Runs the real Butterfly demo (eight processes over tcp on 127.0.0.1) as a user would, and
/// checks its verdict: every request crossed the butterfly exactly once and intact.
/// </summary>
[TestFixture]
[CancelAfter(120_000)]
public class ButterflyDemoTests
{
    private static readonly Regex Summary = new(
        @"^butterfly: sent=(?<sent>\d+) received=(?<received>\d+) lost=(?<lost>-?\d+) duplicates=(?<duplicates>\d+) corrupted=(?<corrupted>\d+)$",
        RegexOptions.Multiline | RegexOptions.CultureInvariant);

    [Test]
    public async Task EveryRequestCrossesTheButterflyOnceAndIntact()
    {
        const int Messages = 20_000;
        string butterfly = LocateButterfly();
        var info = new ProcessStartInfo(DotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add(butterfly);
        info.ArgumentList.Add("demo");
        info.ArgumentList.Add("--messages");
        info.ArgumentList.Add(Messages.ToString(System.Globalization.CultureInfo.InvariantCulture));
        // The demo's own deadline, well inside this test's, so a stuck run still ends with its report.
        info.ArgumentList.Add("--timeout");
        info.ArgumentList.Add("60");

        var output = new StringBuilder();
        using var demo = new Process { StartInfo = info };
        demo.OutputDataReceived += (_, e) => Append(output, e.Data);
        demo.ErrorDataReceived += (_, e) => Append(output, e.Data);
        demo.Start();
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

        string text = Text(output);
        TestContext.Out.WriteLine(text);
        Match summary = Summary.Match(text);
        Assert.That(summary.Success, Is.True, $"No summary line in the output:\n{text}");
        long Value(string name) => long.Parse(summary.Groups[name].Value, System.Globalization.CultureInfo.InvariantCulture);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(demo.ExitCode, Is.EqualTo(0), "exit code");
            Assert.That(Value("sent"), Is.EqualTo(Messages), "sent");
            Assert.That(Value("received"), Is.EqualTo(Value("sent")), "received");
            Assert.That(Value("lost"), Is.Zero, "lost");
            Assert.That(Value("duplicates"), Is.Zero, "duplicates");
            Assert.That(Value("corrupted"), Is.Zero, "corrupted");
        }

        // The orchestrator waits for (or kills) every child before it exits: none may be left.
        Deadline.WaitUntil(() => RunningRoles(butterfly).Count == 0, "no Butterfly role process left running", TimeSpan.FromSeconds(10));
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
