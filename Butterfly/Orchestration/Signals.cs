using System.Runtime.InteropServices;

namespace Butterfly.Orchestration;

/// <summary>
/// POSIX signals to a child by pid: SIGSTOP freezes it (the silent failure: its kernel keeps
/// accepting and acknowledging TCP, it just never answers), SIGCONT thaws it, SIGKILL is the loud
/// failure, SIGTERM asks for a graceful drain. .NET has no API for the first two.
/// </summary>
internal static partial class Signals
{
    // Linux numbers (x86-64 and arm64 alike).
    internal const int Kill = 9;
    internal const int Terminate = 15;
    internal const int Continue = 18;
    internal const int Stop = 19;

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>; false (with the reason) if it could not.</summary>
    internal static bool Send(int pid, int signal, out string? error)
    {
        if (!OperatingSystem.IsLinux())
        {
            error = "signals are sent only on Linux";
            return false;
        }

        if (SendSignal(pid, signal) == 0)
        {
            error = null;
            return true;
        }

        error = $"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}";
        return false;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
