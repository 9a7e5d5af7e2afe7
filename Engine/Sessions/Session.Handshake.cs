using System.Buffers;
using System.IO.Pipelines;
using Engine.Lifetime;
using Engine.Wire;
using Engine.Wire.Mechanisms;

namespace Engine.Sessions;

/// <summary>The outcome of a ZMTP handshake: the peer's type and identity, or why it failed.</summary>
internal readonly record struct HandshakeResult(bool Succeeded, string? Failure, SocketType PeerType, byte[]? PeerIdentity, bool PeerIs31, bool PeerSupportsDrain = false)
{
    internal static HandshakeResult Fail(string reason) => new(false, reason, default, null, false);
}

internal sealed partial class Session
{
    /// <summary>READY and ERROR bodies larger than this are refused before they are buffered.</summary>
    internal const int MaxHandshakeCommandSize = 64 * 1024;

    // Set once both greetings are exchanged: only after that may a refusal be said with ERROR.
    private bool _greetingExchanged;

    private async Task<HandshakeResult> RunHandshakeAsync()
    {
        SocketOptions options = _owner.Options;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_owner.ClosingToken);
        timeout.CancelAfter(options.HandshakeTimeout);
        try
        {
            return await HandshakeAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!_owner.ClosingToken.IsCancellationRequested && !_connection.IsAborted)
        {
            string reason = $"handshake not completed within {options.HandshakeTimeout.TotalMilliseconds:0} ms";
            await SayWhyAsync(reason).ConfigureAwait(false);
            _connection.Abort(ShutdownReason.HandshakeTimeout, reason);
            return HandshakeResult.Fail(reason);
        }
        catch (ProtocolViolationException violation)
        {
            ShutdownReason reason = violation.Error switch
            {
                ProtocolError.PeerSentError => ShutdownReason.PeerSentError,
                ProtocolError.IncompatibleSocketType => ShutdownReason.IncompatiblePeer,
                ProtocolError.AuthenticationFailed => ShutdownReason.AuthenticationFailed,
                _ => ShutdownReason.ProtocolViolation,
            };
            if (violation.Error != ProtocolError.PeerSentError)
            {
                await SayWhyAsync(violation.Message).ConfigureAwait(false);
            }

            _connection.Abort(reason, violation.Message);
            return HandshakeResult.Fail(violation.Message);
        }
        catch (Exception e) when (IsConnectionError(e))
        {
            _connection.Abort(ShutdownReason.ReceiveSocketError, e.Message);
            return HandshakeResult.Fail(_connection.IsAborted && _owner.ClosingToken.IsCancellationRequested
                ? "socket closed during handshake"
                : "connection lost during handshake: " + e.Message);
        }
    }

    /// <summary>
    /// Sends ERROR with the reason, if ZMTP allows it here: only once both greetings are exchanged
    /// (before that the peer may not even speak ZMTP, and an ERROR would be a frame it cannot
    /// parse). Best effort within <see cref="ErrorFlushGrace"/>: a peer that does not read gets none.
    /// </summary>
    private async ValueTask SayWhyAsync(string reason)
    {
        if (!_greetingExchanged || _connection.IsAborted)
        {
            return;
        }

        using var grace = CancellationTokenSource.CreateLinkedTokenSource(_owner.ClosingToken);
        grace.CancelAfter(ErrorFlushGrace);
        try
        {
            _connection.Output.Write(Commands.BuildError(reason));
            await _connection.Output.FlushAsync(grace.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (IsConnectionError(e))
        {
            // The peer is gone or does not read; the connection closes all the same.
        }
    }

    /// <summary>
    /// Greeting out, greeting in, then the mechanism's commands (NULL: READY out, READY in; PLAIN and
    /// CURVE: HELLO, WELCOME, INITIATE, READY) until it hands back the peer's metadata. We send our
    /// whole greeting first and never wait for the peer's 64 bytes before sending it (libzmq sends
    /// its greeting in steps).
    /// </summary>
    private async Task<HandshakeResult> HandshakeAsync(CancellationToken cancellationToken)
    {
        PipeWriter output = _connection.Output;
        PipeReader input = _connection.Input;
        SocketType localType = _owner.Type;
        IMechanism mechanism = CreateMechanism(_owner.Options, OwnMetadata(localType), _connection.RemoteAddress);

        Greeting.Write(output.GetSpan(Greeting.Size), mechanism.Name, mechanism.AsServer);
        output.Advance(Greeting.Size);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);

        Greeting greeting;
        while (true)
        {
            ReadResult read = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            ThrowIfClosed(read);
            ReadOnlySequence<byte> buffer = read.Buffer;
            bool complete = TryParseGreeting(buffer, out greeting);
            if (complete)
            {
                input.AdvanceTo(buffer.GetPosition(Greeting.Size));
                break;
            }

            ThrowIfEnded(read, "greeting");
            input.AdvanceTo(buffer.Start, buffer.End);
        }

        CheckMechanism(greeting, mechanism);
        mechanism.Start(output);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);

        Metadata? peerMetadata = null;
        while (peerMetadata is null)
        {
            byte[] command;
            while (true)
            {
                ReadResult read = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
                ThrowIfClosed(read);
                ReadOnlySequence<byte> buffer = read.Buffer;
                if (TryReadHandshakeCommand(ref buffer, out command))
                {
                    input.AdvanceTo(buffer.Start);
                    break;
                }

                ThrowIfEnded(read, mechanism is NullMechanism ? "READY" : "handshake command");
                input.AdvanceTo(read.Buffer.Start, read.Buffer.End);
            }

            Commands.TryParse(command, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> data);
            if (name.SequenceEqual(Commands.Error))
            {
                throw new ProtocolViolationException(ProtocolError.PeerSentError, Commands.ParseErrorReason(data));
            }

            peerMetadata = mechanism.Process(name, data, output);
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        HandshakeResult result = AcceptPeer(peerMetadata, greeting, localType);
        if (mechanism is IEncryptingMechanism curve)
        {
            _connection.Encrypt(curve.CreateCodec(), _owner.Options.MaxBufferedBytes);
        }

        return result;
    }

    /// <summary>The mechanism the options ask for: CURVE, then PLAIN, else NULL (like libzmq, the last security option set on a libzmq socket wins; here one kind is configured at a time).</summary>
    private static IMechanism CreateMechanism(SocketOptions options, Metadata ours, string peerAddress)
    {
        if (options.CurveServer)
        {
            return new CurveServer(ours, options.CurvePublicKey ?? DerivedPublic(options.CurveSecretKey), RequireKey(options.CurveSecretKey, "CurveSecretKey"), options.Authenticator, peerAddress);
        }

        if (options.CurveServerKey is not null)
        {
            byte[] secret = RequireKey(options.CurveSecretKey, "CurveSecretKey");
            return new CurveClient(ours, options.CurvePublicKey ?? DerivedPublic(secret), secret, options.CurveServerKey);
        }

        if (options.PlainServer)
        {
            return new PlainServer(ours, options.Authenticator, peerAddress);
        }

        if (options.PlainUsername is not null)
        {
            return new PlainClient(ours, options.PlainUsername, options.PlainPassword ?? string.Empty);
        }

        return new NullMechanism(ours);
    }

    private static byte[] RequireKey(byte[]? key, string name) =>
        key ?? throw new ProtocolViolationException(ProtocolError.AuthenticationFailed, $"CURVE needs {name}, which is not set");

    private static byte[] DerivedPublic(byte[]? secretKey) => CurveKeyPair.FromSecretKey(RequireKey(secretKey, "CurveSecretKey")).PublicKey;

    /// <summary>Both sides must name the same mechanism, and for PLAIN/CURVE at most one of them may claim the server role.</summary>
    private static void CheckMechanism(Greeting greeting, IMechanism mechanism)
    {
        if (greeting.Mechanism != mechanism.Name)
        {
            bool known = greeting.Mechanism is NullMechanism.MechanismName or PlainClient.MechanismName or CurveClient.MechanismName or "GSSAPI";
            throw new ProtocolViolationException(
                known ? ProtocolError.MechanismMismatch : ProtocolError.UnknownMechanism,
                $"peer wants {greeting.Mechanism}, we use {mechanism.Name}");
        }

        // libzmq 4.3 always sends as-server 0 (its roles come from its options), so a 0 from the
        // peer proves nothing; only two sides both claiming the server role are refused here. Two
        // clients find out at the first command (a HELLO where WELCOME was expected).
        if (mechanism.Name != NullMechanism.MechanismName && greeting.AsServer && mechanism.AsServer)
        {
            throw new ProtocolViolationException(ProtocolError.MechanismMismatch, $"both peers are {mechanism.Name} servers");
        }
    }

    private Metadata OwnMetadata(SocketType localType)
    {
        var metadata = new Metadata();
        metadata.Add(Metadata.SocketTypeName, System.Text.Encoding.ASCII.GetBytes(SocketTypes.WireName(localType)));
        if (SocketTypes.SendsIdentity(localType))
        {
            metadata.Add(Metadata.IdentityName, _owner.Options.Identity ?? Array.Empty<byte>());
        }

        metadata.Add(Metadata.DrainName, "1"u8);
        return metadata;
    }

    private static HandshakeResult AcceptPeer(Metadata metadata, Greeting greeting, SocketType localType)
    {
        ProtocolError error = ProtocolError.None;
        string? detail = null;
        SocketType peerType = default;
        if (metadata.SocketType is null)
        {
            error = ProtocolError.MissingSocketType;
        }
        else if (metadata.Identity is { Length: > 255 } or [0, ..])
        {
            // A leading zero is reserved for ids a ROUTER generates: a peer announcing one could take another's place.
            error = ProtocolError.MalformedMetadata;
            detail = $"Identity of {metadata.Identity.Length} bytes (1 to 255, not starting with a zero byte)";
        }
        else if (!SocketTypes.TryParse(metadata.SocketType, out peerType))
        {
            error = ProtocolError.IncompatibleSocketType;
            detail = $"unknown socket type '{ProtocolErrors.Printable(metadata.Properties[Metadata.SocketTypeName])}'";
        }
        else if (!SocketTypes.AreCompatible(localType, peerType))
        {
            error = ProtocolError.IncompatibleSocketType;
            detail = $"{SocketTypes.WireName(localType)} cannot talk to {SocketTypes.WireName(peerType)}";
        }

        if (error != ProtocolError.None)
        {
            // RunHandshakeAsync says why with an ERROR (libzmq and NetMQ just hang up).
            throw new ProtocolViolationException(error, detail);
        }

        byte[]? identity = metadata.Identity;
        bool drains = metadata.Properties.TryGetValue(Metadata.DrainName, out byte[]? drain) && drain.AsSpan().SequenceEqual("1"u8);
        return new HandshakeResult(true, null, peerType, identity is { Length: > 0 } ? identity : null, greeting.IsAtLeast31, drains);
    }

    private bool TryParseGreeting(in ReadOnlySequence<byte> buffer, out Greeting greeting)
    {
        greeting = default;
        Span<byte> head = stackalloc byte[Greeting.Size];
        int available = (int)Math.Min(buffer.Length, Greeting.Size);
        buffer.Slice(0, available).CopyTo(head);
        head = head[..available];
        ProtocolError error = available == Greeting.Size
            ? Greeting.TryParse(head, out greeting)
            : Greeting.CheckPrefix(head);
        if (available == Greeting.Size && Greeting.CheckPrefix(head) == ProtocolError.None)
        {
            // Both greetings are out and the peer speaks ZMTP 3: from here on every refusal
            // (an unknown mechanism included) is said with an ERROR command.
            _greetingExchanged = true;
        }

        if (error != ProtocolError.None)
        {
            throw new ProtocolViolationException(error, Greeting.DescribeRefusal(error, head));
        }

        return available == Greeting.Size;
    }

    /// <summary>Reads one whole command frame of the handshake; message frames are refused.</summary>
    private static bool TryReadHandshakeCommand(ref ReadOnlySequence<byte> buffer, out byte[] body)
    {
        body = Array.Empty<byte>();
        var reader = new SequenceReader<byte>(buffer);
        OperationStatus status = FrameCodec.TryReadHeader(ref reader, out FrameFlags flags, out long size, out ProtocolError error);
        if (status == OperationStatus.InvalidData)
        {
            throw new ProtocolViolationException(error, $"flags 0x{(byte)flags:X2} where a handshake command was expected");
        }

        if (status == OperationStatus.NeedMoreData)
        {
            return false;
        }

        if ((flags & FrameFlags.Command) == 0)
        {
            throw new ProtocolViolationException(ProtocolError.MessageBeforeReady, $"a {size}-byte message frame where a handshake command was expected");
        }

        if (size > MaxHandshakeCommandSize || size == 0)
        {
            // Checked on the header, before any body is buffered: an announced 2 GB costs nothing.
            throw new ProtocolViolationException(ProtocolError.MalformedCommand, $"handshake command of {size} bytes (1 to {MaxHandshakeCommandSize} allowed)");
        }

        if (reader.Remaining < size)
        {
            return false;
        }

        body = reader.UnreadSequence.Slice(0, size).ToArray();
        body = RepairLibZmqError(body);
        if (!Commands.TryParse(body, out _, out _))
        {
            throw new ProtocolViolationException(ProtocolError.MalformedCommand, $"command name of {body[0]} bytes in a {size}-byte command");
        }

        reader.Advance(size);
        buffer = buffer.Slice(reader.Position);
        return true;
    }

    /// <summary>
    /// libzmq 4.3 writes its ERROR command name as the C literal "\x05ERROR", which C reads as the
    /// byte 0x5E followed by "RROR": a body of 0x5E 'R' 'R' 'O' 'R' reason-size reason, one byte
    /// short. Seen whenever a libzmq PLAIN/CURVE server refuses a client. We read it as the ERROR it
    /// means, so the reason reaches the monitor instead of "malformed command".
    /// </summary>
    private static byte[] RepairLibZmqError(byte[] body)
    {
        ReadOnlySpan<byte> libzmqError = [0x5E, (byte)'R', (byte)'R', (byte)'O', (byte)'R'];
        if (!body.AsSpan().StartsWith(libzmqError))
        {
            return body;
        }

        var repaired = new byte[body.Length + 1];
        repaired[0] = (byte)Commands.Error.Length;
        Commands.Error.CopyTo(repaired.AsSpan(1));
        body.AsSpan(libzmqError.Length).CopyTo(repaired.AsSpan(1 + Commands.Error.Length));
        return repaired;
    }

    private static void ThrowIfClosed(ReadResult read)
    {
        if (read.IsCanceled)
        {
            throw new OperationCanceledException("connection aborted");
        }
    }

    private static void ThrowIfEnded(ReadResult read, string waitingFor)
    {
        if (read.IsCompleted)
        {
            throw new IOException($"peer closed the connection before its {waitingFor} was complete");
        }
    }
}
