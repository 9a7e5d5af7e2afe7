namespace Engine.Tests;

[TestFixture]
public class EndpointTests
{
    private static ArgumentException ParseFails(string uri)
    {
        var exception = Assert.Throws<ArgumentException>(() => Endpoint.Parse(uri));
        Assert.That(exception!.Message, Does.Contain($"'{uri}'"), "the message quotes the endpoint it refused");
        return exception;
    }

    [Test]
    public void ATcpEndpointHasAHostAndAPort()
    {
        Endpoint endpoint = Endpoint.Parse("tcp://127.0.0.1:5555");

        Assert.That(endpoint.Transport, Is.EqualTo(TransportKind.Tcp));
        Assert.That(endpoint.Host, Is.EqualTo("127.0.0.1"));
        Assert.That(endpoint.Port, Is.EqualTo(5555));
        Assert.That(endpoint.Address, Is.EqualTo("127.0.0.1:5555"));
        Assert.That(endpoint.ToString(), Is.EqualTo("tcp://127.0.0.1:5555"));
    }

    [Test]
    public void StarColonStarBindsEveryInterfaceOnPortZero()
    {
        Endpoint endpoint = Endpoint.Parse("tcp://*:*");

        Assert.That(endpoint.Host, Is.EqualTo("*"));
        Assert.That(endpoint.Port, Is.Zero);
    }

    [TestCase("tcp://localhost:0", "localhost", 0)]
    [TestCase("tcp://localhost:65535", "localhost", 65535)]
    [TestCase("tcp://[::1]:5555", "::1", 5555)]
    [TestCase("TCP://Example.com:80", "Example.com", 80)]
    public void TcpHostsAndPortsAreParsed(string uri, string host, int port)
    {
        Endpoint endpoint = Endpoint.Parse(uri);

        Assert.That(endpoint.Transport, Is.EqualTo(TransportKind.Tcp));
        Assert.That(endpoint.Host, Is.EqualTo(host));
        Assert.That(endpoint.Port, Is.EqualTo(port));
    }

    [Test]
    public void IpcAndInprocKeepTheirAddressAndHaveNoHostOrPort()
    {
        Endpoint ipc = Endpoint.Parse("ipc:///tmp/feed.sock");
        Endpoint inproc = Endpoint.Parse("inproc://workers");

        Assert.That(ipc.Transport, Is.EqualTo(TransportKind.Ipc));
        Assert.That(ipc.Address, Is.EqualTo("/tmp/feed.sock"));
        Assert.That(ipc.ToString(), Is.EqualTo("ipc:///tmp/feed.sock"));
        Assert.That(inproc.Transport, Is.EqualTo(TransportKind.Inproc));
        Assert.That(inproc.Address, Is.EqualTo("workers"));
        Assert.That(inproc.ToString(), Is.EqualTo("inproc://workers"));
        Assert.That(new[] { ipc.Host, inproc.Host }, Is.All.Null);
        Assert.That(new[] { ipc.Port, inproc.Port }, Is.All.Zero);
    }

    [TestCase("tcp://localhost")]
    [TestCase("tcp://10.0.0.1")]
    [TestCase("tcp://[::1]")]
    [TestCase("tcp://[fe80::1%eth0]")]
    public void ATcpEndpointWithoutAPortSaysThatAPortIsNeeded(string uri)
    {
        ArgumentException exception = ParseFails(uri);

        Assert.That(exception.Message, Does.Contain("a tcp endpoint needs a port: tcp://host:port"));
        Assert.That(exception.Message, Does.Contain("port 0 or * binds to a free port"));
    }

    [TestCase("udp://host:1", "udp")]
    [TestCase("http://host:80", "http")]
    [TestCase("pgm://eth0;239.192.1.1:5555", "pgm")]
    public void AnUnknownSchemeIsNamedAndTheKnownOnesListed(string uri, string scheme)
    {
        ArgumentException exception = ParseFails(uri);

        Assert.That(exception.Message, Does.Contain($"unknown scheme '{scheme}'"));
        Assert.That(exception.Message, Does.Contain("use tcp, ipc or inproc"));
    }

    [TestCase("tcp://")]
    [TestCase("ipc://")]
    [TestCase("inproc://")]
    public void AnEmptyAddressIsRefused(string uri)
    {
        Assert.That(ParseFails(uri).Message, Does.Contain("the address after :// is empty"));
    }

    [TestCase("")]
    [TestCase("localhost:5555")]
    [TestCase("://host:1")]
    [TestCase("tcp:/host:1")]
    public void AStringWithoutASchemeAsksForSchemeColonSlashSlash(string uri)
    {
        Assert.That(ParseFails(uri).Message, Does.Contain("expected scheme://address, with scheme tcp, ipc or inproc"));
    }

    [TestCase("tcp://host:", "")]
    [TestCase("tcp://host:http", "http")]
    [TestCase("tcp://host:65536", "65536")]
    [TestCase("tcp://host:99999999999", "99999999999")]
    [TestCase("tcp://host:-1", "-1")]
    [TestCase("tcp://host:+80", "+80")]
    [TestCase("tcp://host: 80", " 80")]
    public void ABadPortIsQuotedWithTheAllowedRange(string uri, string port)
    {
        Assert.That(ParseFails(uri).Message, Does.Contain($"'{port}' is not a port; use 0-65535 or *"));
    }

    [TestCase("tcp://:5555")]
    [TestCase("tcp://[]:5555")]
    public void AnEmptyTcpHostSuggestsStar(string uri)
    {
        Assert.That(ParseFails(uri).Message, Does.Contain("the host is empty; use * to bind every interface"));
    }

    [Test]
    public void ParseErrorsNameTheEndpointParameter()
    {
        Assert.That(ParseFails("tcp://host").ParamName, Is.EqualTo("endpoint"));
    }

    [Test]
    public void ANullEndpointIsAnArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => Endpoint.Parse(null!));
    }
}
