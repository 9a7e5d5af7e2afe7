using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Engine.Benchmarks.Peers;

/// <summary>
/// The process's CPU time (user + system, all threads, including threads that have ended) and its
/// context switches. Switches tell hand-offs apart from work: a voluntary switch is a thread
/// blocking (a wake-up to wait for), an involuntary one is the scheduler preempting it (load).
/// </summary>
internal readonly record struct ResourceUsage(TimeSpan Cpu, long VoluntarySwitches, long InvoluntarySwitches)
{
    private const int RUSAGE_SELF = 0;

    internal long Switches => VoluntarySwitches + InvoluntarySwitches;

    public static ResourceUsage operator -(ResourceUsage end, ResourceUsage start) =>
        new(end.Cpu - start.Cpu, end.VoluntarySwitches - start.VoluntarySwitches, end.InvoluntarySwitches - start.InvoluntarySwitches);

    /// <summary>getrusage(RUSAGE_SELF) on Linux; elsewhere CPU time only.</summary>
    internal static ResourceUsage Now()
    {
        if (OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64)
        {
            Rusage usage;
            if (getrusage(RUSAGE_SELF, out usage) == 0)
            {
                long microseconds = (usage.UserSeconds * 1_000_000) + usage.UserMicroseconds + (usage.SystemSeconds * 1_000_000) + usage.SystemMicroseconds;
                return new ResourceUsage(TimeSpan.FromMicroseconds(microseconds), usage.VoluntarySwitches, usage.InvoluntarySwitches);
            }
        }

        using var self = Process.GetCurrentProcess();
        return new ResourceUsage(self.TotalProcessorTime, 0, 0);
    }

    [DllImport("libc", SetLastError = false)]
    private static extern int getrusage(int who, out Rusage usage);

    /// <summary>struct rusage of 64-bit Linux: two timevals, then fourteen longs.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Rusage
    {
        public long UserSeconds;
        public long UserMicroseconds;
        public long SystemSeconds;
        public long SystemMicroseconds;
        public long MaxResidentSet;
        public long SharedMemory;
        public long UnsharedData;
        public long UnsharedStack;
        public long MinorFaults;
        public long MajorFaults;
        public long Swaps;
        public long BlockInputs;
        public long BlockOutputs;
        public long MessagesSent;
        public long MessagesReceived;
        public long Signals;
        public long VoluntarySwitches;
        public long InvoluntarySwitches;
    }
}
