using System.Diagnostics;
using Engine.Pipes;

namespace Engine.Tests.Pipes;

[TestFixture]
[CancelAfter(30_000)]
public class WaiterTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static Thread StartThread(Action action, string name)
    {
        var thread = new Thread(() => action()) { Name = name, IsBackground = true };
        thread.Start();
        return thread;
    }

    [Test]
    public void SignalBeforeWaitMakesTheWaitReturnAtOnce()
    {
        var waiter = new Waiter();
        waiter.Signal();

        var clock = Stopwatch.StartNew();
        bool signaled = waiter.Wait((int)Patience.TotalMilliseconds);

        Assert.That(signaled, Is.True);
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(1)));
    }

    [Test]
    public void ASignalIsConsumedByOneWait()
    {
        var waiter = new Waiter();
        waiter.Signal();

        Assert.That(waiter.Wait(0), Is.True);
        Assert.That(waiter.Wait(0), Is.False);
    }

    [Test]
    public void WakeAfterPrepareButBeforeWaitIsNotLost()
    {
        var waiter = new Waiter();
        waiter.Prepare();
        waiter.Wake();

        Assert.That(waiter.Wait(0), Is.True);
    }

    [Test]
    public void WakeWithNobodyParkedDoesNothingAndDoesNotBlockLaterWaitsForever()
    {
        var waiter = new Waiter();

        waiter.Wake();
        Assert.That(waiter.Wait(0), Is.False, "a wake nobody asked for leaves no signal behind");

        waiter.Prepare();
        Thread waker = StartThread(waiter.Wake, "waker");
        bool signaled = waiter.Wait((int)Patience.TotalMilliseconds);

        Assert.That(signaled, Is.True, "a later wait is released by a later wake");
        Assert.That(waker.Join(Patience), Is.True);
    }

    [Test]
    public void WakeAfterCancelIsIgnored()
    {
        var waiter = new Waiter();
        waiter.Prepare();
        waiter.Cancel();

        waiter.Wake();

        Assert.That(waiter.Wait(0), Is.False);
    }

    [Test]
    public void OnlyTheFirstOfSeveralWakesSignals()
    {
        var waiter = new Waiter();
        waiter.Prepare();

        waiter.Wake();
        waiter.Wake();

        Assert.That(waiter.Wait(0), Is.True);
        Assert.That(waiter.Wait(0), Is.False, "the parked flag was cleared by the first wake");
    }

    [Test]
    public void SyncWaitTimesOutAndReturnsFalse()
    {
        var waiter = new Waiter();
        waiter.Prepare();

        var clock = Stopwatch.StartNew();
        bool signaled = waiter.Wait(50);

        Assert.That(signaled, Is.False);
        Assert.That(clock.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(40)), "waited about as long as asked");
        Assert.That(clock.Elapsed, Is.LessThan(Patience));
    }

    [Test]
    public void ATimedOutWaitLeavesTheWaiterUnparked()
    {
        var waiter = new Waiter();
        waiter.Prepare();
        Assert.That(waiter.Wait(1), Is.False);

        waiter.Wake();

        Assert.That(waiter.Wait(0), Is.False, "a wake after the wait gave up is not a signal for the next one");
    }

    [Test]
    public void AWakeFromAnotherThreadReleasesABlockedWait()
    {
        var waiter = new Waiter();
        using var aboutToWait = new ManualResetEventSlim();
        bool signaled = false;
        Thread consumer = StartThread(
            () =>
            {
                waiter.Prepare();
                aboutToWait.Set();
                signaled = waiter.Wait((int)Patience.TotalMilliseconds);
            },
            "consumer");

        Assert.That(aboutToWait.Wait(Patience), Is.True);
        waiter.Wake();

        Assert.That(consumer.Join(Patience + Patience), Is.True);
        Assert.That(signaled, Is.True);
    }

    [Test]
    public void WakeUpsAreNeverLostOverManyRoundTrips()
    {
        // Ping-pong: each side publishes a counter and wakes the other, using Prepare -> re-check -> Wait.
        const int rounds = 20_000;
        var toConsumer = new Waiter();
        var toProducer = new Waiter();
        long produced = 0;
        long consumed = 0;
        var clock = Stopwatch.StartNew();
        string? failure = null;

        bool WaitFor(Waiter waiter, Func<bool> condition)
        {
            for (int attempt = 0; !condition(); attempt++)
            {
                waiter.Prepare();
                if (condition())
                {
                    waiter.Cancel();
                    return true;
                }

                waiter.Wait(250);
                if (clock.Elapsed > Patience || Volatile.Read(ref failure) is not null)
                {
                    return false;
                }
            }

            return true;
        }

        Thread consumer = StartThread(
            () =>
            {
                for (long i = 1; i <= rounds; i++)
                {
                    if (!WaitFor(toConsumer, () => Volatile.Read(ref produced) >= i))
                    {
                        failure ??= $"consumer stuck waiting for item {i}";
                        return;
                    }

                    Interlocked.Exchange(ref consumed, i);
                    toProducer.Wake();
                }
            },
            "consumer");

        for (long i = 1; i <= rounds; i++)
        {
            Interlocked.Exchange(ref produced, i);
            toConsumer.Wake();
            if (!WaitFor(toProducer, () => Volatile.Read(ref consumed) >= i))
            {
                failure ??= $"producer stuck waiting for item {i} to be consumed";
                break;
            }
        }

        Assert.That(consumer.Join(Patience + Patience), Is.True);
        Assert.That(failure, Is.Null);
        Assert.That(Volatile.Read(ref consumed), Is.EqualTo(rounds));
    }

    [Test]
    public void WaitAsyncWithAnAlreadyCanceledTokenThrowsOperationCanceledException()
    {
        var waiter = new Waiter();
        waiter.Prepare();

        Assert.ThrowsAsync<OperationCanceledException>(async () => await waiter.WaitAsync(new CancellationToken(canceled: true)));
    }

    [Test]
    public void WaitAsyncThrowsOperationCanceledExceptionWhenTheTokenFiresWhileWaiting()
    {
        var waiter = new Waiter();
        using var source = new CancellationTokenSource();
        waiter.Prepare();
        ValueTask wait = waiter.WaitAsync(source.Token);
        Assert.That(wait.IsCompleted, Is.False);

        source.Cancel();

        var exception = Assert.ThrowsAsync<OperationCanceledException>(async () => await wait.AsTask().WaitAsync(Patience));
        Assert.That(exception!.CancellationToken, Is.EqualTo(source.Token));
    }

    [Test]
    public async Task AWaiterIsReusableAfterACanceledWaitAsync()
    {
        var waiter = new Waiter();
        using (var source = new CancellationTokenSource())
        {
            ValueTask canceled = waiter.WaitAsync(source.Token);
            source.Cancel();
            Assert.ThrowsAsync<OperationCanceledException>(async () => await canceled);
        }

        waiter.Prepare();
        ValueTask wait = waiter.WaitAsync(CancellationToken.None);
        waiter.Wake();

        await wait.AsTask().WaitAsync(Patience);
        Assert.That(waiter.Wait(0), Is.False, "the wake was consumed by the async wait");
    }

    [Test]
    public void WaitAsyncAfterASignalCompletesSynchronously()
    {
        var waiter = new Waiter();
        waiter.Signal();

        ValueTask wait = waiter.WaitAsync(CancellationToken.None);

        Assert.That(wait.IsCompletedSuccessfully, Is.True);
    }

    [Test]
    public async Task WaitAsyncCompletesWhenWokenFromAnotherThread()
    {
        var waiter = new Waiter();
        waiter.Prepare();
        ValueTask wait = waiter.WaitAsync(CancellationToken.None);

        Thread waker = StartThread(waiter.Wake, "waker");

        await wait.AsTask().WaitAsync(Patience);
        Assert.That(waker.Join(Patience), Is.True);
    }

    [Test]
    public async Task ACanceledTokenFromAnEarlierWaitDoesNotCancelALaterOne()
    {
        var waiter = new Waiter();
        using var first = new CancellationTokenSource();
        ValueTask earlier = waiter.WaitAsync(first.Token);
        waiter.Signal();
        await earlier.AsTask().WaitAsync(Patience);

        ValueTask later = waiter.WaitAsync(CancellationToken.None);
        first.Cancel();
        Assert.That(later.IsCompleted, Is.False, "the old registration was disposed with the earlier wait");

        waiter.Signal();
        await later.AsTask().WaitAsync(Patience);
    }
}
