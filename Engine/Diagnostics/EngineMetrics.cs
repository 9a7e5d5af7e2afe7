using System.Diagnostics.Metrics;

namespace Engine.Diagnostics;

/// <summary>
/// Counters readable with <c>dotnet-counters monitor --counters Engine</c>. Connection loops add
/// per batch, not per message, so an unobserved meter costs nothing measurable.
/// </summary>
internal static class EngineMetrics
{
    internal static readonly Meter Meter = new("Engine", "0.1");

    internal static readonly Counter<long> MessagesSent = Meter.CreateCounter<long>("engine.messages.sent", "{message}", "Messages written to connections.");
    internal static readonly Counter<long> MessagesReceived = Meter.CreateCounter<long>("engine.messages.received", "{message}", "Messages read from connections.");
    internal static readonly Counter<long> BytesSent = Meter.CreateCounter<long>("engine.bytes.sent", "By", "Bytes written to connections (framing included).");
    internal static readonly Counter<long> BytesReceived = Meter.CreateCounter<long>("engine.bytes.received", "By", "Bytes read from connections (framing included).");
    internal static readonly Counter<long> Reconnects = Meter.CreateCounter<long>("engine.reconnects", "{attempt}", "Reconnect attempts.");
    internal static readonly Counter<long> Rerouted = Meter.CreateCounter<long>("engine.messages.rerouted", "{message}", "Messages taken back from a departed peer and sent to another.");
    internal static readonly Counter<long> Dropped = Meter.CreateCounter<long>("engine.messages.dropped", "{message}", "Messages dropped by design (PUB at HWM, ROUTER unknown id).");
    internal static readonly ObservableGauge<long> QueueDepth = Meter.CreateObservableGauge(
        "engine.queue.depth",
        static () => Sockets.MessageSocket.TotalQueued(),
        "{message}",
        "Whole messages waiting in pipes (both directions) across every open socket.");

    internal static readonly Counter<long> PeersDead = Meter.CreateCounter<long>("engine.peers.dead", "{peer}", "Peers declared dead by heartbeat.");
}
