namespace Engine.Wire.Mechanisms;

/// <summary>Checks shared by the mechanisms: the expected command name, and a property list that parses.</summary>
internal static class MechanismCommands
{
    internal static ReadOnlySpan<byte> Hello => "HELLO"u8;

    internal static ReadOnlySpan<byte> Welcome => "WELCOME"u8;

    internal static ReadOnlySpan<byte> Initiate => "INITIATE"u8;

    /// <summary>Refuses any command but <paramref name="expected"/>, with a reason naming both.</summary>
    internal static void Expect(ReadOnlySpan<byte> name, ReadOnlySpan<byte> expected)
    {
        if (!name.SequenceEqual(expected))
        {
            throw new ProtocolViolationException(
                ProtocolError.UnexpectedCommand,
                $"expected {System.Text.Encoding.ASCII.GetString(expected)}, got {ProtocolErrors.Printable(name)}");
        }
    }

    /// <summary>The command must be <paramref name="expected"/> and carry valid metadata, which is returned.</summary>
    internal static Metadata ExpectMetadata(ReadOnlySpan<byte> name, ReadOnlySpan<byte> data, ReadOnlySpan<byte> expected)
    {
        Expect(name, expected);
        return ParseMetadata(data);
    }

    internal static Metadata ParseMetadata(ReadOnlySpan<byte> data)
    {
        ProtocolError error = Metadata.TryParse(data, out Metadata metadata, out string? problem);
        if (error != ProtocolError.None)
        {
            throw new ProtocolViolationException(error, problem);
        }

        return metadata;
    }

    /// <summary>Asks the application's authenticator; a missing one or one that throws refuses, so a bug never lets a client in.</summary>
    internal static void Authenticate(Authenticator? authenticator, AuthenticationRequest request, bool acceptWithoutAuthenticator)
    {
        if (authenticator is null)
        {
            if (acceptWithoutAuthenticator)
            {
                return;
            }

            throw new ProtocolViolationException(ProtocolError.AuthenticationFailed, $"no authenticator configured for {request.Mechanism}");
        }

        AuthenticationResult result;
        try
        {
            result = authenticator(request);
        }
        catch (Exception e)
        {
            throw new ProtocolViolationException(ProtocolError.AuthenticationFailed, $"authenticator failed ({e.GetType().Name})");
        }

        if (!result.Accepted)
        {
            throw new ProtocolViolationException(ProtocolError.AuthenticationFailed, result.Reason ?? "rejected");
        }
    }
}
