using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Butterfly.Orchestration;

/// <summary>
/// Where the moved intermediate2 runs: a "new server" with an address of its own. As root with
/// <c>ip netns</c>, a network namespace made for this run and joined to ours by a veth pair (a
/// separate host as far as TCP can tell, on a /30 that exists only on that pair); otherwise
/// 127.0.0.2, which every Linux loopback answers. Everything made here is removed on dispose,
/// and namespaces left by an earlier run that was killed are removed at the next start.
/// </summary>
internal sealed partial class NewServer : IDisposable
{
    private readonly string? _namespace;
    private readonly string? _hostLink;
    private int _disposed;

    private NewServer(string host, string directoryHost, IReadOnlyList<string> wrapper, string description, string? ns, string? hostLink)
    {
        Host = host;
        DirectoryHost = directoryHost;
        Wrapper = wrapper;
        Description = description;
        _namespace = ns;
        _hostLink = hostLink;
    }

    /// <summary>The address the moved intermediate2 binds.</summary>
    internal string Host { get; }

    /// <summary>Where the directory servers bind so that both our processes and the new server reach them.</summary>
    internal string DirectoryHost { get; }

    /// <summary>The command that starts a process on the new server (empty: ours).</summary>
    internal IReadOnlyList<string> Wrapper { get; }

    /// <summary>One line for the log: what the new server is.</summary>
    internal string Description { get; }

    /// <summary>The plain 127.0.0.2 variant, used when no namespace is wanted or possible.</summary>
    internal static NewServer Loopback(string why) =>
        new("127.0.0.2", "127.0.0.1", Array.Empty<string>(), $"127.0.0.2 on this host's loopback ({why})", null, null);

    /// <summary>A namespace with a veth pair when we are root and <c>ip netns</c> works, else 127.0.0.2 (the reason goes in the description).</summary>
    internal static NewServer Prepare()
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
        {
            return Loopback("network namespaces need root");
        }

        RemoveStaleNamespaces();
        int pid = Environment.ProcessId;
        string ns = $"butterfly-{pid}";
        string hostLink = $"bfly{pid}h";
        string peerLink = $"bfly{pid}p";
        string subnet = $"10.252.{pid % 250}";
        string setup = $"ip netns add {ns} && ip link add {hostLink} type veth peer name {peerLink} && ip link set {peerLink} netns {ns}"
            + $" && ip addr add {subnet}.1/30 dev {hostLink} && ip link set {hostLink} up"
            + $" && ip netns exec {ns} ip addr add {subnet}.2/30 dev {peerLink}"
            + $" && ip netns exec {ns} ip link set {peerLink} up && ip netns exec {ns} ip link set lo up";
        if (Shell(setup, out string output) != 0)
        {
            Shell($"ip link del {hostLink} 2>/dev/null; ip netns del {ns} 2>/dev/null", out _);
            return Loopback($"could not make a network namespace: {output.Trim()}");
        }

        return new NewServer($"{subnet}.2", $"{subnet}.1", ["ip", "netns", "exec", ns],
            $"{subnet}.2 in network namespace {ns}, joined by veth {hostLink}", ns, hostLink);
    }

    /// <summary>Removes the namespace and the veth pair (the moved intermediate2 must be gone by then).</summary>
    public void Dispose()
    {
        if (_namespace is null || Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Anything still inside is ours (the moved intermediate2): kill it, or the namespace stays.
        Shell($"ip netns pids {_namespace} | xargs -r kill -9; ip link del {_hostLink} 2>/dev/null; ip netns del {_namespace}", out _);
    }

    /// <summary>Namespaces named after a butterfly run whose process is gone (it was killed before it could clean up).</summary>
    private static void RemoveStaleNamespaces()
    {
        if (Shell("ip netns list", out string list) != 0)
        {
            return;
        }

        foreach (Match match in StaleName().Matches(list))
        {
            string pid = match.Groups["pid"].Value;
            if (!System.IO.Directory.Exists($"/proc/{pid}"))
            {
                Shell($"ip netns pids butterfly-{pid} | xargs -r kill -9; ip link del bfly{pid}h 2>/dev/null; ip netns del butterfly-{pid}", out _);
            }
        }
    }

    /// <summary>Runs a shell command, bounded to 10 s; returns its exit code and output.</summary>
    private static int Shell(string command, out string output)
    {
        var info = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(command);
        try
        {
            using Process process = Process.Start(info) ?? throw new InvalidOperationException("sh did not start");
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(10_000))
            {
                process.Kill(entireProcessTree: true);
                output = $"'{command}' took longer than 10 s";
                return -1;
            }

            output = stdout.Result + stderr.Result;
            return process.ExitCode;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            output = e.Message;
            return -1;
        }
    }

    [GeneratedRegex(@"^butterfly-(?<pid>\d+)\b", RegexOptions.Multiline)]
    private static partial Regex StaleName();
}
