namespace Engine.Reliability;

/// <summary>
/// Says whether a sequence number is seen for the first time, for receivers of a retrying sender
/// (at-least-once delivery becomes exactly-once for the application).
/// </summary>
/// <remarks>
/// Keeps every id below a moving floor as "seen" and a bitmap above it, so memory stays bounded
/// by the spread of ids in flight, not by how many were ever received. Ids are expected to be
/// roughly increasing (a retry comes back within <see cref="Window"/> of the newest id); an id
/// older than the window counts as a duplicate, the safe answer for a late retry. Not thread-safe.
/// </remarks>
public sealed class DuplicateFilter
{
    private readonly ulong[] _bits;
    private long _floor;
    private long _highest = -1;

    /// <param name="window">How far behind the newest id a first delivery may still arrive. Defaults to 1,048,576.</param>
    public DuplicateFilter(int window = 1 << 20)
    {
        if (window < 64 || (window & (window - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(window), window, "window must be a power of two, at least 64.");
        }

        Window = window;
        _bits = new ulong[window / 64];
    }

    /// <summary>The tolerated reordering, in ids.</summary>
    public int Window { get; }

    /// <summary>Distinct ids accepted so far.</summary>
    public long Accepted { get; private set; }

    /// <summary>Ids refused as duplicates so far.</summary>
    public long Duplicates { get; private set; }

    /// <summary>True the first time <paramref name="id"/> (0 or more) is offered; false for a repeat.</summary>
    public bool TryAccept(long id)
    {
        if (id < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, "ids start at 0.");
        }

        if (id < _floor)
        {
            Duplicates++;
            return false;
        }

        if (id >= _floor + Window)
        {
            Advance(id - Window + 1);
        }

        long slot = id & (Window - 1);
        ulong mask = 1UL << (int)(slot & 63);
        ref ulong word = ref _bits[slot >> 6];
        if ((word & mask) != 0)
        {
            Duplicates++;
            return false;
        }

        word |= mask;
        Accepted++;
        _highest = Math.Max(_highest, id);
        return true;
    }

    /// <summary>Moves the floor up, forgetting the bits of ids that fall below it (they count as seen).</summary>
    private void Advance(long newFloor)
    {
        long clear = Math.Min(newFloor - _floor, Window);
        for (long i = 0; i < clear; i++)
        {
            long slot = (_floor + i) & (Window - 1);
            _bits[slot >> 6] &= ~(1UL << (int)(slot & 63));
        }

        _floor = newFloor;
    }
}
