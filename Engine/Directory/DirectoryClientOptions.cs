using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Engine.Directory;

/// <summary>Timing of a <see cref="DirectoryClient"/>. The defaults suit a LAN; tests shorten them.</summary>
public sealed class DirectoryClientOptions
{
    private TimeSpan _requestTimeout = TimeSpan.FromSeconds(2);
    private TimeSpan _probeInterval = TimeSpan.FromSeconds(1);
    private TimeSpan _watchLease = TimeSpan.FromSeconds(10);
    private TimeSpan _defaultLease = TimeSpan.FromSeconds(10);

    /// <summary>How long a request waits for answers. Defaults to 2 s.</summary>
    public TimeSpan RequestTimeout
    {
        get => _requestTimeout;
        set => _requestTimeout = Positive(value, nameof(RequestTimeout));
    }

    /// <summary>
    /// A server silent this long is sent a PING; silent for this plus <see cref="RequestTimeout"/>,
    /// it is declared unreachable. Also the heartbeat interval of the connection. Defaults to 1 s.
    /// </summary>
    public TimeSpan ProbeInterval
    {
        get => _probeInterval;
        set => _probeInterval = Positive(value, nameof(ProbeInterval));
    }

    /// <summary>
    /// How long a server keeps a watch without renewal (renewed at a third of it). Each renewal
    /// returns the full current set, which repairs any change push that was lost. Defaults to 10 s.
    /// </summary>
    public TimeSpan WatchLease
    {
        get => _watchLease;
        set => _watchLease = ValidLease(value, nameof(WatchLease));
    }

    /// <summary>The lease of registrations made by <c>Bind(endpoint, registerAs)</c> without one. Defaults to 10 s.</summary>
    public TimeSpan DefaultLease
    {
        get => _defaultLease;
        set => _defaultLease = ValidLease(value, nameof(DefaultLease));
    }

    /// <summary>Where server status changes are logged. Defaults to a logger that discards.</summary>
    public ILogger Logger { get; set; } = NullLogger.Instance;

    private static TimeSpan Positive(TimeSpan value, string name) =>
        value > TimeSpan.Zero && value <= TimeSpan.FromHours(1)
            ? value
            : throw new ArgumentOutOfRangeException(name, value, $"{name} must be more than zero and at most 1 h.");

    private static TimeSpan ValidLease(TimeSpan value, string name) =>
        DirectoryProtocol.LeaseProblem(value) is { } problem ? throw new ArgumentOutOfRangeException(name, value, $"{name}: {problem}.") : value;
}
