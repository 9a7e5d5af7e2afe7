using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Engine.Sockets;
using Engine.Tests.Infrastructure;
using Engine.Wire;

namespace Engine.Tests.Hardening;

/// <summary>
/// The pure decoder target: greeting checks, frame headers, command bodies and READY metadata,
/// run straight on the bytes. Properties: nothing throws; a greeting refused at some byte stays
/// refused; and frame headers decode identically from one contiguous buffer and from the same
/// bytes cut into segments (the decoder is resumable, so a TCP split can never change a verdict).
/// </summary>
internal static class CodecFuzzTarget
{
    private const int MaxFrames = 10_000;

    internal static void Run(FuzzInput input)
    {
        byte[] data = input.Bytes;
        CheckGreeting(data);
        int offset = data.Length >= Greeting.Size && data[0] == 0xFF ? Greeting.Size : 0;
        var contiguous = new SequenceReader<byte>(new ReadOnlySequence<byte>(data, offset, data.Length - offset));
        var segmented = new SequenceReader<byte>(Segmented(data, offset, input.Splits));
        for (int frame = 0; frame < MaxFrames; frame++)
        {
            OperationStatus status = FrameCodec.TryReadHeader(ref contiguous, out FrameFlags flags, out long size, out ProtocolError error);
            OperationStatus status2 = FrameCodec.TryReadHeader(ref segmented, out FrameFlags flags2, out long size2, out ProtocolError error2);
            if (status != status2 || error != error2 || contiguous.Consumed != segmented.Consumed
                || (status == OperationStatus.Done && (flags != flags2 || size != size2)))
            {
                throw new InvalidOperationException(
                    $"frame {frame}: contiguous {status}/{flags}/{size}/{error}@{contiguous.Consumed}, segmented {status2}/{flags2}/{size2}/{error2}@{segmented.Consumed}");
            }

            if (status != OperationStatus.Done || size > contiguous.Remaining)
            {
                return;
            }

            byte[] body = contiguous.UnreadSequence.Slice(0, size).ToArray();
            contiguous.Advance(size);
            segmented.Advance(size);
            if ((flags & FrameFlags.Command) != 0 && Commands.TryParse(body, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> commandData))
            {
                _ = ProtocolErrors.Printable(name);
                if (name.SequenceEqual(Commands.Ready))
                {
                    _ = Metadata.TryParse(commandData, out Metadata metadata, out _);
                    _ = metadata.SocketType;
                    _ = metadata.Identity;
                }
                else if (name.SequenceEqual(Commands.Error))
                {
                    string reason = Commands.ParseErrorReason(commandData);
                    if (reason.Any(c => c is < ' ' or > '~'))
                    {
                        throw new InvalidOperationException($"an ERROR reason kept a non-printable character: {reason}");
                    }
                }
            }
        }
    }

    private static void CheckGreeting(byte[] data)
    {
        ProtocolError firstRefusal = ProtocolError.None;
        for (int length = 0; length <= Math.Min(data.Length, Greeting.Size); length++)
        {
            ProtocolError error = Greeting.CheckPrefix(data.AsSpan(0, length));
            if (firstRefusal != ProtocolError.None && error == ProtocolError.None)
            {
                throw new InvalidOperationException($"greeting refused at {length - 1} bytes ({firstRefusal}) but accepted at {length}");
            }

            if (error != ProtocolError.None && firstRefusal == ProtocolError.None)
            {
                firstRefusal = error;
                _ = Greeting.DescribeRefusal(error, data.AsSpan(0, length));
            }
        }

        if (data.Length >= Greeting.Size)
        {
            ProtocolError error = Greeting.TryParse(data.AsSpan(0, Greeting.Size), out _);
            _ = Greeting.DescribeRefusal(error, data.AsSpan(0, Greeting.Size));
        }
    }

    private static ReadOnlySequence<byte> Segmented(byte[] data, int offset, int[] splits)
    {
        var lengths = new List<int>();
        int start = offset;
        foreach (int split in splits.Where(s => s > offset).Append(data.Length))
        {
            if (split > start)
            {
                lengths.Add(split - start);
                start = split;
            }
        }

        return lengths.Count == 0 ? ReadOnlySequence<byte>.Empty : Segments.FromLengths(data[offset..], lengths.ToArray());
    }
}

/// <summary>
/// The live target: each input is one raw TCP connection to a real listening socket (one per
/// listener type in <see cref="StreamFuzzer.Listeners"/>), sent in its chunks, then half-closed.
/// The engine must close every such connection within a bound, raise no "internal error" (what a
/// session reports when anything but a protocol violation escapes its loops), leave no session
/// behind, keep memory bounded and keep serving a good peer.
/// </summary>
internal sealed class SessionFuzzTarget : IDisposable
{
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan CloseBound = TimeSpan.FromSeconds(5);

    private readonly List<MessageSocket> _sockets = new();
    private readonly List<string> _endpoints = new();
    private readonly List<MonitorLog> _monitors = new();
    private readonly List<Thread> _drains = new();
    // The most recent inputs by client address, to name the input behind a failure; bounded so a
    // long run does not measure its own bookkeeping as engine memory.
    private const int RecentInputs = 4096;
    private readonly ConcurrentDictionary<string, FuzzInput> _inputsByAddress = new();
    private readonly Queue<string> _recentAddresses = new();
    private readonly PushSocket _goodPush;
    private readonly PullSocket _goodPull;
    private readonly ConcurrentDictionary<string, byte> _markers = new();
    private volatile bool _stopping;
    private int _unobserved;

    internal SessionFuzzTarget()
    {
        TaskScheduler.UnobservedTaskException += OnUnobserved;
        foreach ((SocketType type, _) in StreamFuzzer.Listeners)
        {
            var options = new SocketOptions
            {
                HandshakeTimeout = HandshakeTimeout,
                MaxMessageSize = 1024 * 1024,
                ReceiveTimeout = TimeSpan.FromMilliseconds(50),
                SendTimeout = TimeSpan.Zero,
                Linger = TimeSpan.Zero,
            };
            MessageSocket socket = type switch
            {
                SocketType.Pull => new PullSocket(options),
                SocketType.Router => new RouterSocket(options),
                SocketType.XPub => new XPubSocket(options),
                SocketType.Rep => new RepSocket(options),
                SocketType.Pair => new PairSocket(options),
                _ => throw new ArgumentOutOfRangeException(nameof(type)),
            };
            _sockets.Add(socket);
            _endpoints.Add(socket.Bind("tcp://127.0.0.1:0"));
            _monitors.Add(new MonitorLog(socket, e => e.Reason?.Contains("internal error", StringComparison.Ordinal) == true || _markers.ContainsKey(e.Endpoint)));
            var drain = new Thread(() => Drain(socket)) { IsBackground = true, Name = $"fuzz-drain-{type}" };
            _drains.Add(drain);
            drain.Start();
        }

        // A good pair on the side: the engine as a whole must still work after the fuzzing.
        _goodPull = new PullSocket(new SocketOptions { ReceiveTimeout = TimeSpan.FromSeconds(10) });
        _goodPush = new PushSocket();
        _goodPush.Connect(_goodPull.Bind("tcp://127.0.0.1:0"));
    }

    internal int Inputs { get; private set; }

    /// <summary>Sends one input on a new connection and waits until the engine has closed it.</summary>
    internal void Run(FuzzInput input)
    {
        using var client = new Socket(AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, ProtocolType.Tcp)
        {
            NoDelay = true,
            SendTimeout = 2000,
            ReceiveTimeout = (int)CloseBound.TotalMilliseconds,
            LingerState = new LingerOption(true, 0),
        };
        var endpoint = new Uri(_endpoints[input.Listener].Replace("tcp://", "http://", StringComparison.Ordinal));
        client.Connect(new IPEndPoint(IPAddress.Loopback, endpoint.Port));
        string address = $"tcp://{client.LocalEndPoint}";
        _inputsByAddress[address] = input;
        _recentAddresses.Enqueue(address);
        if (_recentAddresses.Count > RecentInputs)
        {
            _inputsByAddress.TryRemove(_recentAddresses.Dequeue(), out _);
        }
        Inputs++;
        try
        {
            foreach (byte[] chunk in input.Chunks())
            {
                client.Send(chunk);
            }

            client.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // The engine closed first: that is allowed at any point.
        }

        var buffer = new byte[4096];
        var clock = Stopwatch.StartNew();
        try
        {
            while (client.Receive(buffer) > 0)
            {
                if (clock.Elapsed > CloseBound)
                {
                    break;
                }
            }
        }
        catch (SocketException e) when (e.SocketErrorCode != SocketError.TimedOut)
        {
            // Reset by the engine: closed.
            return;
        }
        catch (SocketException)
        {
            throw new AssertionException($"the engine kept a connection open {CloseBound.TotalSeconds} s after end of stream; input:\n{input.ToCorpusText()}");
        }

        if (clock.Elapsed > CloseBound)
        {
            throw new AssertionException($"the engine kept a connection open {CloseBound.TotalSeconds} s after end of stream; input:\n{input.ToCorpusText()}");
        }
    }

    /// <summary>Everything that must hold after any number of inputs.</summary>
    internal void AssertHealthy()
    {
        for (int i = 0; i < _sockets.Count; i++)
        {
            MessageSocket socket = _sockets[i];
            Deadline.WaitUntil(() => socket.SessionCount == 0, $"every fuzz connection to {socket.Type} to be gone (has {socket.SessionCount})", TimeSpan.FromSeconds(10));
            WaitForMonitorToCatchUp(i);
        }

        string[] crashes = _monitors.SelectMany(m => m.Events)
            .Where(e => !_markers.ContainsKey(e.Endpoint))
            .Select(e => $"{e}\n{(_inputsByAddress.TryGetValue(e.Endpoint, out FuzzInput? input) ? input.ToCorpusText() : "(input unknown)")}")
            .ToArray();
        Assert.That(crashes, Is.Empty, "an exception other than a protocol violation escaped a session");

        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.That(Volatile.Read(ref _unobserved), Is.Zero, "a background task of the engine failed unobserved");

        _goodPush.Send("still serving"u8);
        Assert.That(_goodPull.ReceiveString(), Is.EqualTo("still serving"));
    }

    /// <summary>
    /// Monitor events arrive in order: once the event of a marker connection (refused at its first
    /// byte) is seen, every event of the fuzz connections before it has been seen too.
    /// </summary>
    private void WaitForMonitorToCatchUp(int listener)
    {
        var uri = new Uri(_endpoints[listener].Replace("tcp://", "http://", StringComparison.Ordinal));
        using var marker = new Socket(AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, ProtocolType.Tcp);
        marker.Connect(new IPEndPoint(IPAddress.Loopback, uri.Port));
        string address = $"tcp://{marker.LocalEndPoint}";
        _markers[address] = 0;
        marker.Send("marker"u8);
        _monitors[listener].WaitFor(address, MonitorEventKind.HandshakeFailed, TimeSpan.FromSeconds(10));
    }

    private void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e)
    {
        if (e.Exception.ToString().Contains("Engine.", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _unobserved);
        }
    }

    /// <summary>Reads whatever a fuzz input got through to the application (REP must answer to keep going).</summary>
    private void Drain(MessageSocket socket)
    {
        while (!_stopping)
        {
            try
            {
                if (socket is not IReceiveSocket receiver || !receiver.TryReceive(out Msg frame, TimeSpan.FromMilliseconds(50)))
                {
                    if (socket is not IReceiveSocket)
                    {
                        return;
                    }

                    continue;
                }

                bool more = frame.More;
                frame.Dispose();
                if (!more && socket is RepSocket rep)
                {
                    rep.TrySend(ReadOnlySpan<byte>.Empty, TimeSpan.Zero);
                }
            }
            catch (ObjectDisposedException)
            {
                return;
            }
        }
    }

    public void Dispose()
    {
        _stopping = true;
        foreach (Thread drain in _drains)
        {
            drain.Join(TimeSpan.FromSeconds(5));
        }

        foreach (MonitorLog monitor in _monitors)
        {
            monitor.Dispose();
        }

        foreach (MessageSocket socket in _sockets)
        {
            socket.Dispose();
        }

        _goodPush.Dispose();
        _goodPull.Dispose();
        TaskScheduler.UnobservedTaskException -= OnUnobserved;
    }
}
