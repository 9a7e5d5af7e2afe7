using System.Diagnostics.Metrics;
using Engine.Sockets;
using NetMQ;

namespace Engine.Tests.Interop;

/// <summary>
/// What the pattern interop fixtures share: the foreign library, who binds, the transport, and
/// ownership of every socket (disposed after each test, sockets before their libzmq context,
/// ipc socket files removed last).
/// </summary>
public abstract class PatternInteropFixture
{
    /// <summary>
    /// The matrix most pattern fixtures run over: libzmq over tcp and ipc, NetMQ over tcp (its ipc is
    /// not libzmq's), each with either side binding. Arguments: peer, transport, binding side.
    /// </summary>
    public static readonly object[] EveryPeerAndTransport =
    [
        new object[] { ForeignPeer.LibZmq, InteropTransport.Tcp, BindingSide.Ours },
        new object[] { ForeignPeer.LibZmq, InteropTransport.Tcp, BindingSide.Theirs },
        new object[] { ForeignPeer.LibZmq, InteropTransport.Ipc, BindingSide.Ours },
        new object[] { ForeignPeer.LibZmq, InteropTransport.Ipc, BindingSide.Theirs },
        new object[] { ForeignPeer.NetMQ, InteropTransport.Tcp, BindingSide.Ours },
        new object[] { ForeignPeer.NetMQ, InteropTransport.Tcp, BindingSide.Theirs },
    ];

    private readonly Stack<IDisposable> _owned = new();
    private readonly Dictionary<IPatternSocket, string> _bound = new();
    private ZmqContext? _context;

    private protected PatternInteropFixture(ForeignPeer peer, BindingSide binder, InteropTransport transport = InteropTransport.Tcp)
    {
        Peer = peer;
        Binder = binder;
        Transport = transport;
    }

    private protected ForeignPeer Peer { get; }

    private protected BindingSide Binder { get; }

    private protected InteropTransport Transport { get; }

    /// <summary>Registers something to dispose after the test, in reverse order of registration.</summary>
    private protected T Own<T>(T disposable)
        where T : IDisposable
    {
        _owned.Push(disposable);
        return disposable;
    }

    /// <summary>One of our sockets, owned by the test.</summary>
    private protected EnginePatternSocket Ours(MessageSocket socket) => Own(PatternPeers.Engine(socket));

    /// <summary>A socket of the fixture's foreign library, owned by the test.</summary>
    private protected IPatternSocket Theirs(SocketType type, Action<ZmqSocket>? configureLibZmq = null, Action<NetMQSocket>? configureNetMQ = null)
    {
        if (Peer == ForeignPeer.LibZmq && _context is null)
        {
            // Owned before its first socket, so that it is terminated after all of them.
            _context = Own(new ZmqContext());
        }

        return Own(PatternPeers.Foreign(Peer, type, _context, configureLibZmq, configureNetMQ));
    }

    /// <summary>Connects two sockets over the fixture's transport; the side named by <see cref="Binder"/> binds (once per socket).</summary>
    private protected void Link(IPatternSocket ours, IPatternSocket theirs)
    {
        (IPatternSocket binding, IPatternSocket connecting) = Binder == BindingSide.Ours ? (ours, theirs) : (theirs, ours);
        if (!_bound.TryGetValue(binding, out string? endpoint))
        {
            endpoint = binding.Bind(Transport);
            _bound[binding] = endpoint;
            if (endpoint.StartsWith("ipc://", StringComparison.Ordinal))
            {
                // Removed right after the socket that listens on it is disposed.
                OwnBeneath(binding, new IpcSocketFile(endpoint));
            }
        }

        connecting.Connect(endpoint);
    }

    /// <summary>Places <paramref name="extra"/> just below <paramref name="owner"/> on the stack, so it is disposed right after it.</summary>
    private void OwnBeneath(IDisposable owner, IDisposable extra)
    {
        var above = new Stack<IDisposable>();
        while (_owned.TryPop(out IDisposable? item))
        {
            if (ReferenceEquals(item, owner))
            {
                _owned.Push(extra);
                _owned.Push(item);
                break;
            }

            above.Push(item);
        }

        while (above.TryPop(out IDisposable? item))
        {
            _owned.Push(item);
        }
    }

    [TearDown]
    public void DisposeOwned()
    {
        _bound.Clear();
        _context = null;
        var failures = new List<Exception>();
        while (_owned.TryPop(out IDisposable? disposable))
        {
            try
            {
                disposable.Dispose();
            }
            catch (Exception e)
            {
                failures.Add(e);
            }
        }

        if (failures.Count > 0)
        {
            throw new AggregateException("Disposing the interop sockets failed.", failures);
        }
    }

    [OneTimeTearDown]
    public void CleanupNetMQ() => NetMQConfig.Cleanup(block: false);
}

/// <summary>
/// Counts the messages our sockets read off their connections (the <c>engine.messages.received</c>
/// counter, before any subscriber-side filtering), so a test can tell whether a publisher still
/// put a topic on the wire. Interop fixtures run one test at a time, so within a test only its
/// own sockets add to it.
/// </summary>
internal sealed class WireCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _received;

    internal WireCounter()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Engine" && instrument.Name == "engine.messages.received")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _received, value));
        _listener.Start();
    }

    /// <summary>Messages received from the wire by any of our sockets since this counter started.</summary>
    internal long Received => Interlocked.Read(ref _received);

    public void Dispose() => _listener.Dispose();
}
