using System.Globalization;

namespace Engine;

/// <summary>The transports an endpoint can name.</summary>
public enum TransportKind
{
    /// <summary><c>tcp://host:port</c>: ZMTP over TCP.</summary>
    Tcp,

    /// <summary><c>ipc:///path</c>: ZMTP over a Unix domain socket, as libzmq's ipc.</summary>
    Ipc,

    /// <summary><c>inproc://name</c>: in-process, frames pass through pipes without encoding.</summary>
    Inproc,

    /// <summary><c>dir://name</c>: a name looked up (and followed) through <see cref="SocketOptions.Directory"/>; connect only.</summary>
    Directory,
}

/// <summary>
/// A parsed endpoint address such as <c>tcp://127.0.0.1:5555</c>, <c>tcp://*:0</c>,
/// <c>ipc:///tmp/feed.sock</c>, <c>inproc://workers</c> or <c>dir://intermediate-in</c>.
/// </summary>
public sealed class Endpoint
{
    private Endpoint(TransportKind transport, string address, string? host, int port)
    {
        Transport = transport;
        Address = address;
        Host = host;
        Port = port;
    }

    /// <summary>Which transport the endpoint names.</summary>
    public TransportKind Transport { get; }

    /// <summary>Everything after <c>scheme://</c>.</summary>
    public string Address { get; }

    /// <summary>The TCP host (<c>*</c> for every interface when binding), or null for ipc/inproc.</summary>
    public string? Host { get; }

    /// <summary>The TCP port (0 asks the OS for a free one when binding), or 0 for ipc/inproc.</summary>
    public int Port { get; }

    /// <summary>Parses <paramref name="uri"/>, throwing <see cref="ArgumentException"/> with what is wrong and what is allowed.</summary>
    public static Endpoint Parse(string uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        int separator = uri.IndexOf("://", StringComparison.Ordinal);
        if (separator <= 0)
        {
            throw Invalid(uri, "expected scheme://address, with scheme tcp, ipc or inproc");
        }

        string scheme = uri[..separator].ToLowerInvariant();
        string address = uri[(separator + 3)..];
        if (address.Length == 0)
        {
            throw Invalid(uri, "the address after :// is empty");
        }

        return scheme switch
        {
            "tcp" => ParseTcp(uri, address),
            "ipc" => new Endpoint(TransportKind.Ipc, address, null, 0),
            "inproc" => new Endpoint(TransportKind.Inproc, address, null, 0),
            "dir" => ParseDirectory(uri, address),
            _ => throw Invalid(uri, $"unknown scheme '{scheme}'; use tcp, ipc or inproc (or dir://name for a name in the directory)"),
        };
    }

    private static Endpoint ParseTcp(string uri, string address)
    {
        int colon = address.LastIndexOf(':');
        if (colon < 0 || colon < address.LastIndexOf(']'))
        {
            throw Invalid(uri, "a tcp endpoint needs a port: tcp://host:port (port 0 or * binds to a free port)");
        }

        string host = address[..colon];
        string portText = address[(colon + 1)..];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }

        if (host.Length == 0)
        {
            throw Invalid(uri, "the host is empty; use * to bind every interface");
        }

        int port;
        if (portText == "*")
        {
            port = 0;
        }
        else if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > 65535)
        {
            throw Invalid(uri, $"'{portText}' is not a port; use 0-65535 or *");
        }

        return new Endpoint(TransportKind.Tcp, address, host, port);
    }

    private static Endpoint ParseDirectory(string uri, string name)
    {
        string? problem = Engine.Directory.DirectoryProtocol.NameProblem(name);
        return problem is null ? new Endpoint(TransportKind.Directory, name, null, 0) : throw Invalid(uri, problem);
    }

    private static ArgumentException Invalid(string uri, string why) =>
        new($"Invalid endpoint '{uri}': {why}.", "endpoint");

    /// <inheritdoc />
    public override string ToString() => Transport switch
    {
        TransportKind.Tcp => $"tcp://{Address}",
        TransportKind.Ipc => $"ipc://{Address}",
        TransportKind.Directory => $"dir://{Address}",
        _ => $"inproc://{Address}",
    };
}
