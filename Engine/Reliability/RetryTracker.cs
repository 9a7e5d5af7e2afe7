namespace Engine.Reliability;

/// <summary>
/// The sending half of retry-with-dedup: remembers what was sent and not yet acknowledged, and
/// says what to send again after a timeout. Together with <see cref="DuplicateFilter"/> on the
/// receiving end this closes the gap no transport can close alone: messages that were already in
/// a crashed peer's kernel buffers or memory.
/// </summary>
/// <remarks>
/// A message is retried at most every <see cref="RetryAfter"/> until acknowledged. Bounded by
/// <c>capacity</c>: <see cref="TryTrack"/> refuses when that many are outstanding (back-pressure).
/// Not thread-safe; the sender and the acknowledgement reader share it under their own lock or
/// on one thread.
/// </remarks>
public sealed class RetryTracker<T>
{
    private readonly Dictionary<long, Entry> _outstanding;
    private readonly int _capacity;

    public RetryTracker(TimeSpan retryAfter, int capacity = 1 << 20)
    {
        if (retryAfter <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(retryAfter), retryAfter, "retryAfter must be greater than zero.");
        }

        if (capacity <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "capacity must be positive.");
        }

        RetryAfter = retryAfter;
        _capacity = capacity;
        _outstanding = new Dictionary<long, Entry>(Math.Min(capacity, 1 << 16));
    }

    /// <summary>How long a message may stay unacknowledged before it is due again.</summary>
    public TimeSpan RetryAfter { get; }

    /// <summary>Sent, not yet acknowledged.</summary>
    public int Outstanding => _outstanding.Count;

    /// <summary>Messages that needed at least one retry.</summary>
    public long Retried { get; private set; }

    /// <summary>Records that <paramref name="id"/> was sent now, with what is needed to send it again.</summary>
    public bool TryTrack(long id, T payload, long nowTicks)
    {
        if (_outstanding.Count >= _capacity)
        {
            return false;
        }

        _outstanding[id] = new Entry(payload, nowTicks, 0);
        return true;
    }

    /// <summary>The receiver confirmed <paramref name="id"/>; true the first time.</summary>
    public bool Acknowledge(long id) => _outstanding.Remove(id);

    /// <summary>Collects what is due for a retry at <paramref name="nowTicks"/> (Environment.TickCount64) and restarts their clocks.</summary>
    public int CollectDue(long nowTicks, List<(long Id, T Payload)> due, int max = int.MaxValue)
    {
        long limit = (long)RetryAfter.TotalMilliseconds;
        int found = 0;
        foreach (KeyValuePair<long, Entry> pair in _outstanding)
        {
            if (found >= max)
            {
                break;
            }

            if (nowTicks - pair.Value.SentAt >= limit)
            {
                due.Add((pair.Key, pair.Value.Payload));
                found++;
            }
        }

        for (int i = due.Count - found; i < due.Count; i++)
        {
            long id = due[i].Id;
            Entry entry = _outstanding[id];
            if (entry.Attempts == 0)
            {
                Retried++;
            }

            _outstanding[id] = entry with { SentAt = nowTicks, Attempts = entry.Attempts + 1 };
        }

        return found;
    }

    private readonly record struct Entry(T Payload, long SentAt, int Attempts);
}
