using Engine.Sockets;

namespace Engine.Tests.Infrastructure;

internal static class SocketWaits
{
    /// <summary>Waits until the socket has <paramref name="count"/> connections with a completed or running handshake.</summary>
    internal static void WaitForSessions(this MessageSocket socket, int count, TimeSpan? timeout = null) =>
        Deadline.WaitUntil(() => socket.SessionCount >= count, $"{socket.Type} to have {count} connection(s) (has {socket.SessionCount})", timeout);
}
