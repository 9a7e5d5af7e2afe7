using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Engine.Diagnostics;

/// <summary>
/// Fans a socket's events out to the logger and to whoever reads <see cref="Reader"/>.
/// Events are rare (connects, failures), so a bounded channel that drops the oldest is enough:
/// a monitor nobody reads can never hold the socket back.
/// </summary>
internal sealed class SocketMonitor
{
    private readonly Channel<MonitorEvent> _channel = Channel.CreateBounded<MonitorEvent>(
        new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = false, SingleWriter = false });

    private readonly ILogger _logger;

    internal SocketMonitor(ILogger logger)
    {
        _logger = logger;
    }

    internal ChannelReader<MonitorEvent> Reader => _channel.Reader;

    internal void Raise(MonitorEventKind kind, string endpoint, string? reason = null)
    {
        var monitorEvent = new MonitorEvent(kind, endpoint, reason, DateTime.UtcNow);
        _channel.Writer.TryWrite(monitorEvent);
        LogLevel level = kind switch
        {
            MonitorEventKind.HandshakeFailed or MonitorEventKind.ProtocolError or MonitorEventKind.BindFailed or MonitorEventKind.DirectoryUnreachable => LogLevel.Warning,
            MonitorEventKind.Disconnected => LogLevel.Information,
            _ => LogLevel.Debug,
        };
        if (_logger.IsEnabled(level))
        {
            _logger.Log(level, "{Event}", monitorEvent.ToString());
        }
    }

    internal void Complete() => _channel.Writer.TryComplete();
}
