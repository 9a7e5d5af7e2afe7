using Engine.Directory;
using Engine.Sockets;
using static Engine.Tests.Directory.DirectoryTestKit;

namespace Engine.Tests.Directory;

/// <summary>The wire protocol as a raw client sees it, and what the server does with malformed requests.</summary>
[TestFixture]
[CancelAfter(60_000)]
public class DirectoryProtocolTests
{
    private static readonly byte[] V1 = Text("DIR1");

    private static DealerSocket RawClient(DirectoryServer server)
    {
        var dealer = new DealerSocket(new SocketOptions { ReceiveTimeout = Patience, Linger = TimeSpan.Zero });
        dealer.Connect(server.Endpoint);
        return dealer;
    }

    /// <summary>For the synchronous tests (they run on NUnit's own thread, so blocking is fine).</summary>
    private static List<byte[]> Ask(DealerSocket dealer, params byte[][] frames)
    {
        dealer.SendMultipart(frames);
        return dealer.ReceiveMultipart();
    }

    private static async Task<List<byte[]>> AskAsync(DealerSocket dealer, params byte[][] frames)
    {
        dealer.SendMultipart(frames);
        return await ReceiveMessageAsync(dealer);
    }

    private static IEnumerable<TestCaseData> Malformed()
    {
        byte[] id = Id(7);
        yield return new TestCaseData(new[] { Text("DIR1"), Text("FROB"), id }, "unknown command 'FROB'").SetName("UnknownCommand");
        yield return new TestCaseData(new[] { Text("DIR1"), Text("REGISTER"), id, Text("svc") }, "REGISTER takes 3 argument frame(s) (name, endpoint, lease-ms); got 1").SetName("TooFewArguments");
        yield return new TestCaseData(new[] { Text("DIR1"), Text("PING"), id, Text("extra") }, "PING takes 0 argument frame(s)").SetName("TooManyArguments");
        yield return new TestCaseData(new[] { Text("DIR1") }, "a request has at least 3 frames").SetName("TooFewFrames");
        yield return new TestCaseData(new[] { Text("DIR1"), Text("PING"), id }.Concat(Enumerable.Repeat(Text("x"), 17)).ToArray(), "PING takes 0 argument frame(s) (none); got 17").SetName("TwentyFrames");
        yield return new TestCaseData(new[] { Text("DIR1"), Text("RESOLVE"), id, new byte[300].Select(_ => (byte)'a').ToArray() }, "the name is 300 bytes; at most 255 are allowed").SetName("OversizedName");
        yield return new TestCaseData(new[] { Text("DIR1"), Text("RESOLVE"), id, new byte[] { 0x73, 0xC3, 0x28 } }, "the name is not valid UTF-8").SetName("NonUtf8Name");
        yield return new TestCaseData(new[] { Text("DIR1"), Text("RESOLVE"), id, Text("a/b") }, "the name contains '/'").SetName("NameWithASlash");
        yield return new TestCaseData(new[] { Text("DIR1"), Text("RESOLVE"), id, Array.Empty<byte>() }, "the name is empty").SetName("EmptyName");
        yield return new TestCaseData(new[] { Text("DIR2"), Text("PING"), id }, "unsupported protocol 'DIR2'; this server speaks DIR1").SetName("OtherVersion");
        yield return new TestCaseData(new[] { Text("DIR1"), Text("PING"), new byte[] { 1, 2, 3 } }, "the request id must be 4 bytes").SetName("ShortRequestId");
        yield return new TestCaseData(new[] { Text("DIR1"), Text("REGISTER"), id, Text("svc"), Text("tcp://127.0.0.1:5"), Id(10) }, "lease-ms is 10; use 100 to 86400000").SetName("LeaseTooShort");
        yield return new TestCaseData(new[] { Text("DIR1"), Text("REGISTER"), id, Text("svc"), Text("tcp://127.0.0.1:5"), new byte[] { 1 } }, "lease-ms must be 4 bytes").SetName("LeaseOfOneByte");
        yield return new TestCaseData(new[] { Text("DIR1"), Text("REGISTER"), id, Text("svc"), Text("tcp://*:5"), Id(1000) }, "is a wildcard").SetName("WildcardEndpoint");
        yield return new TestCaseData(new[] { Text("DIR1"), Text("REGISTER"), id, Text("svc"), Text("dir://other"), Id(1000) }, "a dir:// name cannot be registered").SetName("NameAsEndpoint");
        yield return new TestCaseData(new[] { Text("DIR1"), Text("REGISTER"), id, Text("svc"), Text("udp://x:1"), Id(1000) }, "unknown scheme 'udp'").SetName("UnknownScheme");
        yield return new TestCaseData(new[] { Text("DIR1"), Text("UNREGISTER"), id, Text("svc"), new byte[] { 0xFF, 0xFE } }, "the endpoint is not valid UTF-8").SetName("NonUtf8Endpoint");
    }

    [TestCaseSource(nameof(Malformed))]
    public void AMalformedRequestGetsAnErrorThatSaysWhatIsWrong(byte[][] request, string expected)
    {
        using DirectoryServer server = DirectoryServer.Start("tcp://127.0.0.1:0");
        using DealerSocket raw = RawClient(server);

        List<byte[]> reply = Ask(raw, request);

        TestContext.Out.WriteLine(Show(reply));
        Assert.That(reply, Has.Count.EqualTo(4), Show(reply));
        Assert.That(Text("DIR1"), Is.EqualTo(reply[0]));
        Assert.That(reply[1], Is.EqualTo(Text("ERROR")));
        bool idReadable = request.Length >= 3 && request[0].SequenceEqual(V1) && request[2].Length == 4;
        Assert.That(reply[2], Is.EqualTo(idReadable ? request[2] : Id(0)), "the request id is echoed when it could be read");
        Assert.That(System.Text.Encoding.UTF8.GetString(reply[3]), Does.Contain(expected));
        Assert.That(server.RejectedRequests, Is.EqualTo(1));
    }

    [Test]
    public async Task MalformedRequestsDoNotDisturbOtherClients()
    {
        await using DirectoryServer server = DirectoryServer.Start("tcp://127.0.0.1:0");
        await using DirectoryClient good = Client(server.Endpoint);
        using var stop = new CancellationTokenSource();
        Recorder<DirectoryChange> watch = Record(good, "svc", stop.Token);
        await using DirectoryRegistration first = await good.RegisterAsync("svc", "tcp://127.0.0.1:1001", Lease);
        await watch.WaitForAsync(c => c.Kind == DirectoryChangeKind.Added && c.Endpoint == "tcp://127.0.0.1:1001", "the first endpoint");

        await using DealerSocket raw = RawClient(server);
        int sent = 0;
        foreach (TestCaseData bad in Malformed())
        {
            List<byte[]> reply = await AskAsync(raw, (byte[][])bad.Arguments[0]!);
            Assert.That(reply[1], Is.EqualTo(Text("ERROR")), Show(reply));
            sent++;
        }

        // The raw client's connection is still served too: a well-formed PING after all that garbage.
        List<byte[]> pong = await AskAsync(raw, V1, Text("PING"), Id(42));
        Assert.That(pong, Is.EqualTo(new[] { V1, Text("OK"), Id(42) }));

        await using DirectoryRegistration second = await good.RegisterAsync("svc", "tcp://127.0.0.1:1002", Lease);
        await watch.WaitForAsync(c => c.Kind == DirectoryChangeKind.Added && c.Endpoint == "tcp://127.0.0.1:1002", "the second endpoint, pushed after the garbage");
        IReadOnlyList<string> resolved = await good.ResolveAsync("svc");
        Assert.That(resolved, Is.EqualTo(new[] { "tcp://127.0.0.1:1001", "tcp://127.0.0.1:1002" }));
        Assert.That(server.RejectedRequests, Is.EqualTo(sent));
        stop.Cancel();
    }

    [Test]
    public void ARawDealerSeesTheDocumentedFrames()
    {
        using DirectoryServer server = DirectoryServer.Start("tcp://127.0.0.1:0");
        using DealerSocket watcher = RawClient(server);
        using DealerSocket owner = RawClient(server);

        Assert.That(Ask(watcher, V1, Text("WATCH"), Id(1), Text("svc"), Id(60_000)), Is.EqualTo(new[] { V1, Text("ENDPOINTS"), Id(1), Text("svc") }), "an empty snapshot");
        Assert.That(Ask(owner, V1, Text("REGISTER"), Id(2), Text("svc"), Text("tcp://127.0.0.1:2001"), Id(60_000)), Is.EqualTo(new[] { V1, Text("OK"), Id(2) }));
        Assert.That(watcher.ReceiveMultipart(), Is.EqualTo(new[] { V1, Text("CHANGE"), Id(0), Text("svc"), Text("+"), Text("tcp://127.0.0.1:2001") }), "the push");
        Assert.That(Ask(owner, V1, Text("RESOLVE"), Id(3), Text("svc")), Is.EqualTo(new[] { V1, Text("ENDPOINTS"), Id(3), Text("svc"), Text("tcp://127.0.0.1:2001") }));
        Assert.That(Ask(owner, V1, Text("REGISTER"), Id(4), Text("svc"), Text("tcp://127.0.0.1:2001"), Id(60_000)), Is.EqualTo(new[] { V1, Text("OK"), Id(4) }), "a renewal");
        Assert.That(Ask(owner, V1, Text("UNREGISTER"), Id(5), Text("svc"), Text("tcp://127.0.0.1:2001")), Is.EqualTo(new[] { V1, Text("OK"), Id(5) }));
        Assert.That(watcher.ReceiveMultipart(), Is.EqualTo(new[] { V1, Text("CHANGE"), Id(0), Text("svc"), Text("-"), Text("tcp://127.0.0.1:2001") }), "only the removal follows: a renewal pushes nothing");
        Assert.That(Ask(watcher, V1, Text("UNWATCH"), Id(6), Text("svc")), Is.EqualTo(new[] { V1, Text("OK"), Id(6) }));
    }

    [Test]
    public void AReqClientGetsItsReplyBackThroughTheDelimiter()
    {
        using DirectoryServer server = DirectoryServer.Start("tcp://127.0.0.1:0");
        using var req = new ReqSocket(new SocketOptions { ReceiveTimeout = Patience, Linger = TimeSpan.Zero });
        req.Connect(server.Endpoint);

        req.SendMultipart(V1, Text("PING"), Id(9));

        Assert.That(req.ReceiveMultipart(), Is.EqualTo(new[] { V1, Text("OK"), Id(9) }));
    }
}
