using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Engine.Tests;

[TestFixture]
public class SocketOptionsTests
{
    [Test]
    public void DefaultsAreTheDocumentedOnes()
    {
        var options = new SocketOptions();

        Assert.That(options.SendHighWatermark, Is.EqualTo(1000));
        Assert.That(options.ReceiveHighWatermark, Is.EqualTo(1000));
        Assert.That(options.SendTimeout, Is.EqualTo(Timeout.InfiniteTimeSpan));
        Assert.That(options.ReceiveTimeout, Is.EqualTo(Timeout.InfiniteTimeSpan));
        Assert.That(options.ReconnectInterval, Is.EqualTo(TimeSpan.FromMilliseconds(100)));
        Assert.That(options.ReconnectIntervalMax, Is.EqualTo(TimeSpan.FromSeconds(1)));
        Assert.That(options.HandshakeTimeout, Is.EqualTo(TimeSpan.FromSeconds(10)));
        Assert.That(options.ConnectTimeout, Is.EqualTo(TimeSpan.FromSeconds(5)));
        Assert.That(options.Linger, Is.EqualTo(TimeSpan.FromSeconds(5)));
        Assert.That(options.MaxMessageSize, Is.EqualTo(-1));
        Assert.That(options.MaxBufferedBytes, Is.EqualTo(64L * 1024 * 1024));
        Assert.That(options.MaxFramesPerMessage, Is.EqualTo(1024));
        Assert.That(options.MaxConnections, Is.EqualTo(1024));
        Assert.That(options.SendBufferSize, Is.Zero);
        Assert.That(options.ReceiveBufferSize, Is.Zero);
        Assert.That(options.Identity, Is.Null);
        Assert.That(options.Logger, Is.SameAs(NullLogger.Instance));
    }

    private static ArgumentOutOfRangeException OutOfRange(Action set, string name)
    {
        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => set());
        Assert.That(exception!.ParamName, Is.EqualTo(name));
        return exception;
    }

    [TestCase(nameof(SocketOptions.SendHighWatermark))]
    [TestCase(nameof(SocketOptions.ReceiveHighWatermark))]
    [TestCase(nameof(SocketOptions.SendBufferSize))]
    [TestCase(nameof(SocketOptions.ReceiveBufferSize))]
    public void NegativeCountsAreRefusedWithZeroOrMore(string property)
    {
        var options = new SocketOptions();
        var setter = typeof(SocketOptions).GetProperty(property)!;

        var exception = Assert.Throws<System.Reflection.TargetInvocationException>(() => setter.SetValue(options, -1))!.InnerException;

        Assert.That(exception, Is.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(exception!.Message, Does.Contain($"{property} must be 0 or more."));
        Assert.That(((ArgumentOutOfRangeException)exception).ActualValue, Is.EqualTo(-1));
        Assert.That(setter.GetValue(options), Is.Not.EqualTo(-1), "a refused value is not stored");
    }

    [Test]
    public void ZeroHighWatermarksMeanNoLimitAndAreAccepted()
    {
        var options = new SocketOptions { SendHighWatermark = 0, ReceiveHighWatermark = 0 };

        Assert.That(options.SendHighWatermark, Is.Zero);
        Assert.That(options.ReceiveHighWatermark, Is.Zero);
    }

    [Test]
    public void ANegativeHighWatermarkSaysWhatIsAllowed()
    {
        var options = new SocketOptions();

        ArgumentOutOfRangeException exception = OutOfRange(() => options.SendHighWatermark = -5, nameof(SocketOptions.SendHighWatermark));

        Assert.That(exception.Message, Does.Contain("SendHighWatermark must be 0 or more."));
        Assert.That(options.SendHighWatermark, Is.EqualTo(1000));
    }

    [Test]
    public void TimeoutsAcceptZeroPositiveAndInfinite()
    {
        var options = new SocketOptions
        {
            SendTimeout = TimeSpan.Zero,
            ReceiveTimeout = TimeSpan.FromSeconds(3),
            Linger = Timeout.InfiniteTimeSpan,
        };

        Assert.That(options.SendTimeout, Is.EqualTo(TimeSpan.Zero));
        Assert.That(options.ReceiveTimeout, Is.EqualTo(TimeSpan.FromSeconds(3)));
        Assert.That(options.Linger, Is.EqualTo(Timeout.InfiniteTimeSpan));
    }

    [Test]
    public void NegativeTimeoutsOtherThanInfiniteAreRefused()
    {
        var options = new SocketOptions();
        TimeSpan bad = TimeSpan.FromMilliseconds(-2);

        foreach ((Action set, string name) in new (Action, string)[]
        {
            (() => options.SendTimeout = bad, nameof(SocketOptions.SendTimeout)),
            (() => options.ReceiveTimeout = bad, nameof(SocketOptions.ReceiveTimeout)),
            (() => options.Linger = bad, nameof(SocketOptions.Linger)),
        })
        {
            Assert.That(OutOfRange(set, name).Message, Does.Contain($"{name} must be zero or more, or Timeout.InfiniteTimeSpan."));
        }
    }

    [Test]
    public void IntervalsMustBeGreaterThanZero()
    {
        var options = new SocketOptions();

        foreach (TimeSpan bad in new[] { TimeSpan.Zero, TimeSpan.FromSeconds(-1), Timeout.InfiniteTimeSpan })
        {
            foreach ((Action set, string name) in new (Action, string)[]
            {
                (() => options.ReconnectInterval = bad, nameof(SocketOptions.ReconnectInterval)),
                (() => options.ReconnectIntervalMax = bad, nameof(SocketOptions.ReconnectIntervalMax)),
                (() => options.HandshakeTimeout = bad, nameof(SocketOptions.HandshakeTimeout)),
                (() => options.ConnectTimeout = bad, nameof(SocketOptions.ConnectTimeout)),
            })
            {
                Assert.That(OutOfRange(set, name).Message, Does.Contain($"{name} must be greater than zero."), $"{name} = {bad}");
            }
        }
    }

    [TestCase(0L)]
    [TestCase(-2L)]
    [TestCase(long.MinValue)]
    public void MaxMessageSizeIsMinusOneOrPositive(long bad)
    {
        var options = new SocketOptions();

        ArgumentOutOfRangeException exception = OutOfRange(() => options.MaxMessageSize = bad, nameof(SocketOptions.MaxMessageSize));

        Assert.That(exception.Message, Does.Contain("MaxMessageSize must be -1 (no limit) or a positive number of bytes."));
        options.MaxMessageSize = 1;
        options.MaxMessageSize = -1;
        Assert.That(options.MaxMessageSize, Is.EqualTo(-1));
    }

    [Test]
    public void IdentityMustBeOneTo255BytesNotStartingWithZero()
    {
        var options = new SocketOptions();

        foreach (byte[] bad in new[] { Array.Empty<byte>(), new byte[256], new byte[] { 0, 1, 2 } })
        {
            var exception = Assert.Throws<ArgumentException>(() => options.Identity = bad);
            Assert.That(exception!.Message, Does.Contain("Identity must be 1 to 255 bytes and must not start with a zero byte."), $"{bad.Length} bytes");
            Assert.That(exception.ParamName, Is.EqualTo(nameof(SocketOptions.Identity)));
        }

        options.Identity = Enumerable.Repeat((byte)'x', 255).ToArray();
        Assert.That(options.Identity, Has.Length.EqualTo(255));
        options.Identity = null;
        Assert.That(options.Identity, Is.Null);
    }

    [Test]
    public void IdentityIsCopiedSoLaterChangesToTheCallersArrayDoNotLeakIn()
    {
        byte[] identity = "peer-1"u8.ToArray();
        var options = new SocketOptions { Identity = identity };

        identity[0] = (byte)'X';

        Assert.That(options.Identity, Is.EqualTo("peer-1"u8.ToArray()));
    }

    [Test]
    public void ANullLoggerPointsToNullLoggerInstance()
    {
        var options = new SocketOptions();

        var exception = Assert.Throws<ArgumentNullException>(() => options.Logger = null!);

        Assert.That(exception!.Message, Does.Contain("use NullLogger.Instance to discard"));
        Assert.That(options.Logger, Is.InstanceOf<ILogger>());
    }

    [Test]
    public void ToMillisecondsMapsInfiniteToMinusOneAndClampsLargeValues()
    {
        Assert.That(SocketOptions.ToMilliseconds(Timeout.InfiniteTimeSpan), Is.EqualTo(Timeout.Infinite));
        Assert.That(SocketOptions.ToMilliseconds(TimeSpan.Zero), Is.Zero);
        Assert.That(SocketOptions.ToMilliseconds(TimeSpan.FromMilliseconds(1.7)), Is.EqualTo(1));
        Assert.That(SocketOptions.ToMilliseconds(TimeSpan.FromDays(100)), Is.EqualTo(int.MaxValue));
        Assert.That(SocketOptions.ToMilliseconds(TimeSpan.MaxValue), Is.EqualTo(int.MaxValue));
    }
}
