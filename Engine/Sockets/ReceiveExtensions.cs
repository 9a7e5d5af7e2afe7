using System.Text;

namespace Engine.Sockets;

/// <summary>Conveniences over <see cref="IReceiveSocket"/>.</summary>
public static class ReceiveExtensions
{
    /// <summary>Receives one frame, blocking up to <see cref="SocketOptions.ReceiveTimeout"/>. Dispose it when done.</summary>
    /// <exception cref="TimeoutException">Nothing arrived within the receive timeout.</exception>
    public static Msg Receive(this IReceiveSocket socket)
    {
        if (!socket.TryReceive(out Msg frame, socket.Options.ReceiveTimeout))
        {
            throw new TimeoutException($"Nothing received within {socket.Options.ReceiveTimeout}.");
        }

        return frame;
    }

    /// <summary>Receives one frame as a new array (allocates; use <see cref="Receive"/> on hot paths).</summary>
    public static byte[] ReceiveBytes(this IReceiveSocket socket) => ReceiveBytes(socket, out _);

    /// <summary>Receives one frame as a new array and says whether more frames of the message follow.</summary>
    public static byte[] ReceiveBytes(this IReceiveSocket socket, out bool more)
    {
        Msg frame = socket.Receive();
        more = frame.More;
        byte[] bytes = frame.ToArray();
        frame.Dispose();
        return bytes;
    }

    /// <summary>Receives one frame as UTF-8 text.</summary>
    public static string ReceiveString(this IReceiveSocket socket)
    {
        Msg frame = socket.Receive();
        string text = Encoding.UTF8.GetString(frame.Span);
        frame.Dispose();
        return text;
    }

    /// <summary>Receives all frames of the next message.</summary>
    public static List<byte[]> ReceiveMultipart(this IReceiveSocket socket)
    {
        var frames = new List<byte[]>();
        bool more;
        do
        {
            frames.Add(socket.ReceiveBytes(out more));
        }
        while (more);

        return frames;
    }

    /// <summary>
    /// Every frame until the socket is drained (then the sequence simply ends) — the natural loop
    /// for an application that must process everything before it stops. Dispose each frame.
    /// </summary>
    public static async IAsyncEnumerable<Msg> ReadAllAsync(this IReceiveSocket socket, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Msg frame;
            try
            {
                frame = await socket.ReceiveAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (SocketDrainedException)
            {
                yield break;
            }

            yield return frame;
        }
    }

    /// <summary>Receives one frame as a new array, waiting asynchronously.</summary>
    public static async ValueTask<byte[]> ReceiveBytesAsync(this IReceiveSocket socket, CancellationToken cancellationToken = default)
    {
        Msg frame = await socket.ReceiveAsync(cancellationToken).ConfigureAwait(false);
        byte[] bytes = frame.ToArray();
        frame.Dispose();
        return bytes;
    }
}
