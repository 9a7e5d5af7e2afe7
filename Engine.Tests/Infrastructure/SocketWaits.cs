using Engine.Sockets;

namespace Engine.Tests.Infrastructure;

internal static class SocketWaits
{
    /// <summary>Waits until the socket has <paramref name="count"/> connections with a completed or running handshake.</summary>
    internal static void WaitForSessions(this MessageSocket socket, int count, TimeSpan? timeout = null) =>
        Deadline.WaitUntil(() => socket.SessionCount >= count, $"{socket.Type} to have {count} connection(s) (has {socket.SessionCount})", timeout);

    /// <summary>Waits until <paramref name="count"/> connections have completed their handshake.</summary>
    internal static void WaitForConnected(this MessageSocket socket, int count, TimeSpan? timeout = null) =>
        Deadline.WaitUntil(() => socket.ConnectedCount >= count, $"{socket.Type} to have {count} connected peer(s) (has {socket.ConnectedCount})", timeout);
}
