using Engine.Sockets;

namespace Engine.Tests.Interop;

/// <summary>Our PUSH feeding a libzmq 4.3 PULL (they announce ZMTP 3.1, as we do).</summary>
[TestFixture(BindingSide.Ours)]
[TestFixture(BindingSide.Theirs)]
[Category("interop")]
[CancelAfter(60_000)]
public sealed class EnginePushToLibZmqPullTests(BindingSide binder) : PushPullInteropScenarios(binder)
{
    private protected override (IMessageSender Sender, IMessageReceiver Receiver) Open()
    {
        PushSocket push = Own(new PushSocket(InteropSettings.EngineOptions(HighWaterMark)));
        ZmqContext context = Own(new ZmqContext());
        ZmqSocket pull = Own(InteropSettings.CreateLibZmqSocket(context, LibZmq.ZMQ_PULL, HighWaterMark));
        if (Binder == BindingSide.Ours)
        {
            pull.Connect(push.Bind(InteropSettings.OurBindAddress));
        }
        else
        {
            push.Connect(pull.Bind(InteropSettings.LibZmqBindAddress));
        }

        return (new EngineSender(push), new LibZmqReceiver(pull));
    }
}

/// <summary>A libzmq 4.3 PUSH feeding our PULL.</summary>
[TestFixture(BindingSide.Ours)]
[TestFixture(BindingSide.Theirs)]
[Category("interop")]
[CancelAfter(60_000)]
public sealed class LibZmqPushToEnginePullTests(BindingSide binder) : PushPullInteropScenarios(binder)
{
    private protected override (IMessageSender Sender, IMessageReceiver Receiver) Open()
    {
        PullSocket pull = Own(new PullSocket(InteropSettings.EngineOptions(HighWaterMark)));
        ZmqContext context = Own(new ZmqContext());
        ZmqSocket push = Own(InteropSettings.CreateLibZmqSocket(context, LibZmq.ZMQ_PUSH, HighWaterMark));
        if (Binder == BindingSide.Ours)
        {
            push.Connect(pull.Bind(InteropSettings.OurBindAddress));
        }
        else
        {
            pull.Connect(push.Bind(InteropSettings.LibZmqBindAddress));
        }

        return (new LibZmqSender(push), new EngineReceiver(pull));
    }
}

/// <summary>Our PUSH feeding a libzmq PULL over ipc (Unix domain sockets; NetMQ's ipc is not libzmq's, so libzmq only).</summary>
[TestFixture(BindingSide.Ours)]
[TestFixture(BindingSide.Theirs)]
[Category("interop")]
[CancelAfter(60_000)]
public sealed class EnginePushToLibZmqPullOverIpcTests(BindingSide binder) : PushPullInteropScenarios(binder)
{
    private protected override (IMessageSender Sender, IMessageReceiver Receiver) Open()
    {
        string endpoint = PatternPeers.NewIpcEndpoint();
        Own(new IpcSocketFile(endpoint));
        PushSocket push = Own(new PushSocket(InteropSettings.EngineOptions(HighWaterMark)));
        ZmqContext context = Own(new ZmqContext());
        ZmqSocket pull = Own(InteropSettings.CreateLibZmqSocket(context, LibZmq.ZMQ_PULL, HighWaterMark));
        if (Binder == BindingSide.Ours)
        {
            pull.Connect(push.Bind(endpoint));
        }
        else
        {
            push.Connect(pull.Bind(endpoint));
        }

        return (new EngineSender(push), new LibZmqReceiver(pull));
    }
}

/// <summary>A libzmq PUSH feeding our PULL over ipc.</summary>
[TestFixture(BindingSide.Ours)]
[TestFixture(BindingSide.Theirs)]
[Category("interop")]
[CancelAfter(60_000)]
public sealed class LibZmqPushToEnginePullOverIpcTests(BindingSide binder) : PushPullInteropScenarios(binder)
{
    private protected override (IMessageSender Sender, IMessageReceiver Receiver) Open()
    {
        string endpoint = PatternPeers.NewIpcEndpoint();
        Own(new IpcSocketFile(endpoint));
        PullSocket pull = Own(new PullSocket(InteropSettings.EngineOptions(HighWaterMark)));
        ZmqContext context = Own(new ZmqContext());
        ZmqSocket push = Own(InteropSettings.CreateLibZmqSocket(context, LibZmq.ZMQ_PUSH, HighWaterMark));
        if (Binder == BindingSide.Ours)
        {
            push.Connect(pull.Bind(endpoint));
        }
        else
        {
            pull.Connect(push.Bind(endpoint));
        }

        return (new LibZmqSender(push), new EngineReceiver(pull));
    }
}

/// <summary>Removes an ipc socket file when a test ends (owned first, so disposed after the sockets).</summary>
internal sealed class IpcSocketFile(string endpoint) : IDisposable
{
    public void Dispose() => File.Delete(endpoint["ipc://".Length..]);
}
