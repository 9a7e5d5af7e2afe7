using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Engine.Benchmarks.Implementations;

/// <summary>
/// The baseline: a plain <see cref="Socket"/> with ZMTP-like framing (flags, then a 1-byte size for
/// bodies up to 255 bytes or an 8-byte big-endian size) and no messaging at all: no handshake, no
/// queues, no threads. The sender copies frames into a 64 KiB batch and writes it when full; the
/// receiver parses frames out of 64 KiB reads. What an engine adds on top of this is its cost.
/// </summary>
internal sealed class RawMessaging : IMessaging
{
    private const int BatchSize = 64 * 1024;

    public IMessageSink ConnectPush(string endpoint, int maxSize) => new Sink(new FrameWriter(Connect(endpoint), maxSize));

    public IMessageSource BindPull(string endpoint, int maxSize, out string bound) => new Source(new LazyAccept(endpoint, out bound));

    public IRequester ConnectReq(string endpoint, int maxSize)
    {
        Socket socket = Connect(endpoint);
        return new Requester(new FrameWriter(socket, maxSize), new FrameReader(socket));
    }

    public IReplier BindRep(string endpoint, int maxSize, out string bound) => new Replier(new LazyAccept(endpoint, out bound), maxSize);

    public void Dispose()
    {
    }

    private static IPEndPoint Parse(string endpoint)
    {
        const string Scheme = "tcp://";
        if (!endpoint.StartsWith(Scheme, StringComparison.Ordinal))
        {
            throw new NotSupportedException($"the raw baseline speaks tcp only, not {endpoint}");
        }

        return IPEndPoint.Parse(endpoint[Scheme.Length..]);
    }

    private static Socket Connect(string endpoint)
    {
        IPEndPoint target = Parse(endpoint);
        var socket = new Socket(target.AddressFamily, System.Net.Sockets.SocketType.Stream, ProtocolType.Tcp)
        {
            // As every ZMTP implementation does: small frames must not wait for Nagle.
            NoDelay = true,
            ReceiveTimeout = (int)Messaging.Timeout.TotalMilliseconds,
            SendTimeout = (int)Messaging.Timeout.TotalMilliseconds,
        };
        socket.Connect(target);
        return socket;
    }

    /// <summary>A listener that accepts its one connection when first used, with a bounded wait.</summary>
    private sealed class LazyAccept : IDisposable
    {
        private readonly Socket _listener;
        private Socket? _connection;

        internal LazyAccept(string endpoint, out string bound)
        {
            IPEndPoint local = Parse(endpoint);
            _listener = new Socket(local.AddressFamily, System.Net.Sockets.SocketType.Stream, ProtocolType.Tcp);
            _listener.Bind(local);
            _listener.Listen(1);
            var actual = (IPEndPoint)_listener.LocalEndPoint!;
            bound = $"tcp://{actual.Address}:{actual.Port}";
        }

        internal Socket Connection => _connection ??= Accept();

        /// <summary>Ends our direction of the connection, if there is one, so the peer reads end-of-stream.</summary>
        internal void ShutdownSend() => _connection?.Shutdown(SocketShutdown.Send);

        public void Dispose()
        {
            _connection?.Dispose();
            _listener.Dispose();
        }

        private Socket Accept()
        {
            if (!_listener.Poll(Messaging.Timeout, SelectMode.SelectRead))
            {
                throw new TimeoutException($"no connection within {Messaging.Timeout}");
            }

            Socket socket = _listener.Accept();
            socket.NoDelay = true;
            socket.ReceiveTimeout = (int)Messaging.Timeout.TotalMilliseconds;
            socket.SendTimeout = (int)Messaging.Timeout.TotalMilliseconds;
            return socket;
        }
    }

    /// <summary>Frames into a batch buffer; the batch goes out in one write when the next frame does not fit, or on <see cref="Flush"/>.</summary>
    private sealed class FrameWriter
    {
        private readonly Socket _socket;
        private readonly byte[] _batch;
        private readonly byte[] _payload;
        private int _used;

        internal FrameWriter(Socket socket, int maxSize)
        {
            _socket = socket;
            // A frame always fits in one batch, so a 64 KiB body is still one write.
            _batch = GC.AllocateUninitializedArray<byte>(Math.Max(BatchSize, maxSize + 9), pinned: true);
            _payload = new byte[maxSize];
        }

        internal Socket Socket => _socket;

        internal void Write(int size)
        {
            int header = size > 255 ? 9 : 2;
            if (_used + header + size > _batch.Length)
            {
                Flush();
            }

            Span<byte> frame = _batch.AsSpan(_used, header + size);
            if (header == 2)
            {
                frame[0] = 0;
                frame[1] = (byte)size;
            }
            else
            {
                frame[0] = 0x02;
                BinaryPrimitives.WriteInt64BigEndian(frame[1..], size);
            }

            // Like zmq_send, the sender copies the user's bytes.
            _payload.AsSpan(0, size).CopyTo(frame[header..]);
            _used += header + size;
        }

        internal void Flush()
        {
            int sent = 0;
            while (sent < _used)
            {
                sent += _socket.Send(_batch, sent, _used - sent, SocketFlags.None);
            }

            _used = 0;
        }
    }

    /// <summary>Parses frames out of 64 KiB reads; bodies are skipped, not copied (no messaging means no message to hand out).</summary>
    private sealed class FrameReader(Socket socket)
    {
        private readonly byte[] _buffer = GC.AllocateUninitializedArray<byte>(BatchSize, pinned: true);
        private int _start;
        private int _end;

        internal int ReadFrame()
        {
            Ensure(2);
            long size;
            if ((_buffer[_start] & 0x02) == 0)
            {
                size = _buffer[_start + 1];
                _start += 2;
            }
            else
            {
                Ensure(9);
                size = BinaryPrimitives.ReadInt64BigEndian(_buffer.AsSpan(_start + 1, 8));
                _start += 9;
            }

            long left = size;
            while (left > 0)
            {
                if (_start == _end)
                {
                    Fill();
                }

                int take = (int)Math.Min(left, _end - _start);
                _start += take;
                left -= take;
            }

            return (int)size;
        }

        private void Ensure(int count)
        {
            while (_end - _start < count)
            {
                if (_start == _end)
                {
                    _start = _end = 0;
                }
                else if (_buffer.Length - _start < count)
                {
                    // A header straddles the end of the buffer: move its first bytes to the front.
                    _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                    _end -= _start;
                    _start = 0;
                }

                Read();
            }
        }

        private void Fill()
        {
            _start = _end = 0;
            Read();
        }

        private void Read()
        {
            int read = socket.Receive(_buffer, _end, _buffer.Length - _end, SocketFlags.None, out SocketError error);
            if (error == SocketError.TimedOut || error == SocketError.WouldBlock)
            {
                throw new TimeoutException($"nothing received within {socket.ReceiveTimeout} ms");
            }

            if (error != SocketError.Success)
            {
                throw new SocketException((int)error);
            }

            if (read == 0)
            {
                throw new EndOfStreamException("the peer closed the connection");
            }

            _end += read;
        }
    }

    private sealed class Sink(FrameWriter writer) : IMessageSink
    {
        public void Send(int size)
        {
            writer.Write(size);
            if (size == 0)
            {
                // The end marker: nothing follows, so nothing would push the last batch out.
                writer.Flush();
            }
        }

        public void Dispose()
        {
            writer.Flush();
            writer.Socket.Shutdown(SocketShutdown.Send);
            writer.Socket.Dispose();
        }
    }

    private sealed class Source(LazyAccept accept) : IMessageSource
    {
        private FrameReader? _reader;

        public TimeSpan Timeout
        {
            set => accept.Connection.ReceiveTimeout = (int)value.TotalMilliseconds;
        }

        public int Receive() => (_reader ??= new FrameReader(accept.Connection)).ReadFrame();

        public void Dispose() => accept.Dispose();
    }

    private sealed class Requester(FrameWriter writer, FrameReader reader) : IRequester
    {
        public int Request(int size)
        {
            writer.Write(size);
            writer.Flush();
            return reader.ReadFrame();
        }

        public void Dispose() => writer.Socket.Dispose();
    }

    private sealed class Replier(LazyAccept accept, int maxSize) : IReplier
    {
        private FrameReader? _reader;
        private FrameWriter? _writer;

        public int ReplyOne()
        {
            _reader ??= new FrameReader(accept.Connection);
            _writer ??= new FrameWriter(accept.Connection, maxSize);
            int size = _reader.ReadFrame();
            _writer.Write(size);
            _writer.Flush();
            return size;
        }

        public void Dispose()
        {
            accept.ShutdownSend();
            accept.Dispose();
        }
    }
}
