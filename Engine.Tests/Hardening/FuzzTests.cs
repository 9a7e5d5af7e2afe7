using System.Diagnostics;

namespace Engine.Tests.Hardening;

/// <summary>
/// Fuzzing the decoder and the handshake (issue 9). The default run replays the regression corpus
/// (<c>Hardening/FuzzCorpus/*.hex</c>: every crasher found is kept there) and a fixed-seed sample;
/// <c>./build.sh test fuzz</c> runs fresh seeds for a bounded time (<c>ENGINE_FUZZ_SECONDS</c>, 60 by default).
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class FuzzTests
{
    private const int FixedSeed = 20261125;

    private static string CorpusDirectory => Path.Combine(TestContext.CurrentContext.TestDirectory, "Hardening", "FuzzCorpus");

    public static IEnumerable<TestCaseData> CorpusFiles() =>
        System.IO.Directory.EnumerateFiles(Path.Combine(AppContext.BaseDirectory, "Hardening", "FuzzCorpus"), "*.hex")
            .Order(StringComparer.Ordinal)
            .Select(path => new TestCaseData(Path.GetFileName(path)).SetName($"Corpus({Path.GetFileNameWithoutExtension(path)})"));

    [Test]
    public void TheCorpusIsThere() =>
        Assert.That(System.IO.Directory.EnumerateFiles(CorpusDirectory, "*.hex").Count(), Is.GreaterThanOrEqualTo(5), "the regression corpus is copied next to the tests");

    [TestCaseSource(nameof(CorpusFiles))]
    public void CorpusInputIsRefusedCleanly(string file)
    {
        FuzzInput input = FuzzInput.FromCorpusText(File.ReadAllText(Path.Combine(CorpusDirectory, file)));
        CodecFuzzTarget.Run(input);
        using var target = new SessionFuzzTarget();
        target.Run(input);
        target.AssertHealthy();
    }

    [Test]
    public void TheCorpusFormatRoundTrips()
    {
        var random = new Random(FixedSeed);
        for (int i = 0; i < 200; i++)
        {
            FuzzInput input = StreamFuzzer.Next(random);
            FuzzInput back = FuzzInput.FromCorpusText(input.ToCorpusText());
            Assert.That(back.Bytes, Is.EqualTo(input.Bytes));
            Assert.That(back.Chunks().Select(Convert.ToHexString), Is.EqualTo(input.Chunks().Select(Convert.ToHexString)));
            Assert.That(back.Listener, Is.EqualTo(input.Listener));
        }
    }

    [Test]
    public void FixedSeedSampleThroughTheDecoder() => RunCodec(new Random(FixedSeed), count: 20_000, TimeSpan.FromSeconds(30));

    [Test]
    public void FixedSeedSampleThroughLiveSessions()
    {
        using var target = new SessionFuzzTarget();
        RunSessions(target, new Random(FixedSeed), count: 300, TimeSpan.FromSeconds(30));
        target.AssertHealthy();
    }

    [Test]
    [Category("fuzz")]
    public void FreshSeedsForABoundedTime()
    {
        TimeSpan budget = TimeSpan.FromSeconds(int.TryParse(Environment.GetEnvironmentVariable("ENGINE_FUZZ_SECONDS"), out int seconds) ? seconds : 60);
        int seed = Environment.TickCount;
        TestContext.Out.WriteLine($"fuzz seed {seed}, {budget.TotalSeconds:0} s");
        long heapBefore = GC.GetTotalMemory(forceFullCollection: true);

        RunCodec(new Random(seed), count: int.MaxValue, budget / 4);
        FuzzSessions(seed, budget * 3 / 4);

        long heapGrowth = GC.GetTotalMemory(forceFullCollection: true) - heapBefore;
        TestContext.Out.WriteLine($"heap after fuzzing: {heapGrowth / 1024:+#;-#;0} KiB");
        Assert.That(heapGrowth, Is.LessThan(64L * 1024 * 1024), "memory stays bounded however many hostile connections came and went");
    }

    /// <summary>In its own frame, so that nothing of the target is still reachable when the heap is measured.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void FuzzSessions(int seed, TimeSpan budget)
    {
        using var target = new SessionFuzzTarget();
        RunSessions(target, new Random(seed), count: int.MaxValue, budget);
        target.AssertHealthy();
    }

    private static void RunCodec(Random random, int count, TimeSpan budget)
    {
        var clock = Stopwatch.StartNew();
        int done = 0;
        for (; done < count && clock.Elapsed < budget; done++)
        {
            FuzzInput input = StreamFuzzer.Next(random);
            try
            {
                CodecFuzzTarget.Run(input);
            }
            catch (Exception e) when (e is not AssertionException)
            {
                Assert.Fail($"decoder failed on input {done}: {e}\nadd to Hardening/FuzzCorpus:\n{input.ToCorpusText()}");
            }
        }

        TestContext.Out.WriteLine($"decoder: {done} inputs in {clock.Elapsed.TotalSeconds:0.0} s");
    }

    private static void RunSessions(SessionFuzzTarget target, Random random, int count, TimeSpan budget)
    {
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < count && clock.Elapsed < budget; i++)
        {
            target.Run(StreamFuzzer.Next(random));
        }

        TestContext.Out.WriteLine($"sessions: {target.Inputs} connections in {clock.Elapsed.TotalSeconds:0.0} s");
    }
}
