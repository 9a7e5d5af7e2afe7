using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Engine.Buffers;

namespace Engine.Pipes;

/// <summary>
/// A lock-free single-producer/single-consumer queue of frames with an exact high-water mark
/// counted in whole messages.
/// </summary>
/// <remarks>
/// <para>Frames live in linked chunks of 256 slots, so any HWM (or none) works without a resize; the
/// chunk the reader leaves becomes the writer's spare, so a steady stream allocates nothing.</para>
/// <para>The writer stages frames with <see cref="Write"/> and makes them visible with
/// <see cref="Flush"/> (one fenced store per batch). Callers flush only at message boundaries, so a
/// reader never sees part of a multipart message. The reader publishes how many messages it has
/// taken every few messages and whenever it finds the pipe empty (<see cref="CommitRead"/>); the
/// writer re-reads that count only when its cached copy says the pipe is full. HWM is therefore
/// exact: a pipe never holds more than HWM whole messages (unlike libzmq, whose HWM is approximate),
/// and a writer may briefly see the pipe fuller than it is.</para>
/// <para>Field groups are padded apart so that the writer's and the reader's hot fields never
/// share a cache line.</para>
/// </remarks>
[StructLayout(LayoutKind.Explicit)]
[DebuggerDisplay("MessagePipe hwm={_hwm} written={_writePosition} read={_readPosition}")]
internal sealed class MessagePipe
{
    private const int ChunkSize = 256;
    private const int ChunkMask = ChunkSize - 1;

    // writer-only
    [FieldOffset(0)] private Chunk _writeChunk;
    [FieldOffset(8)] private long _writePosition;
    [FieldOffset(16)] private long _lastPublished;
    [FieldOffset(24)] private long _messagesWritten;
    [FieldOffset(32)] private long _cachedMessagesRead;
    [FieldOffset(40)] private int _hwm;

    // shared: written by the writer, read by the reader
    [FieldOffset(128)] private long _published;

    // shared: written by the reader, read by the writer
    [FieldOffset(192)] private long _messagesRead;
    [FieldOffset(200)] private Chunk?[] _spares;

    // reader-only
    [FieldOffset(256)] private Chunk _readChunk;
    [FieldOffset(264)] private long _readPosition;
    [FieldOffset(272)] private long _cachedPublished;
    [FieldOffset(280)] private long _messagesReadLocal;
    [FieldOffset(288)] private int _readsSinceCommit;
    [FieldOffset(292)] private int _commitBatch;

    // set once at attach, read by both sides
    [FieldOffset(320)] private Waiter? _readerWaiter;
    [FieldOffset(328)] private Waiter? _writerWaiter;
    [FieldOffset(336)] private long _wakeWriterAt;

    /// <param name="hwm">Whole messages the pipe may hold; 0 for no limit.</param>
    /// <param name="wakeWriterAtHalf">
    /// True when one side is a connection loop (see <see cref="CommitBatch"/>): a writer parked at
    /// the HWM is woken once the pipe is down to half of it (libzmq's low-water mark), not for the
    /// few slots each publish of read progress frees.
    /// </param>
    internal MessagePipe(int hwm, bool wakeWriterAtHalf = false)
    {
        Debug.Assert(hwm >= 0);
        _hwm = hwm;
        _writeChunk = _readChunk = new Chunk();
        // Enough spare chunks for the bursts a pipe sees (a send loop takes up to 1024 frames at
        // once, a receive loop writes a whole read): with one spare, bursts threw chunks away and
        // nearly every chunk was new.
        _spares = new Chunk?[Math.Clamp((hwm == 0 ? 1024 : hwm) / ChunkSize + 2, 2, 16)];
        // Publish read progress often enough that a writer at the HWM resumes long before the pipe
        // is empty (hysteresis like libzmq's LWM), yet rarely enough to keep the shared line quiet.
        _commitBatch = hwm == 0 ? 256 : Math.Clamp(hwm / 8, 1, 256);
        _wakeWriterAt = wakeWriterAtHalf ? hwm / 2 : long.MaxValue;
    }

    /// <summary>Woken on empty -> non-empty. Set before the pipe is used.</summary>
    internal Waiter? ReaderWaiter
    {
        get => _readerWaiter;
        set => _readerWaiter = value;
    }

    /// <summary>Woken when the reader frees room. Set before the pipe is used.</summary>
    internal Waiter? WriterWaiter
    {
        get => _writerWaiter;
        set => _writerWaiter = value;
    }

    internal int HighWaterMark => _hwm;

    /// <summary>Messages in the pipe as seen by the writer (may lag behind the reader).</summary>
    internal long QueuedMessages => Volatile.Read(ref _messagesWritten) - Volatile.Read(ref _messagesRead);

    // ---------------------------------------------------------------- writer side

    /// <summary>Writer: true when one more whole message fits under the HWM.</summary>
    internal bool CanWrite
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _hwm == 0 || _messagesWritten - _cachedMessagesRead < _hwm || RefreshCanWrite();
    }

    private bool RefreshCanWrite()
    {
        _cachedMessagesRead = Volatile.Read(ref _messagesRead);
        return _messagesWritten - _cachedMessagesRead < _hwm;
    }

    /// <summary>Writer: stages one frame, taking ownership. Check <see cref="CanWrite"/> at a message's first frame.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Write(ref Msg frame)
    {
        int index = (int)(_writePosition & ChunkMask);
        if (index == 0 && _writePosition != 0)
        {
            AdvanceWriteChunk();
        }

        bool last = !frame._more;
        _writeChunk.Items[index] = Msg.Take(ref frame);
        _writePosition++;
        if (last)
        {
            _messagesWritten++;
        }
    }

    private void AdvanceWriteChunk()
    {
        Chunk? next = null;
        Chunk?[] spares = _spares;
        for (int i = 0; i < spares.Length && next is null; i++)
        {
            if (Volatile.Read(ref spares[i]) is not null)
            {
                next = Interlocked.Exchange(ref spares[i], null);
            }
        }

        next ??= new Chunk();
        next.Next = null;
        _writeChunk.Next = next;
        _writeChunk = next;
    }

    /// <summary>Writer: makes staged frames visible and wakes a parked reader.</summary>
    /// <returns>True when anything was published.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool Flush()
    {
        if (_writePosition == _lastPublished)
        {
            return false;
        }

        _lastPublished = _writePosition;
        // Full fence: the reader's re-check after Waiter.Prepare must see these frames, or we must
        // see its parked flag.
        Interlocked.Exchange(ref _published, _writePosition);
        _readerWaiter?.Wake();
        return true;
    }

    // ---------------------------------------------------------------- reader side

    /// <summary>Reader: true when a frame is ready to read.</summary>
    internal bool HasData => _readPosition != _cachedPublished || _readPosition != Volatile.Read(ref _published);

    /// <summary>Reader: looks at the next frame without taking it.</summary>
    internal bool TryPeek(out int length, out MsgBuffer? buffer)
    {
        if (_readPosition == _cachedPublished)
        {
            _cachedPublished = Volatile.Read(ref _published);
            if (_readPosition == _cachedPublished)
            {
                length = 0;
                buffer = null;
                return false;
            }
        }

        int index = (int)(_readPosition & ChunkMask);
        // At a chunk boundary the frame is in the next chunk (linked before it was published).
        Chunk chunk = index == 0 && _readPosition != 0 ? _readChunk.Next! : _readChunk;
        ref Msg slot = ref chunk.Items[index];
        length = slot._length;
        buffer = slot._buffer;
        return true;
    }

    /// <summary>Reader: takes the next frame; ownership passes to the caller.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryRead(out Msg frame)
    {
        if (_readPosition == _cachedPublished)
        {
            _cachedPublished = Volatile.Read(ref _published);
            if (_readPosition == _cachedPublished)
            {
                frame = default;
                CommitRead();
                return false;
            }
        }

        int index = (int)(_readPosition & ChunkMask);
        if (index == 0 && _readPosition != 0)
        {
            AdvanceReadChunk();
        }

        ref Msg slot = ref _readChunk.Items[index];
        frame = slot;
        slot = default;
        _readPosition++;
        if (!frame._more)
        {
            _messagesReadLocal++;
            if (++_readsSinceCommit >= _commitBatch)
            {
                CommitBatch();
            }
        }

        return true;
    }

    private void AdvanceReadChunk()
    {
        Chunk finished = _readChunk;
        _readChunk = finished.Next!;
        finished.Next = null;
        Chunk?[] spares = _spares;
        for (int i = 0; i < spares.Length; i++)
        {
            if (Volatile.Read(ref spares[i]) is null && Interlocked.CompareExchange(ref spares[i], finished, null) is null)
            {
                return;
            }
        }
    }

    /// <summary>Reader: publishes how many messages were taken and wakes a writer waiting for room.</summary>
    internal void CommitRead()
    {
        if (_readsSinceCommit == 0)
        {
            return;
        }

        _readsSinceCommit = 0;
        Interlocked.Exchange(ref _messagesRead, _messagesReadLocal);
        _writerWaiter?.Wake();
    }

    /// <summary>
    /// Reader, every few messages: publishes how many were taken, and wakes a parked writer once
    /// the pipe is down to <see cref="_wakeWriterAt"/> messages.
    /// </summary>
    /// <remarks>
    /// Waking a writer for every commit made a fast writer park and wake once per commit (a futex
    /// round trip on both sides each time) while a connection loop drained a full pipe. A writer
    /// that is not parked still sees every commit. The reader keeps reading while there is
    /// anything to read, and finding the pipe empty (or any explicit <see cref="CommitRead"/>)
    /// wakes the writer whatever the count, so a parked writer is never left behind.
    /// </remarks>
    private void CommitBatch()
    {
        _readsSinceCommit = 0;
        Interlocked.Exchange(ref _messagesRead, _messagesReadLocal);
        Waiter? writer = _writerWaiter;
        if (writer is not null && writer.IsParked && Volatile.Read(ref _messagesWritten) - _messagesReadLocal <= _wakeWriterAt)
        {
            writer.Wake();
        }
    }

    /// <summary>
    /// Reader: disposes every frame still queued. Only when no writer can write any more.
    /// </summary>
    /// <returns>Whole messages discarded.</returns>
    internal int DiscardAll()
    {
        int messages = 0;
        while (TryRead(out Msg frame))
        {
            if (!frame._more)
            {
                messages++;
            }

            frame.Dispose();
        }

        return messages;
    }

    private sealed class Chunk
    {
        internal readonly Msg[] Items = new Msg[ChunkSize];
        internal Chunk? Next;
    }
}
