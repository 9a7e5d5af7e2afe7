using System.Diagnostics.Tracing;
using System.Globalization;
using Engine.Sockets;

namespace Engine.Benchmarks.Peers;

/// <summary>
/// <c>allocs --transport tcp|inproc --size 16 --count 1000000</c>: our PUSH -> PULL in one process
/// after a warm-up, reporting the bytes the whole process allocated per message and which types
/// they were. Types come from the runtime's allocation-tick events (one sample per ~100 KB
/// allocated, with the type that crossed the threshold), so the histogram is statistical but
/// points straight at a steady-state allocation.
/// </summary>
public static class AllocationProfile
{
    public static int Run(ReadOnlySpan<string> args)
    {
        string transport = "inproc";
        int size = 16;
        long count = 1_000_000;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--transport": transport = args[i + 1]; break;
                case "--size": size = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--count": count = long.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"allocs: unknown option {args[i]}");
            }
        }

        string endpoint = transport == "tcp" ? "tcp://127.0.0.1:0" : $"inproc://allocs-{Environment.ProcessId}";
        var options = new SocketOptions { ReceiveTimeout = TimeSpan.FromSeconds(30), SendTimeout = TimeSpan.FromSeconds(30) };
        using var pull = new PullSocket(options);
        string bound = pull.Bind(endpoint);
        using var push = new PushSocket(new SocketOptions { SendTimeout = TimeSpan.FromSeconds(30) });
        push.Connect(bound);
        long warmUp = Math.Max(100_000, count / 5);
        var sender = new Thread(() =>
        {
            for (long i = 0; i < warmUp + count; i++)
            {
                Msg frame = Msg.Allocate(size);
                push.Send(ref frame);
            }
        })
        { IsBackground = true, Name = "allocs sender" };
        sender.Start();
        ReceiveMany(pull, warmUp);

        using var sampler = new AllocationSampler();
        long before = GC.GetTotalAllocatedBytes(precise: true);
        ReceiveMany(pull, count);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        sampler.Stop();
        sender.Join();

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"transport={transport} size={size} messages={count} allocated_bytes={allocated} bytes_per_msg={(double)allocated / count:0.000}"));
        foreach ((string type, long samples, long bytes) in sampler.ByType())
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {samples,6} samples  ~{bytes / 1024,8} KiB  {type}"));
        }

        return 0;
    }

    private static void ReceiveMany(PullSocket pull, long count)
    {
        for (long i = 0; i < count; i++)
        {
            Msg frame = pull.Receive();
            frame.Dispose();
        }
    }

    /// <summary>Collects the runtime's GCAllocationTick events (GC keyword, verbose level).</summary>
    private sealed class AllocationSampler : EventListener
    {
        private const EventKeywords GcKeyword = (EventKeywords)0x1;
        private readonly Dictionary<string, (long Samples, long Bytes)> _byType = new();
        private volatile bool _stopped;

        internal void Stop() => _stopped = true;

        internal IEnumerable<(string Type, long Samples, long Bytes)> ByType()
        {
            lock (_byType)
            {
                return _byType.OrderByDescending(p => p.Value.Bytes).Select(p => (p.Key, p.Value.Samples, p.Value.Bytes)).ToList();
            }
        }

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(source, EventLevel.Verbose, GcKeyword);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (_stopped || e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.PayloadNames is null || e.Payload is null)
            {
                return;
            }

            int typeIndex = e.PayloadNames.IndexOf("TypeName");
            int amountIndex = e.PayloadNames.IndexOf("AllocationAmount64");
            string type = typeIndex >= 0 ? e.Payload[typeIndex] as string ?? "?" : "?";
            long amount = amountIndex >= 0 ? Convert.ToInt64(e.Payload[amountIndex], CultureInfo.InvariantCulture) : 0;
            lock (_byType)
            {
                (long samples, long bytes) = _byType.GetValueOrDefault(type);
                _byType[type] = (samples + 1, bytes + amount);
            }
        }
    }
}
