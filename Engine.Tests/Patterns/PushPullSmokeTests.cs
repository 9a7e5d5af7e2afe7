using Engine.Sockets;

namespace Engine.Tests.Patterns;

[TestFixture]
[CancelAfter(30_000)]
public class PushPullSmokeTests
{
    [Test]
    public void PushDeliversToPullOverTcp()
    {
        using var pull = new PullSocket();
        string endpoint = pull.Bind("tcp://127.0.0.1:0");
        using var push = new PushSocket();
        push.Connect(endpoint);

        push.Send("hello"u8);
        push.SendMultipart("a"u8.ToArray(), "bb"u8.ToArray());

        pull.Options.ReceiveTimeout = TimeSpan.FromSeconds(10);
        Assert.That(pull.ReceiveString(), Is.EqualTo("hello"));
        List<byte[]> parts = pull.ReceiveMultipart();
        Assert.That(parts.Select(p => p.Length), Is.EqualTo(new[] { 1, 2 }));
    }

    [Test]
    public void AReceivedFrameThatFitsInTheReceiveBufferIsNotCopied()
    {
        using var pull = new PullSocket(new SocketOptions { ReceiveTimeout = TimeSpan.FromSeconds(10) });
        string endpoint = pull.Bind("tcp://127.0.0.1:0");
        using var push = new PushSocket();
        push.Connect(endpoint);
        var body = new byte[1000];
        Random.Shared.NextBytes(body);
        push.Send(body);

        Msg frame = pull.Receive();
        Assert.That(frame.Span.SequenceEqual(body), Is.True);
        Assert.That(frame._buffer!.HasServedAsSegment, Is.True, "the frame is a view of the connection's receive segment");
        frame.Dispose();
    }
}
