using System.Diagnostics;

namespace Engine.Tests.Infrastructure;

/// <summary>Waits on conditions with a deadline instead of sleeping a fixed time.</summary>
internal static class Deadline
{
    internal static readonly TimeSpan Default = TimeSpan.FromSeconds(20);

    /// <summary>Polls <paramref name="condition"/> until it holds; fails the test when <paramref name="timeout"/> passes.</summary>
    internal static void WaitUntil(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        TimeSpan limit = timeout ?? Default;
        var spin = new SpinWait();
        while (!condition())
        {
            if (clock.Elapsed > limit)
            {
                Assert.Fail($"Timed out after {limit.TotalSeconds:0.#} s waiting for: {what}");
            }

            if (spin.Count < 50)
            {
                spin.SpinOnce();
            }
            else
            {
                Thread.Yield();
                System.Threading.Thread.Sleep(1);
            }
        }
    }
}
