using System.Diagnostics;
using System.Text;
using Engine.Directory;
using Engine.Sockets;

namespace Engine.Tests.Directory;

/// <summary>Short timings so lease and liveness tests run in well under a second each.</summary>
internal static class DirectoryTestKit
{
    internal static readonly TimeSpan Lease = TimeSpan.FromMilliseconds(500);

    internal static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    internal static DirectoryClientOptions FastOptions() => new()
    {
        ProbeInterval = TimeSpan.FromMilliseconds(100),
        // Long enough for a cold client (JIT, connect, handshake) on a busy 2-core machine.
        RequestTimeout = TimeSpan.FromSeconds(1),
        WatchLease = TimeSpan.FromMilliseconds(1500),
        DefaultLease = Lease,
    };

    internal static DirectoryClient Client(params string[] servers) => new(servers, FastOptions());

    /// <summary>Follows a watch into a <see cref="Recorder{T}"/> until the token is canceled.</summary>
    internal static Recorder<DirectoryChange> Record(DirectoryClient client, string name, CancellationToken stop)
    {
        var recorder = new Recorder<DirectoryChange>();
        recorder.Pump = Task.Run(async () =>
        {
            try
            {
                await foreach (DirectoryChange change in client.WatchAsync(name, stop))
                {
                    recorder.Add(change);
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        return recorder;
    }

    /// <summary>Records a socket's monitor events.</summary>
    internal static Recorder<MonitorEvent> Record(MessageSocket socket)
    {
        var recorder = new Recorder<MonitorEvent>();
        recorder.Pump = Task.Run(async () =>
        {
            await foreach (MonitorEvent e in socket.MonitorAsync())
            {
                recorder.Add(e);
            }
        });
        return recorder;
    }

    /// <summary>Records a client's status events.</summary>
    internal static Recorder<DirectoryEvent> Record(DirectoryClient client)
    {
        var recorder = new Recorder<DirectoryEvent>();
        client.StatusChanged += (_, e) => recorder.Add(e);
        return recorder;
    }

    internal static byte[] Text(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>Waits for a condition without holding a thread: these tests run on the pool, which the code under test needs too.</summary>
    internal static async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        TimeSpan limit = timeout ?? Patience;
        while (!condition())
        {
            if (clock.Elapsed > limit)
            {
                Assert.Fail($"Timed out after {limit.TotalSeconds:0.#} s waiting for {what}");
            }

            await Task.Delay(2);
        }
    }

    /// <summary>Receives one whole message without blocking a thread; fails the test after <paramref name="timeout"/>.</summary>
    internal static async Task<List<byte[]>> ReceiveMessageAsync(IReceiveSocket socket, TimeSpan? timeout = null)
    {
        using var limit = new CancellationTokenSource(timeout ?? Patience);
        var frames = new List<byte[]>();
        try
        {
            bool more;
            do
            {
                Msg frame = await socket.ReceiveAsync(limit.Token);
                more = frame.More;
                frames.Add(frame.ToArray());
                frame.Dispose();
            }
            while (more);
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested)
        {
            Assert.Fail($"Nothing received within {(timeout ?? Patience).TotalSeconds:0.#} s");
        }

        return frames;
    }

    internal static async Task<string> ReceiveStringAsync(IReceiveSocket socket) =>
        Encoding.UTF8.GetString((await ReceiveMessageAsync(socket))[0]);

    internal static byte[] Id(uint id) => [(byte)(id >> 24), (byte)(id >> 16), (byte)(id >> 8), (byte)id];

    internal static string Show(List<byte[]> frames) =>
        string.Join(" | ", frames.Select(f => f.Length == 4 && f.Any(b => b < 0x20) ? "0x" + Convert.ToHexString(f) : Encoding.UTF8.GetString(f)));
}

/// <summary>Items seen by a background reader, with when each came; tests wait on a condition, never a fixed time.</summary>
internal sealed class Recorder<T>
{
    private readonly object _gate = new();
    private readonly List<(T Item, long At)> _items = new();
    private readonly SemaphoreSlim _added = new(0);

    internal Task Pump { get; set; } = Task.CompletedTask;

    internal void Add(T item)
    {
        lock (_gate)
        {
            _items.Add((item, Stopwatch.GetTimestamp()));
        }

        _added.Release();
    }

    internal List<T> Snapshot()
    {
        lock (_gate)
        {
            return _items.Select(i => i.Item).ToList();
        }
    }

    /// <summary>The first item (from <paramref name="from"/> on) that matches, and the Stopwatch timestamp it was seen at; fails the test after <paramref name="timeout"/>.</summary>
    /// <remarks>Awaits each new item (no thread is held, no fixed sleep): one waiter per recorder at a time.</remarks>
    internal async Task<(T Item, long At)> WaitForAsync(Func<T, bool> match, string what, TimeSpan? timeout = null, int from = 0)
    {
        var clock = Stopwatch.StartNew();
        TimeSpan limit = timeout ?? DirectoryTestKit.Patience;
        int checkedUpTo = from;
        while (true)
        {
            lock (_gate)
            {
                for (; checkedUpTo < _items.Count; checkedUpTo++)
                {
                    if (match(_items[checkedUpTo].Item))
                    {
                        return _items[checkedUpTo];
                    }
                }
            }

            TimeSpan left = limit - clock.Elapsed;
            if (left <= TimeSpan.Zero || !await _added.WaitAsync(left))
            {
                Assert.Fail($"Timed out after {limit.TotalSeconds:0.#} s waiting for {what}; seen: {string.Join("; ", Snapshot())}");
            }
        }
    }

    internal int Count
    {
        get
        {
            lock (_gate)
            {
                return _items.Count;
            }
        }
    }
}
