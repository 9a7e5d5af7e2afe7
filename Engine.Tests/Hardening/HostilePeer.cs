using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Engine.Tests.Hardening;

/// <summary>
/// A raw TCP client that sends whatever a test scripts (slowly, endlessly, or not at all) while a
/// background reader keeps everything the engine sends back and notes when the engine closed the
/// connection (end of stream or reset).
/// </summary>
/// <remarks>
/// Reading from the first moment matters: when the engine closes a socket that still has unread
/// input, the kernel answers with a reset, and data not yet read by then may be lost.
/// Every send is bounded in time: a send that cannot complete means the engine stopped reading.
/// </remarks>
internal sealed class HostilePeer : IDisposable
{
    private static readonly TimeSpan SendBound = TimeSpan.FromSeconds(5);

    private readonly Socket _socket;
    private readonly MemoryStream _received = new();
    private readonly Task _reader;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _closedAtTicks = -1;
    private long _bytesSent;

    internal HostilePeer(string endpoint)
    {
        var uri = new Uri(endpoint.Replace("tcp://", "http://", StringComparison.Ordinal));
        _socket = new Socket(AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _socket.SendTimeout = (int)SendBound.TotalMilliseconds;
        _socket.Connect(new IPEndPoint(IPAddress.Parse(uri.Host), uri.Port));
        Address = $"tcp://{_socket.LocalEndPoint}";
        _reader = Task.Run(ReadUntilClosedAsync);
    }

    /// <summary>How the engine names this connection in monitor events.</summary>
    internal string Address { get; }

    internal bool IsClosed => Volatile.Read(ref _closedAtTicks) >= 0;

    internal long BytesSent => _bytesSent;

    internal TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>When the engine closed the connection, since it was opened.</summary>
    internal TimeSpan? ClosedAt => IsClosed ? TimeSpan.FromTicks(Volatile.Read(ref _closedAtTicks)) : null;

    internal byte[] Received
    {
        get
        {
            lock (_received)
            {
                return _received.ToArray();
            }
        }
    }

    /// <summary>Sends all of <paramref name="bytes"/>; false when the engine has closed the connection.</summary>
    internal bool Send(byte[] bytes)
    {
        try
        {
            int sent = 0;
            while (sent < bytes.Length)
            {
                sent += _socket.Send(bytes, sent, bytes.Length - sent, SocketFlags.None);
            }

            Interlocked.Add(ref _bytesSent, sent);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Sends <paramref name="bytes"/> <paramref name="chunk"/> bytes at a time with a pause between: a slow (slowloris) peer.</summary>
    internal void SendSlowly(byte[] bytes, int chunk, TimeSpan pause, TimeSpan giveUpAfter)
    {
        var clock = Stopwatch.StartNew();
        for (int offset = 0; offset < bytes.Length && !IsClosed && clock.Elapsed < giveUpAfter; offset += chunk)
        {
            if (!Send(bytes[offset..Math.Min(bytes.Length, offset + chunk)]))
            {
                return;
            }

            // A deliberate slow sender: the pause is the attack, and it ends as soon as we are closed.
            WaitClosed(pause);
        }
    }

    /// <summary>Sends <paramref name="next"/>(i) for i = 0, 1, ... until the engine closes the connection or a bound is hit.</summary>
    internal void SendUntilClosed(Func<int, byte[]> next, long maxBytes, TimeSpan maxTime)
    {
        var clock = Stopwatch.StartNew();
        for (int i = 0; !IsClosed && _bytesSent < maxBytes && clock.Elapsed < maxTime; i++)
        {
            if (!Send(next(i)))
            {
                return;
            }
        }
    }

    /// <summary>Half-closes: the engine sees end of stream while it can still send to us.</summary>
    internal void EndOfStream()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Waits (without polling) until the engine closed the connection; false if it did not within <paramref name="timeout"/>.</summary>
    internal bool WaitClosed(TimeSpan timeout) => _reader.Wait(timeout);

    private async Task ReadUntilClosedAsync()
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                int n = await _socket.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                lock (_received)
                {
                    // Only the greeting, READY, PINGs and ERROR come back; a cap keeps a runaway bounded anyway.
                    if (_received.Length < 1024 * 1024)
                    {
                        _received.Write(buffer, 0, n);
                    }
                }
            }
        }
        catch (SocketException)
        {
            // Reset by the engine: closed just the same.
        }
        catch (ObjectDisposedException)
        {
        }

        Volatile.Write(ref _closedAtTicks, _clock.Elapsed.Ticks);
    }

    public void Dispose()
    {
        try
        {
            _socket.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }

        _socket.Dispose();
        _reader.Wait(TimeSpan.FromSeconds(5));
    }
}
