using Engine.Sockets;
using NetMQ;
using NetMQDealer = NetMQ.Sockets.DealerSocket;

namespace Engine.Tests.Interop;

/// <summary>
/// Our READY carries a property of our own, <c>X-Drain</c>, besides Socket-Type and Identity.
/// ZMTP says peers ignore properties they do not know; these tests show libzmq reads it as plain
/// connection metadata and NetMQ simply completes the handshake.
/// </summary>
[TestFixture]
[Category("interop")]
[CancelAfter(30_000)]
public sealed class ReadyMetadataInteropTests
{
    [OneTimeTearDown]
    public void CleanupNetMQ() => NetMQConfig.Cleanup(block: false);

    [Test]
    public void LibZmqSeesOurReadyPropertiesAsConnectionMetadata()
    {
        var options = InteropSettings.EngineOptions();
        options.Identity = "meta-dealer"u8.ToArray();
        using var dealer = new DealerSocket(options);
        using var context = new ZmqContext();
        using ZmqSocket router = context.CreateSocket(LibZmq.ZMQ_ROUTER);
        dealer.Connect(router.Bind(InteropSettings.LibZmqBindAddress));
        dealer.Send("hello");

        // zmq_msg_gets reads the properties of the connection a message came in on.
        byte[] id = router.Receive("X-Drain", out string? drain, out bool more);
        Assert.That(id, Is.EqualTo("meta-dealer"u8.ToArray()), "the routing id libzmq took from our Identity property");
        Assert.That(more, Is.True);
        Assert.That(drain, Is.EqualTo("1"), "libzmq keeps our X-Drain property as metadata (and otherwise ignores it)");
        router.Receive("Socket-Type", out string? type, out more);
        Assert.That(type, Is.EqualTo("DEALER"));
        Assert.That(more, Is.False);

        // The connection works both ways after a READY with an unknown property.
        router.Send("meta-dealer"u8, more: true);
        router.Send("welcome"u8);
        Assert.That(dealer.ReceiveString(), Is.EqualTo("welcome"));
    }

    [Test]
    public void NetMQCompletesTheHandshakeDespiteTheUnknownProperty()
    {
        using var dealer = new DealerSocket(InteropSettings.EngineOptions());
        using var netmq = InteropSettings.Configure(new NetMQDealer(), highWaterMark: null);
        dealer.Connect(InteropSettings.BindNetMQ(netmq));
        dealer.Send("hello");
        Assert.That(netmq.TryReceiveFrameString(InteropSettings.OperationTimeout, out string? hello), Is.True, "NetMQ received nothing: it did not accept our READY");
        Assert.That(hello, Is.EqualTo("hello"));
        Assert.That(netmq.TrySendFrame(InteropSettings.OperationTimeout, "welcome"), Is.True);
        Assert.That(dealer.ReceiveString(), Is.EqualTo("welcome"));
    }
}
