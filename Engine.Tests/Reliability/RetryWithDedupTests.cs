using Engine.Reliability;

namespace Engine.Tests.Reliability;

public class RetryWithDedupTests
{
    [Test]
    public void DuplicateFilterAcceptsEachIdOnceAndToleratesReordering()
    {
        var filter = new DuplicateFilter(window: 1024);
        Assert.That(filter.TryAccept(5), Is.True);
        Assert.That(filter.TryAccept(5), Is.False);
        Assert.That(filter.TryAccept(3), Is.True, "out of order, still first time");
        for (long id = 0; id < 100_000; id++)
        {
            if (id is 3 or 5)
            {
                continue;
            }

            Assert.That(filter.TryAccept(id), Is.True);
        }

        Assert.That(filter.TryAccept(99_990), Is.False, "a late retry inside the window is a duplicate");
        Assert.That(filter.TryAccept(10), Is.False, "an id older than the window counts as seen");
        Assert.That(filter.Accepted, Is.EqualTo(100_000));
        Assert.That(filter.Duplicates, Is.EqualTo(3));
    }

    [Test]
    public void DuplicateFilterRejectsABadWindow()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new DuplicateFilter(100));
        Assert.That(error!.Message, Does.Contain("power of two"));
    }

    [Test]
    public void RetryTrackerResendsOnlyWhatWasNotAcknowledgedInTime()
    {
        var tracker = new RetryTracker<string>(TimeSpan.FromMilliseconds(100), capacity: 3);
        Assert.That(tracker.TryTrack(1, "a", nowTicks: 0), Is.True);
        Assert.That(tracker.TryTrack(2, "b", nowTicks: 0), Is.True);
        Assert.That(tracker.TryTrack(3, "c", nowTicks: 50), Is.True);
        Assert.That(tracker.TryTrack(4, "d", nowTicks: 50), Is.False, "capacity is back-pressure");
        Assert.That(tracker.Acknowledge(2), Is.True);
        Assert.That(tracker.Acknowledge(2), Is.False);

        var due = new List<(long, string)>();
        Assert.That(tracker.CollectDue(120, due), Is.EqualTo(1));
        Assert.That(due, Is.EqualTo(new[] { (1L, "a") }));
        due.Clear();
        Assert.That(tracker.CollectDue(160, due), Is.EqualTo(1), "id 3 is now due; id 1's clock was restarted");
        Assert.That(due, Is.EqualTo(new[] { (3L, "c") }));
        Assert.That(tracker.Retried, Is.EqualTo(2));
        Assert.That(tracker.Outstanding, Is.EqualTo(2));
    }
}
