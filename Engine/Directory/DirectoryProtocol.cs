using System.Buffers.Binary;
using System.Text;

namespace Engine.Directory;

/// <summary>
/// The directory protocol, version 1. Small on purpose: six requests, four replies, one push.
/// </summary>
/// <remarks>
/// <code>
/// Every message is multipart. A DEALER client sends exactly these frames; the server's ROUTER sees
/// the client's routing id in front (and a REQ client's empty delimiter, which is echoed back).
///
/// request   frame 0  "DIR1"        4 bytes ASCII: protocol name and version
///           frame 1  command       ASCII: REGISTER | UNREGISTER | RESOLVE | WATCH | UNWATCH | PING
///           frame 2  request id    4 bytes, unsigned big-endian, chosen by the client, echoed back
///           frame 3+ arguments, by command:
///             REGISTER    name, endpoint, lease-ms   add or renew; expires lease-ms after the last renewal
///             UNREGISTER  name, endpoint             remove at once (no error when absent)
///             RESOLVE     name                       answered with ENDPOINTS
///             WATCH       name, lease-ms             add or renew a watch; answered with ENDPOINTS (the
///                                                    full current set: each renewal repairs lost pushes)
///             UNWATCH     name
///             PING        (none)                     liveness probe
///
/// reply     "DIR1", status, request id, then:
///             OK          (nothing)                  REGISTER, UNREGISTER, UNWATCH, PING
///             ENDPOINTS   name, endpoint*            RESOLVE, WATCH: every live endpoint, maybe none
///             ERROR       reason                     UTF-8 text: which field is wrong, what is allowed;
///                                                    request id 0 when the request id was unreadable
///
/// push      "DIR1", "CHANGE", request id 0, name, "+" | "-", endpoint   to every watcher of name
///
/// fields    name      1..255 bytes of A-Z a-z 0-9 - _ .
///           endpoint  1..1024 bytes of UTF-8: tcp://host:port (no wildcard, port 1..65535),
///                     ipc://path or inproc://name
///           lease-ms  4 bytes, unsigned big-endian, 100..86 400 000
/// </code>
/// A future version changes frame 0; a server answers any other version with ERROR naming the one it speaks.
/// </remarks>
internal static class DirectoryProtocol
{
    internal const string Version = "DIR1";

    internal const string Register = "REGISTER";
    internal const string Unregister = "UNREGISTER";
    internal const string Resolve = "RESOLVE";
    internal const string Watch = "WATCH";
    internal const string Unwatch = "UNWATCH";
    internal const string Ping = "PING";

    internal const string Ok = "OK";
    internal const string Endpoints = "ENDPOINTS";
    internal const string Error = "ERROR";
    internal const string Change = "CHANGE";

    internal const string AddedMark = "+";
    internal const string RemovedMark = "-";

    internal const int MaxNameBytes = 255;
    internal const int MaxEndpointBytes = 1024;
    internal const uint MinLeaseMs = 100;
    internal const uint MaxLeaseMs = 86_400_000;

    /// <summary>More frames than any valid message has (ENDPOINTS replies aside): the rest is not even kept.</summary>
    internal const int MaxRequestFrames = 8;

    internal static readonly byte[] VersionFrame = Encoding.ASCII.GetBytes(Version);

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    internal static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    internal static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    internal static byte[] UInt32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }

    internal static bool TryReadUInt32(ReadOnlySpan<byte> frame, out uint value)
    {
        value = 0;
        if (frame.Length != 4)
        {
            return false;
        }

        value = BinaryPrimitives.ReadUInt32BigEndian(frame);
        return true;
    }

    /// <summary>Decodes strict UTF-8; null when the bytes are not valid UTF-8.</summary>
    internal static string? TryDecode(ReadOnlySpan<byte> frame)
    {
        try
        {
            return StrictUtf8.GetString(frame);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    /// <summary>Why <paramref name="name"/> is not a valid directory name, or null when it is.</summary>
    internal static string? NameProblem(string name)
    {
        if (name.Length == 0)
        {
            return "the name is empty; use 1 to 255 characters of letters, digits, '-', '_' and '.'";
        }

        if (name.Length > MaxNameBytes)
        {
            return $"the name is {name.Length} characters long; at most {MaxNameBytes} are allowed";
        }

        foreach (char c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.'))
            {
                return $"the name contains '{c}' (U+{(int)c:X4}); use only letters, digits, '-', '_' and '.'";
            }
        }

        return null;
    }

    /// <summary>Why <paramref name="endpoint"/> cannot be registered, or null when it can.</summary>
    internal static string? EndpointProblem(string endpoint)
    {
        if (endpoint.Length == 0 || Encoding.UTF8.GetByteCount(endpoint) > MaxEndpointBytes)
        {
            return $"the endpoint must be 1 to {MaxEndpointBytes} bytes of UTF-8";
        }

        Endpoint parsed;
        try
        {
            parsed = Engine.Endpoint.Parse(endpoint);
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }

        return parsed switch
        {
            { Transport: TransportKind.Directory } => "a dir:// name cannot be registered; register the endpoint it stands for",
            { Transport: TransportKind.Tcp, Host: "*" } => $"'{endpoint}' is a wildcard; register an address peers can connect to",
            { Transport: TransportKind.Tcp, Port: 0 } => $"'{endpoint}' has port 0; register the port that was really bound",
            _ => null,
        };
    }

    /// <summary>Why <paramref name="lease"/> is not an allowed lease, or null when it is.</summary>
    internal static string? LeaseProblem(TimeSpan lease) =>
        lease.TotalMilliseconds >= MinLeaseMs && lease.TotalMilliseconds <= MaxLeaseMs
            ? null
            : $"the lease is {lease.TotalMilliseconds:0} ms; use {MinLeaseMs} ms to {MaxLeaseMs / 3_600_000} h";
}
