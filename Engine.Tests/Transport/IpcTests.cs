using Engine.Sockets;

namespace Engine.Tests.Transport;

[TestFixture]
[CancelAfter(60_000)]
public class IpcTests
{
    [Test]
    public void PushPullOverAUnixDomainSocket()
    {
        string path = Path.Combine(Path.GetTempPath(), $"engine-{Guid.NewGuid():N}.sock");
        try
        {
            using var pull = new PullSocket(new SocketOptions { ReceiveTimeout = TimeSpan.FromSeconds(10) });
            string bound = pull.Bind("ipc://" + path);
            Assert.That(bound, Is.EqualTo("ipc://" + path));
            using var push = new PushSocket();
            push.Connect("ipc://" + path);
            for (int i = 0; i < 1000; i++)
            {
                push.Send(BitConverter.GetBytes(i));
            }

            for (int i = 0; i < 1000; i++)
            {
                Assert.That(BitConverter.ToInt32(pull.ReceiveBytes()), Is.EqualTo(i));
            }
        }
        finally
        {
            File.Delete(path);
        }
    }
}
