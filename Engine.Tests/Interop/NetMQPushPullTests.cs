using Engine.Sockets;
using NetMQ;
using NetMQPull = NetMQ.Sockets.PullSocket;
using NetMQPush = NetMQ.Sockets.PushSocket;

namespace Engine.Tests.Interop;

/// <summary>Our PUSH feeding a NetMQ 4.0 PULL (NetMQ announces ZMTP 3.0, we announce 3.1).</summary>
[TestFixture(BindingSide.Ours)]
[TestFixture(BindingSide.Theirs)]
[Category("interop")]
[CancelAfter(60_000)]
public sealed class EnginePushToNetMQPullTests(BindingSide binder) : PushPullInteropScenarios(binder)
{
    private protected override (IMessageSender Sender, IMessageReceiver Receiver) Open()
    {
        PushSocket push = Own(new PushSocket(InteropSettings.EngineOptions(HighWaterMark)));
        NetMQPull pull = Own(InteropSettings.Configure(new NetMQPull(), HighWaterMark));
        if (Binder == BindingSide.Ours)
        {
            pull.Connect(push.Bind(InteropSettings.OurBindAddress));
        }
        else
        {
            push.Connect(InteropSettings.BindNetMQ(pull));
        }

        return (new EngineSender(push), new NetMQReceiver(pull));
    }

    [OneTimeTearDown]
    public void CleanupNetMQ() => NetMQConfig.Cleanup(block: false);
}

/// <summary>A NetMQ 4.0 PUSH feeding our PULL.</summary>
[TestFixture(BindingSide.Ours)]
[TestFixture(BindingSide.Theirs)]
[Category("interop")]
[CancelAfter(60_000)]
public sealed class NetMQPushToEnginePullTests(BindingSide binder) : PushPullInteropScenarios(binder)
{
    private protected override (IMessageSender Sender, IMessageReceiver Receiver) Open()
    {
        PullSocket pull = Own(new PullSocket(InteropSettings.EngineOptions(HighWaterMark)));
        NetMQPush push = Own(InteropSettings.Configure(new NetMQPush(), HighWaterMark));
        if (Binder == BindingSide.Ours)
        {
            push.Connect(pull.Bind(InteropSettings.OurBindAddress));
        }
        else
        {
            pull.Connect(InteropSettings.BindNetMQ(push));
        }

        return (new NetMQSender(push), new EngineReceiver(pull));
    }

    [OneTimeTearDown]
    public void CleanupNetMQ() => NetMQConfig.Cleanup(block: false);
}
