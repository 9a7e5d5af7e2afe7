using Engine.Sockets;

namespace Engine.Tests.Transport;

[TestFixture]
[CancelAfter(120_000)]
public class InprocTests
{
    private static string UniqueName() => "inproc://test-" + Guid.NewGuid().ToString("N");

    private static SocketOptions Patient() => new() { ReceiveTimeout = TimeSpan.FromSeconds(10), SendTimeout = TimeSpan.FromSeconds(10) };

    [Test]
    public void TenMillionMessagesBetweenTwoThreadsAreAllAccountedFor()
    {
        const int count = 10_000_000;
        string name = UniqueName();
        using var pull = new PullSocket(Patient());
        pull.Bind(name);
        using var push = new PushSocket(Patient());
        push.Connect(name);

        var sender = Task.Run(() =>
        {
            Span<byte> body = stackalloc byte[8];
            for (long i = 0; i < count; i++)
            {
                BitConverter.TryWriteBytes(body, i);
                push.Send(body);
            }
        });

        long expected = 0;
        long mismatches = 0;
        for (int i = 0; i < count; i++)
        {
            Msg frame = pull.Receive();
            if (BitConverter.ToInt64(frame.Span) != expected)
            {
                mismatches++;
            }

            expected++;
            frame.Dispose();
        }

        Assert.That(sender.Wait(TimeSpan.FromSeconds(30)), Is.True);
        Assert.That(mismatches, Is.Zero, "every message in order");
        Assert.That(pull.TryReceive(out _, TimeSpan.FromMilliseconds(20)), Is.False, "no extra message");
    }

    /// <summary>
    /// A pipe has one reader. After a disconnect the socket still bound keeps reading what was
    /// queued for it (as libzmq's reader reads up to the pipe's end), so the disconnecting sender
    /// must not also read it to reroute: that took every queued message away from the reader
    /// (and, with both reading at once, could deliver one twice or release its buffer twice).
    /// </summary>
    [Test]
    public void AfterADisconnectWhatWasQueuedIsStillDeliveredToTheBoundReaderOnce()
    {
        string name = UniqueName();
        using var pull = new PullSocket(Patient());
        pull.Bind(name);
        using var push = new PushSocket(Patient());
        push.Connect(name);
        for (int i = 0; i < 100; i++)
        {
            push.Send(BitConverter.GetBytes(i));
        }

        push.Disconnect(name);
        // The sender applies the departure on its next send (no peer now: nothing goes anywhere).
        Assert.That(push.TrySend("after"u8.ToArray(), TimeSpan.Zero), Is.False);

        for (int i = 0; i < 100; i++)
        {
            Assert.That(pull.TryReceive(out Msg frame, TimeSpan.FromSeconds(5)), Is.True, $"message {i} of 100 reaches the reader");
            Assert.That(BitConverter.ToInt32(frame.Span), Is.EqualTo(i));
            frame.Dispose();
        }

        Assert.That(pull.TryReceive(out _, TimeSpan.FromMilliseconds(50)), Is.False, "nothing else");
    }

    [Test]
    public void ConnectBeforeBindQueuesAndDelivers()
    {
        string name = UniqueName();
        using var push = new PushSocket(Patient());
        push.Connect(name);
        push.Send("early"u8);
        using var pull = new PullSocket(Patient());
        pull.Bind(name);
        Assert.That(pull.ReceiveString(), Is.EqualTo("early"));
    }

    [Test]
    public void InprocFramesAreNotCopied()
    {
        string name = UniqueName();
        using var pull = new PullSocket(Patient());
        pull.Bind(name);
        using var push = new PushSocket(Patient());
        push.Connect(name);
        Msg frame = Msg.Allocate(100_000);
        frame.WritableSpan.Fill(7);
        byte[] backing = frame._buffer!.Array;
        push.Send(ref frame);
        Msg received = pull.Receive();
        Assert.That(received._buffer!.Array, Is.SameAs(backing), "the same pooled buffer crossed the pipe");
        received.Dispose();
    }

    [Test]
    public void RequestReplyAndPubSubWorkOverInproc()
    {
        string reqName = UniqueName();
        using var rep = new RepSocket(Patient());
        rep.Bind(reqName);
        using var req = new ReqSocket(Patient());
        req.Connect(reqName);
        req.Send("q");
        Assert.That(rep.ReceiveString(), Is.EqualTo("q"));
        rep.Send("a");
        Assert.That(req.ReceiveString(), Is.EqualTo("a"));

        string pubName = UniqueName();
        using var pub = new PubSocket();
        pub.Bind(pubName);
        using var sub = new SubSocket(Patient());
        sub.Subscribe("x");
        sub.Connect(pubName);
        // Over inproc the subscription is in the publisher's pipe before the first send.
        pub.Send("y ignored");
        pub.Send("x seen");
        Assert.That(sub.ReceiveString(), Is.EqualTo("x seen"));
    }

    [Test]
    public void BindingANameTwiceIsRefused()
    {
        string name = UniqueName();
        using var a = new PullSocket();
        a.Bind(name);
        using var b = new PullSocket();
        var error = Assert.Throws<InvalidOperationException>(() => b.Bind(name));
        Assert.That(error!.Message, Does.Contain("already bound"));
    }
}
