using System.Text;

namespace Engine.Sockets;

/// <summary>Conveniences over <see cref="ISendSocket"/>: one small set, not every combination.</summary>
public static class SendExtensions
{
    /// <summary>Sends a frame, blocking for room up to <see cref="SocketOptions.SendTimeout"/>.</summary>
    /// <exception cref="TimeoutException">No room within the send timeout.</exception>
    public static void Send(this ISendSocket socket, ref Msg frame)
    {
        if (!socket.TrySend(ref frame, socket.Options.SendTimeout))
        {
            throw new TimeoutException($"No room to send within {socket.Options.SendTimeout} (every peer's pipe is at its high-water mark, or there is no peer).");
        }
    }

    /// <summary>Sends a copy of <paramref name="data"/> as one frame, blocking for room up to <see cref="SocketOptions.SendTimeout"/>.</summary>
    public static void Send(this ISendSocket socket, ReadOnlySpan<byte> data, bool more = false)
    {
        Msg frame = Msg.Copy(data, more);
        try
        {
            socket.Send(ref frame);
        }
        finally
        {
            frame.Dispose();
        }
    }

    /// <summary>Sends <paramref name="text"/> as UTF-8.</summary>
    public static void Send(this ISendSocket socket, string text, bool more = false)
    {
        int length = Encoding.UTF8.GetByteCount(text);
        Msg frame = Msg.Allocate(length);
        Encoding.UTF8.GetBytes(text, frame.WritableSpan);
        frame.More = more;
        try
        {
            socket.Send(ref frame);
        }
        finally
        {
            frame.Dispose();
        }
    }

    /// <summary>Sends a copy of <paramref name="data"/>, waiting up to <paramref name="timeout"/>.</summary>
    /// <returns>False when there was no room in time (nothing was sent).</returns>
    public static bool TrySend(this ISendSocket socket, ReadOnlySpan<byte> data, TimeSpan timeout, bool more = false)
    {
        Msg frame = Msg.Copy(data, more);
        bool sent = socket.TrySend(ref frame, timeout);
        frame.Dispose();
        return sent;
    }

    /// <summary>Sends a copy of <paramref name="data"/> as one frame, waiting asynchronously for room.</summary>
    public static ValueTask SendAsync(this ISendSocket socket, ReadOnlyMemory<byte> data, bool more = false, CancellationToken cancellationToken = default) =>
        socket.SendAsync(Msg.Copy(data.Span, more), cancellationToken);

    /// <summary>Sends all <paramref name="frames"/> as one message (delivered whole or not at all).</summary>
    public static void SendMultipart(this ISendSocket socket, params ReadOnlySpan<byte[]> frames)
    {
        if (frames.IsEmpty)
        {
            throw new ArgumentException("A message needs at least one frame.", nameof(frames));
        }

        for (int i = 0; i < frames.Length; i++)
        {
            socket.Send(frames[i], more: i < frames.Length - 1);
        }
    }
}
