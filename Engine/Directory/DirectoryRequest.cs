using System.Text;
using static Engine.Directory.DirectoryProtocol;

namespace Engine.Directory;

/// <summary>One request to the directory server, every field checked (see <see cref="DirectoryProtocol"/>).</summary>
internal sealed record DirectoryRequest(string Command, uint RequestId, string Name, string Endpoint, uint LeaseMs)
{
    /// <summary>
    /// Reads the frames after the routing id (and delimiter). Returns null and says what is wrong
    /// in <paramref name="error"/> otherwise; <paramref name="requestId"/> is the client's id as soon
    /// as it could be read (0 before), so even an error reply can be matched.
    /// </summary>
    /// <param name="frames">The message frames.</param>
    /// <param name="totalFrames">How many frames the message really had (more than are kept when it was too long).</param>
    /// <param name="requestId">The request id, or 0 when it could not be read.</param>
    /// <param name="error">What is wrong, when null is returned.</param>
    internal static DirectoryRequest? Parse(IReadOnlyList<byte[]> frames, int totalFrames, out uint requestId, out string? error)
    {
        requestId = 0;
        if (frames.Count < 3)
        {
            error = $"a request has at least 3 frames (\"{DirectoryProtocol.Version}\", command, 4-byte request id); got {totalFrames}";
            return null;
        }

        if (!frames[0].AsSpan().SequenceEqual(VersionFrame))
        {
            error = $"unsupported protocol '{Printable(frames[0])}'; this server speaks {DirectoryProtocol.Version}";
            return null;
        }

        if (!TryReadUInt32(frames[2], out requestId))
        {
            error = $"the request id must be 4 bytes (unsigned big-endian); got {frames[2].Length}";
            return null;
        }

        string command = Printable(frames[1]);
        int expected = command switch
        {
            Register => 3,
            Unregister => 2,
            Resolve => 1,
            Watch => 2,
            Unwatch => 1,
            Ping => 0,
            _ => -1,
        };
        if (expected < 0)
        {
            error = $"unknown command '{command}'; use {Register}, {Unregister}, {Resolve}, {Watch}, {Unwatch} or {Ping}";
            return null;
        }

        int arguments = totalFrames - 3;
        if (arguments != expected)
        {
            error = $"{command} takes {expected} argument frame(s) ({Usage(command)}); got {arguments}";
            return null;
        }

        string name = string.Empty;
        string endpoint = string.Empty;
        uint leaseMs = 0;
        error = expected == 0 ? null : ReadName(frames[3], out name);
        if (error is null && command is Register or Unregister)
        {
            error = ReadEndpoint(frames[4], out endpoint);
        }

        if (error is null && command is Register or Watch)
        {
            error = ReadLease(frames[^1], out leaseMs);
        }

        return error is null ? new DirectoryRequest(command, requestId, name, endpoint, leaseMs) : null;
    }

    private static string Usage(string command) => command switch
    {
        Register => "name, endpoint, lease-ms",
        Unregister => "name, endpoint",
        Watch => "name, lease-ms",
        Ping => "none",
        _ => "name",
    };

    private static string? ReadName(byte[] frame, out string name)
    {
        name = string.Empty;
        if (frame.Length > MaxNameBytes)
        {
            return $"the name is {frame.Length} bytes; at most {MaxNameBytes} are allowed";
        }

        string? text = TryDecode(frame);
        if (text is null)
        {
            return "the name is not valid UTF-8";
        }

        name = text;
        return NameProblem(text);
    }

    private static string? ReadEndpoint(byte[] frame, out string endpoint)
    {
        endpoint = string.Empty;
        if (frame.Length > MaxEndpointBytes)
        {
            return $"the endpoint is {frame.Length} bytes; at most {MaxEndpointBytes} are allowed";
        }

        string? text = TryDecode(frame);
        if (text is null)
        {
            return "the endpoint is not valid UTF-8";
        }

        endpoint = text;
        return EndpointProblem(text);
    }

    private static string? ReadLease(byte[] frame, out uint leaseMs)
    {
        if (!TryReadUInt32(frame, out leaseMs))
        {
            return $"lease-ms must be 4 bytes (unsigned big-endian); got {frame.Length}";
        }

        return leaseMs is >= MinLeaseMs and <= MaxLeaseMs ? null : $"lease-ms is {leaseMs}; use {MinLeaseMs} to {MaxLeaseMs}";
    }

    /// <summary>A frame quoted in an error: printable ASCII as is, anything else as hex, never long.</summary>
    private static string Printable(byte[] frame)
    {
        ReadOnlySpan<byte> shown = frame.AsSpan(0, Math.Min(frame.Length, 32));
        foreach (byte b in shown)
        {
            if (b is < 0x20 or > 0x7E)
            {
                return "0x" + Convert.ToHexString(shown) + (frame.Length > shown.Length ? "..." : string.Empty);
            }
        }

        return Encoding.ASCII.GetString(shown) + (frame.Length > shown.Length ? "..." : string.Empty);
    }
}
