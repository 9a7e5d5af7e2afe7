namespace Engine.Buffers;

/// <summary>
/// Gives back the references of frames consumed one after another, one atomic operation per run
/// of frames that share a buffer (a stream of small frames is mostly one slab), instead of one per frame.
/// </summary>
/// <remarks>A local of one loop: nothing is released until <see cref="Flush"/>.</remarks>
internal struct ReleaseRun
{
    private MsgBuffer? _buffer;
    private int _count;

    /// <summary>Takes over the reference of a frame whose bytes are no longer needed.</summary>
    internal void Add(MsgBuffer? buffer)
    {
        if (buffer != _buffer)
        {
            Flush();
            _buffer = buffer;
        }

        _count++;
    }

    /// <summary>Releases the references gathered so far.</summary>
    internal void Flush()
    {
        _buffer?.Release(_count);
        _buffer = null;
        _count = 0;
    }
}
