using System.Globalization;

namespace Engine.Benchmarks.Suite;

/// <summary>Where and when the suite ran: enough to tell whether two tables may be compared.</summary>
internal sealed record MachineInfo(DateTime StartedUtc, int Cores, string CpuModel, string LoadAtStart, string? LoadAtEnd, string Runtime, string LibZmqVersion, string NetMQVersion)
{
    internal static MachineInfo Capture() => new(
        DateTime.UtcNow,
        Environment.ProcessorCount,
        ReadCpuModel(),
        LoadAverage(),
        null,
        System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
        ReadLibZmqVersion(),
        ReadNetMQVersion());

    internal MachineInfo WithEndLoad() => this with { LoadAtEnd = LoadAverage() };

    internal string Describe() =>
        $"{StartedUtc:yyyy-MM-dd HH:mm} UTC, {Cores} cores ({CpuModel}), load average {LoadAtStart} at start{(LoadAtEnd is null ? "" : $", {LoadAtEnd} at end")}; {Runtime}, libzmq {LibZmqVersion}, NetMQ {NetMQVersion}";

    /// <summary>The first "model name" of /proc/cpuinfo (Linux), else the architecture.</summary>
    private static string ReadCpuModel()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal))
                {
                    return line[(line.IndexOf(':') + 1)..].Trim();
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
    }

    /// <summary>The 1, 5 and 15 minute load averages: on two cores, much above 0.5 at the start means someone else was busy.</summary>
    private static string LoadAverage()
    {
        try
        {
            string[] fields = File.ReadAllText("/proc/loadavg").Split(' ');
            return string.Join(' ', fields.Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static string ReadLibZmqVersion()
    {
        try
        {
            return Engine.Tests.Interop.LibZmq.Version.ToString();
        }
        catch (DllNotFoundException)
        {
            return "not installed";
        }
    }

    /// <summary>The package version (the assembly version of NetMQ 4.0.x is 4.0.0.0).</summary>
    private static string ReadNetMQVersion()
    {
        System.Reflection.Assembly netmq = typeof(NetMQ.Msg).Assembly;
        string? version = System.Reflection.CustomAttributeExtensions.GetCustomAttribute<System.Reflection.AssemblyInformationalVersionAttribute>(netmq)?.InformationalVersion;
        return (version ?? netmq.GetName().Version?.ToString() ?? "unknown").Split('+')[0];
    }

    internal string Date => StartedUtc.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
