using System.Runtime.ExceptionServices;

namespace Engine.Tests.Interop;

/// <summary>
/// The PUSH -> PULL transfers every pairing with a foreign library must survive. Each concrete
/// fixture says who sends, who receives and (through its <see cref="BindingSide"/> argument) who
/// binds; the checks are the same for all, so a difference between pairings is a real difference.
/// </summary>
/// <remarks>
/// The sender runs on its own thread while the test thread receives: with several thousand
/// messages, or megabytes, both ends' high-water marks and the kernel buffers fill up, so sending
/// everything before receiving would block.
/// </remarks>
public abstract class PushPullInteropScenarios
{
    /// <summary>Longer than any single bounded send (10 s), so a sender that is still busy here is stuck.</summary>
    private static readonly TimeSpan SenderGrace = TimeSpan.FromSeconds(30);

    private readonly Stack<IDisposable> _owned = new();

    private protected PushPullInteropScenarios(BindingSide binder)
    {
        Binder = binder;
    }

    private protected BindingSide Binder { get; }

    /// <summary>
    /// Send and receive high-water mark for both ends, or null for each library's default (1000).
    /// Set before <see cref="Open"/>: every library reads it when a connection is made.
    /// </summary>
    private protected int? HighWaterMark { get; private set; }

    /// <summary>Creates both ends and connects them; the side named by <see cref="Binder"/> binds.</summary>
    private protected abstract (IMessageSender Sender, IMessageReceiver Receiver) Open();

    /// <summary>Registers something to dispose after the test, in reverse order (sockets before their context).</summary>
    private protected T Own<T>(T disposable)
        where T : IDisposable
    {
        _owned.Push(disposable);
        return disposable;
    }

    [TearDown]
    public void DisposeOwned()
    {
        // NUnit runs every test of a fixture on one instance: the next test starts from the defaults.
        HighWaterMark = null;
        var failures = new List<Exception>();
        while (_owned.TryPop(out IDisposable? disposable))
        {
            try
            {
                disposable.Dispose();
            }
            catch (Exception e)
            {
                failures.Add(e);
            }
        }

        if (failures.Count > 0)
        {
            throw new AggregateException("Disposing the interop sockets failed.", failures);
        }
    }

    [Test]
    public void ThousandsOfSingleFrameMessagesArriveIntactAndInOrder() => Transfer(Payloads.SingleFrames(5000));

    [Test]
    public void MultipartMessagesWithEmptyFramesArriveWholeAndInOrder() => Transfer(Payloads.Multipart(300));

    [Test]
    public void OneMebibyteFramesArriveByteExact() => Transfer(Payloads.Large());

    /// <summary>
    /// With room for only two messages per pipe both ends keep stopping and resuming (our receive
    /// loop parks mid-stream with a partial frame buffered, our send loop waits for the socket);
    /// nothing may be lost, repeated or reordered on the way.
    /// </summary>
    [Test]
    public void TinyHighWaterMarksThrottleWithoutLossOrReorder()
    {
        HighWaterMark = 2;
        Transfer(Payloads.Multipart(300));
    }

    private void Transfer(byte[][][] messages)
    {
        (IMessageSender sender, IMessageReceiver receiver) = Open();

        // [CancelAfter] only cancels this token; both loops watch it so a slow run ends as a failure.
        CancellationToken testCancelled = TestContext.CurrentContext.CancellationToken;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(testCancelled);
        Task sending = Task.Factory.StartNew(
            () =>
            {
                foreach (byte[][] message in messages)
                {
                    if (stop.IsCancellationRequested)
                    {
                        return;
                    }

                    sender.SendMessage(message);
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        Exception? receiveFailure = null;
        try
        {
            for (int i = 0; i < messages.Length; i++)
            {
                if (testCancelled.IsCancellationRequested)
                {
                    Assert.Fail($"The test's time ran out after {i} of {messages.Length} messages.");
                }

                Payloads.AssertMessage(i, messages[i], receiver.ReceiveMessage());
            }
        }
        catch (Exception e)
        {
            receiveFailure = e;
            stop.Cancel();
        }

        // The sender must be off its socket before TearDown disposes it (a libzmq socket used by two
        // threads at once is undefined behaviour).
        try
        {
            sending.Wait(SenderGrace);
        }
        catch (AggregateException)
        {
            // Reported below, together with what the receiver saw.
        }

        if (!sending.IsCompleted)
        {
            Assert.Fail($"The sender was still blocked {SenderGrace.TotalSeconds:0} s after the receiver stopped ({receiveFailure?.Message ?? "all received"}).");
        }

        if (sending.IsFaulted)
        {
            Exception sendFailure = sending.Exception!.GetBaseException();
            Assert.Fail($"The sender failed: {sendFailure}" + (receiveFailure is null ? "" : $"\nThe receiver then failed: {receiveFailure.Message}"));
        }

        if (receiveFailure is not null)
        {
            ExceptionDispatchInfo.Throw(receiveFailure);
        }
    }
}
