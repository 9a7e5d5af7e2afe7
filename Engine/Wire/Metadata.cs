using System.Buffers.Binary;
using System.Text;

namespace Engine.Wire;

/// <summary>
/// The property list carried by READY (and INITIATE in PLAIN/CURVE): RFC 37 "metadata".
/// </summary>
/// <remarks>
/// <code>
/// property = name-size(1) name(1..255 of ALPHA DIGIT - _ . +) value-size(4, big-endian) value
/// </code>
/// Names compare case-insensitively. A value-size that runs past the command body is refused
/// (NetMQ reads it as negative and aborts its process; we close that one connection).
/// </remarks>
internal sealed class Metadata
{
    internal const string SocketTypeName = "Socket-Type";
    internal const string IdentityName = "Identity";

    /// <summary>Our capability flag (RFC 37 reserves X- names for applications): the peer speaks DRAIN/DRAINED.</summary>
    internal const string DrainName = "X-Drain";

    private readonly Dictionary<string, byte[]> _properties = new(StringComparer.OrdinalIgnoreCase);

    internal IReadOnlyDictionary<string, byte[]> Properties => _properties;

    internal string? SocketType => _properties.TryGetValue(SocketTypeName, out byte[]? value) ? Encoding.ASCII.GetString(value) : null;

    internal byte[]? Identity => _properties.TryGetValue(IdentityName, out byte[]? value) ? value : null;

    internal void Add(string name, ReadOnlySpan<byte> value) => _properties[name] = value.ToArray();

    internal int EncodedSize
    {
        get
        {
            int size = 0;
            foreach (KeyValuePair<string, byte[]> property in _properties)
            {
                size += 1 + property.Key.Length + 4 + property.Value.Length;
            }

            return size;
        }
    }

    internal int Write(Span<byte> destination)
    {
        int position = 0;
        foreach (KeyValuePair<string, byte[]> property in _properties)
        {
            destination[position++] = (byte)property.Key.Length;
            position += Encoding.ASCII.GetBytes(property.Key, destination[position..]);
            BinaryPrimitives.WriteInt32BigEndian(destination[position..], property.Value.Length);
            position += 4;
            property.Value.CopyTo(destination[position..]);
            position += property.Value.Length;
        }

        return position;
    }

    /// <summary>The encoded property list on its own (INITIATE and CURVE's boxes carry it).</summary>
    internal byte[] ToArray()
    {
        var bytes = new byte[EncodedSize];
        Write(bytes);
        return bytes;
    }

    internal static ProtocolError TryParse(ReadOnlySpan<byte> data, out Metadata metadata) => TryParse(data, out metadata, out _);

    /// <summary>Parses a property list; on failure <paramref name="problem"/> says what is wrong, for the reason we give the peer.</summary>
    internal static ProtocolError TryParse(ReadOnlySpan<byte> data, out Metadata metadata, out string? problem)
    {
        metadata = new Metadata();
        problem = null;
        while (!data.IsEmpty)
        {
            int nameLength = data[0];
            if (nameLength == 0)
            {
                problem = "property with an empty name";
                return ProtocolError.MalformedMetadata;
            }

            if (data.Length < 1 + nameLength + 4)
            {
                problem = $"property name of {nameLength} bytes runs past the command";
                return ProtocolError.MalformedMetadata;
            }

            ReadOnlySpan<byte> name = data.Slice(1, nameLength);
            if (!IsPropertyName(name))
            {
                problem = $"property name '{ProtocolErrors.Printable(name)}' has characters outside A-Z a-z 0-9 - _ . +";
                return ProtocolError.MalformedMetadata;
            }

            uint valueLength = BinaryPrimitives.ReadUInt32BigEndian(data.Slice(1 + nameLength, 4));
            data = data[(1 + nameLength + 4)..];
            if (valueLength > (uint)data.Length)
            {
                // Compared unsigned: 0xFFFFFFFF is not -1 here (NetMQ reads it as negative and aborts).
                problem = $"property '{ProtocolErrors.Printable(name)}' announces {valueLength} bytes, {data.Length} remain";
                return ProtocolError.MalformedMetadata;
            }

            metadata._properties[Encoding.ASCII.GetString(name)] = data[..(int)valueLength].ToArray();
            data = data[(int)valueLength..];
        }

        return ProtocolError.None;
    }

    private static bool IsPropertyName(ReadOnlySpan<byte> name)
    {
        foreach (byte b in name)
        {
            bool ok = b is >= (byte)'A' and <= (byte)'Z' or >= (byte)'a' and <= (byte)'z' or >= (byte)'0' and <= (byte)'9'
                or (byte)'-' or (byte)'_' or (byte)'.' or (byte)'+';
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }
}
