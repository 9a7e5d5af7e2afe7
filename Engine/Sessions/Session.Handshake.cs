using System.Buffers;
using System.IO.Pipelines;
using Engine.Lifetime;
using Engine.Wire;

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

    private const string NullMechanism = "NULL";

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
            _connection.Abort(ShutdownReason.HandshakeTimeout, reason);
            return HandshakeResult.Fail(reason);
        }
        catch (ProtocolViolationException violation)
        {
            ShutdownReason reason = violation.Error switch
            {
                ProtocolError.PeerSentError => ShutdownReason.PeerSentError,
                ProtocolError.IncompatibleSocketType => ShutdownReason.IncompatiblePeer,
                _ => ShutdownReason.ProtocolViolation,
            };
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
    /// Greeting out, greeting in, READY out, READY (or ERROR) in. We send our whole greeting first and
    /// never wait for the peer's 64 bytes before sending it (libzmq sends its greeting in steps).
    /// </summary>
    private async Task<HandshakeResult> HandshakeAsync(CancellationToken cancellationToken)
    {
        PipeWriter output = _connection.Output;
        PipeReader input = _connection.Input;

        Greeting.Write(output.GetSpan(Greeting.Size), NullMechanism, asServer: false);
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

        if (greeting.Mechanism != NullMechanism)
        {
            throw new ProtocolViolationException(ProtocolError.MechanismMismatch, $"peer wants {greeting.Mechanism}, we use {NullMechanism}");
        }

        SocketType localType = _owner.Type;
        var metadata = new Metadata();
        metadata.Add(Metadata.SocketTypeName, System.Text.Encoding.ASCII.GetBytes(SocketTypes.WireName(localType)));
        if (SocketTypes.SendsIdentity(localType))
        {
            metadata.Add(Metadata.IdentityName, _owner.Options.Identity ?? Array.Empty<byte>());
        }

        metadata.Add(Metadata.DrainName, "1"u8);

        output.Write(Commands.BuildReady(metadata));
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);

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

            ThrowIfEnded(read, "READY");
            input.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }

        return await AcceptReadyAsync(command, greeting, localType, cancellationToken).ConfigureAwait(false);
    }

    private async Task<HandshakeResult> AcceptReadyAsync(byte[] command, Greeting greeting, SocketType localType, CancellationToken cancellationToken)
    {
        Commands.TryParse(command, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> data);
        if (name.SequenceEqual(Commands.Error))
        {
            throw new ProtocolViolationException(ProtocolError.PeerSentError, Commands.ParseErrorReason(data));
        }

        ProtocolError error = ProtocolError.None;
        string? detail = null;
        Metadata? metadata = null;
        SocketType peerType = default;
        if (!name.SequenceEqual(Commands.Ready))
        {
            error = ProtocolError.UnexpectedCommand;
            detail = $"expected READY, got {System.Text.Encoding.ASCII.GetString(name)}";
        }
        else if ((error = Metadata.TryParse(data, out metadata)) == ProtocolError.None)
        {
            if (metadata.SocketType is null)
            {
                error = ProtocolError.MissingSocketType;
            }
            else if (!SocketTypes.TryParse(metadata.SocketType, out peerType))
            {
                error = ProtocolError.IncompatibleSocketType;
                detail = $"unknown socket type '{metadata.SocketType}'";
            }
            else if (!SocketTypes.AreCompatible(localType, peerType))
            {
                error = ProtocolError.IncompatibleSocketType;
                detail = $"{SocketTypes.WireName(localType)} cannot talk to {SocketTypes.WireName(peerType)}";
            }
        }

        if (error != ProtocolError.None)
        {
            var violation = new ProtocolViolationException(error, detail);
            // ZMTP lets us say why before closing; libzmq and NetMQ just hang up.
            _connection.Output.Write(Commands.BuildError(violation.Message));
            await _connection.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
            throw violation;
        }

        byte[]? identity = metadata!.Identity;
        bool drains = metadata.Properties.TryGetValue(Metadata.DrainName, out byte[]? drain) && drain.AsSpan().SequenceEqual("1"u8);
        return new HandshakeResult(true, null, peerType, identity is { Length: > 0 } ? identity : null, greeting.IsAtLeast31, drains);
    }

    private static bool TryParseGreeting(in ReadOnlySequence<byte> buffer, out Greeting greeting)
    {
        greeting = default;
        Span<byte> head = stackalloc byte[Greeting.Size];
        int available = (int)Math.Min(buffer.Length, Greeting.Size);
        buffer.Slice(0, available).CopyTo(head);
        ProtocolError error = available == Greeting.Size
            ? Greeting.TryParse(head, out greeting)
            : Greeting.CheckPrefix(head[..available]);
        if (error != ProtocolError.None)
        {
            throw new ProtocolViolationException(error);
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
            throw new ProtocolViolationException(error);
        }

        if (status == OperationStatus.NeedMoreData)
        {
            return false;
        }

        if ((flags & FrameFlags.Command) == 0)
        {
            throw new ProtocolViolationException(ProtocolError.MessageBeforeReady);
        }

        if (size > MaxHandshakeCommandSize || size == 0)
        {
            throw new ProtocolViolationException(ProtocolError.MalformedCommand, $"handshake command of {size} bytes");
        }

        if (reader.Remaining < size)
        {
            return false;
        }

        body = reader.UnreadSequence.Slice(0, size).ToArray();
        if (!Commands.TryParse(body, out _, out _))
        {
            throw new ProtocolViolationException(ProtocolError.MalformedCommand);
        }

        reader.Advance(size);
        buffer = buffer.Slice(reader.Position);
        return true;
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
