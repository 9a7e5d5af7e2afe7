using Engine.Tests.Interop;

namespace Engine.Tests.Security;

/// <summary>
/// A ZAP handler (RFC 27) inside a libzmq context, so that a libzmq PLAIN or CURVE server has
/// someone to ask. libzmq 4.3.4 needs one for PLAIN: with no handler bound at
/// inproc://zeromq.zap.01 its PLAIN server hangs up after the client's HELLO (verified by
/// PlainTests). The handler answers on its own thread until disposed.
/// </summary>
internal sealed class LibZmqZapHandler : IDisposable
{
    private readonly ZmqSocket _rep;
    private readonly Thread _thread;
    private readonly Func<string, IReadOnlyList<byte[]>, bool> _accept;
    private volatile bool _stop;

    /// <param name="context">The libzmq server's context (ZAP is per context).</param>
    /// <param name="accept">Gets the mechanism and its credential frames; says whether to let the client in.</param>
    internal LibZmqZapHandler(ZmqContext context, Func<string, IReadOnlyList<byte[]>, bool> accept)
    {
        _accept = accept;
        _rep = context.CreateSocket(LibZmq.ZMQ_REP);
        // Short receive timeout: the loop checks the stop flag between waits.
        _rep.SetOption(LibZmq.ZMQ_RCVTIMEO, 50);
        _rep.Bind("inproc://zeromq.zap.01");
        _thread = new Thread(Serve) { IsBackground = true, Name = "zap-handler" };
        _thread.Start();
    }

    /// <summary>How many requests were answered (and how many accepted).</summary>
    internal int Requests;

    private void Serve()
    {
        while (!_stop)
        {
            if (!_rep.TryReceive(out byte[] first, out bool more))
            {
                continue;
            }

            // version, request id, domain, address, identity, mechanism, credentials...
            var frames = new List<byte[]> { first };
            while (more)
            {
                frames.Add(_rep.Receive(out more));
            }

            string mechanism = System.Text.Encoding.ASCII.GetString(frames[5]);
            bool ok = _accept(mechanism, frames.Skip(6).ToList());
            Interlocked.Increment(ref Requests);
            _rep.Send("1.0"u8, more: true);
            _rep.Send(frames[1], more: true);
            _rep.Send(ok ? "200"u8 : "400"u8, more: true);
            _rep.Send(ok ? "OK"u8 : "bad credentials"u8, more: true);
            _rep.Send(ok ? "user"u8 : ""u8, more: true);
            _rep.Send(ReadOnlySpan<byte>.Empty);
        }
    }

    public void Dispose()
    {
        _stop = true;
        _thread.Join(TimeSpan.FromSeconds(5));
        _rep.Dispose();
    }
}
