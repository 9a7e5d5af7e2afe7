using System.Buffers.Binary;
using System.Collections.Concurrent;
using Engine.Sockets;
using Engine.Tests.Infrastructure;

namespace Engine.Tests.Hardening;

/// <summary>
/// A well-behaved PUSH peer that keeps sending numbered messages to the listener under attack, and
/// the receiving side that checks every one arrives, once, in order. Anything else that arrives
/// (a hostile peer's message) is counted apart.
/// </summary>
internal sealed class GoodTraffic : IDisposable
{
    private static readonly byte[] Magic = "GOOD"u8.ToArray();
    private const int MessageSize = 12;

    private readonly PushSocket _push;
    private readonly IReceiveSocket _pull;
    private readonly Thread _sender;
    private readonly Thread _receiver;
    private readonly ConcurrentQueue<string> _problems = new();
    private volatile bool _stopSending;
    private volatile bool _stopReceiving;
    private long _sent;
    private long _received;
    private long _foreign;

    internal GoodTraffic(IReceiveSocket pull, string endpoint)
    {
        _pull = pull;
        _push = new PushSocket(new SocketOptions { SendHighWatermark = 10_000 });
        _push.Connect(endpoint);
        _sender = new Thread(SendLoop) { IsBackground = true, Name = "good-peer-send" };
        _receiver = new Thread(ReceiveLoop) { IsBackground = true, Name = "good-peer-receive" };
        _receiver.Start();
        _sender.Start();
    }

    internal long Sent => Interlocked.Read(ref _sent);

    internal long Received => Interlocked.Read(ref _received);

    internal long Foreign => Interlocked.Read(ref _foreign);

    internal IReadOnlyCollection<string> Problems => _problems;

    /// <summary>Waits until <paramref name="more"/> further good messages have arrived: the good peer is not held up.</summary>
    internal void WaitForProgress(long more, string during)
    {
        long target = Received + more;
        Deadline.WaitUntil(() => Received >= target || !_problems.IsEmpty, $"the good peer to get {more} more messages through {during} (received {Received})", TimeSpan.FromSeconds(10));
        Assert.That(_problems, Is.Empty, $"good traffic went wrong {during}");
    }

    /// <summary>Stops sending and waits until everything sent has arrived.</summary>
    internal void StopAndDrain()
    {
        _stopSending = true;
        _sender.Join(TimeSpan.FromSeconds(10));
        Deadline.WaitUntil(() => Received >= Sent || !_problems.IsEmpty, $"every good message to arrive (sent {Sent}, received {Received})", TimeSpan.FromSeconds(20));
    }

    private void SendLoop()
    {
        Span<byte> message = stackalloc byte[MessageSize];
        Magic.CopyTo(message);
        // Bounded: about 4 messages per millisecond, for at most ten minutes.
        for (long i = 0; !_stopSending && i < 2_500_000; i++)
        {
            BinaryPrimitives.WriteInt64BigEndian(message[4..], i);
            if (!_push.TrySend(message, TimeSpan.FromSeconds(10)))
            {
                _problems.Enqueue($"good message {i} could not be queued within 10 s: the listener stopped taking messages");
                return;
            }

            Interlocked.Increment(ref _sent);
            if (i % 4 == 3)
            {
                // A deliberate pace: steady traffic for the whole battery without taking a core.
                Thread.Sleep(1);
            }
        }
    }

    private void ReceiveLoop()
    {
        long expected = 0;
        while (!_stopReceiving)
        {
            if (!_pull.TryReceive(out Msg frame, TimeSpan.FromMilliseconds(100)))
            {
                continue;
            }

            using (frame)
            {
                ReadOnlySpan<byte> bytes = frame.Span;
                if (frame.More || bytes.Length != MessageSize || !bytes[..4].SequenceEqual(Magic))
                {
                    Interlocked.Increment(ref _foreign);
                    continue;
                }

                long number = BinaryPrimitives.ReadInt64BigEndian(bytes[4..]);
                if (number != expected)
                {
                    _problems.Enqueue($"good message {number} arrived when {expected} was due (lost or reordered)");
                }

                expected = number + 1;
                Interlocked.Increment(ref _received);
            }
        }
    }

    public void Dispose()
    {
        _stopSending = true;
        _sender.Join(TimeSpan.FromSeconds(10));
        _stopReceiving = true;
        _receiver.Join(TimeSpan.FromSeconds(5));
        _push.Dispose();
    }
}
