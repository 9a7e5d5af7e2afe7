using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Engine.Benchmarks.Micro;

/// <summary>
/// <c>micro [--filter ...]</c>: the engine's hot-path building blocks under BenchmarkDotNet with the
/// memory diagnoser. Each must show 0 B allocated per operation.
/// </summary>
/// <remarks>
/// The job is short (one launch, 3 warm-up and 5 measured iterations) and runs in this process:
/// building a separate benchmark project per run would take longer than the measurements and
/// compete with them for the two cores. Each benchmark loops over many operations per invocation
/// (<c>OperationsPerInvoke</c>) so the nanoseconds are per operation, not per call overhead.
/// </remarks>
internal static class MicroBenchmarks
{
    internal static int Run(string[] args)
    {
        IConfig config = DefaultConfig.Instance
            .AddJob(Job.Default
                .WithLaunchCount(1)
                .WithWarmupCount(3)
                .WithIterationCount(5)
                .WithToolchain(InProcessEmitToolchain.Instance)
                .WithId("Quick"))
            .AddDiagnoser(MemoryDiagnoser.Default)
            .WithArtifactsPath(Path.Combine(RepositoryPaths.BenchArtifacts, "micro"))
            .WithOptions(ConfigOptions.JoinSummary);
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(MicroBenchmarks).Assembly).Run(args.Length == 0 ? ["--filter", "*"] : args, config);
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }
}
