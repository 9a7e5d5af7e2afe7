namespace Engine.Benchmarks.Implementations;

/// <summary>
/// One messaging library under test, reduced to what the measurements need. The hot loops call
/// these interfaces once per message; each process uses a single implementation, so the JIT's
/// guarded devirtualisation makes the call as cheap for every library.
/// </summary>
/// <remarks>
/// Size 0 is the end-of-run marker of the duration mode (a run of N-byte messages ends with one
/// empty message), so every implementation must be able to send and receive empty frames.
/// Disposing the implementation waits for what its sockets still have to send (linger), so a
/// sender process may exit as soon as it is disposed.
/// </remarks>
internal interface IMessaging : IDisposable
{
    /// <summary>A PUSH (or raw stream) connected to <paramref name="endpoint"/>.</summary>
    IMessageSink ConnectPush(string endpoint, int maxSize);

    /// <summary>A PULL (or raw listener) bound to <paramref name="endpoint"/>; <paramref name="bound"/> has the real port.</summary>
    IMessageSource BindPull(string endpoint, int maxSize, out string bound);

    /// <summary>A REQ connected to <paramref name="endpoint"/>.</summary>
    IRequester ConnectReq(string endpoint, int maxSize);

    /// <summary>A REP bound to <paramref name="endpoint"/>, replying with each request's own bytes.</summary>
    IReplier BindRep(string endpoint, int maxSize, out string bound);
}

/// <summary>The sending end of a throughput run.</summary>
internal interface IMessageSink : IDisposable
{
    /// <summary>Sends one message of <paramref name="size"/> bytes, blocking while the library has no room.</summary>
    void Send(int size);
}

/// <summary>The receiving end of a throughput run.</summary>
internal interface IMessageSource : IDisposable
{
    /// <summary>How long <see cref="Receive"/> waits; <see cref="Messaging.Timeout"/> until changed.</summary>
    TimeSpan Timeout { set; }

    /// <summary>Receives the next message and returns its size.</summary>
    /// <exception cref="TimeoutException">Nothing arrived within <see cref="Timeout"/>.</exception>
    int Receive();
}

/// <summary>The pinging end of a round-trip run.</summary>
internal interface IRequester : IDisposable
{
    /// <summary>Sends a request of <paramref name="size"/> bytes and waits for its reply; returns the reply's size.</summary>
    int Request(int size);
}

/// <summary>The echoing end of a round-trip run.</summary>
internal interface IReplier : IDisposable
{
    /// <summary>Receives one request, sends it back and returns its size.</summary>
    int ReplyOne();
}

/// <summary>Creates an implementation by its command-line name.</summary>
internal static class Messaging
{
    /// <summary>The names <c>--impl</c> accepts, in the order the suite reports them.</summary>
    internal static readonly string[] Names = ["engine", "libzmq", "netmq", "raw"];

    /// <summary>Every blocking wait of a run is bounded by this, so a lost peer fails the run instead of hanging it.</summary>
    internal static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>How long a closing sender may take to get its queued messages onto the wire.</summary>
    internal static readonly TimeSpan Linger = TimeSpan.FromSeconds(60);

    internal static IMessaging Create(string name) => name switch
    {
        "engine" => new EngineMessaging(),
        "engine-dotnet" => WithoutReactor(new EngineMessaging()),
        "libzmq" => new LibZmqMessaging(),
        "netmq" => CreateNetMQ(),
        "raw" => new RawMessaging(),
        _ => throw new ArgumentException($"unknown implementation '{name}' (expected {string.Join(", ", Names)})"),
    };

    /// <summary>
    /// Our engine in a process where its connections wait through .NET's socket engine instead of
    /// the engine's own reactor (ENGINE_SOCKET_REACTOR=off: what every system but Linux gets). The
    /// suite shows it as its own rows, so what the reactor buys is measured in the same run. Read
    /// when the first connection is made, so it is set before any socket exists.
    /// </summary>
    private static IMessaging WithoutReactor(IMessaging messaging)
    {
        Environment.SetEnvironmentVariable("ENGINE_SOCKET_REACTOR", "off");
        return messaging;
    }

    // A separate method so that NetMQ.dll is loaded only by the processes that measure NetMQ.
    private static IMessaging CreateNetMQ() => new NetMQMessaging();
}
