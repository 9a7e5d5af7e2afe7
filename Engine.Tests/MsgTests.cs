using System.Runtime.CompilerServices;
using Engine.Buffers;
using Engine.Pipes;

namespace Engine.Tests;

[TestFixture]
public class MsgTests
{
    [Test]
    public void CopyHoldsTheBytesAndTheMoreFlag()
    {
        Msg msg = Msg.Copy("hello"u8, more: true);

        Assert.That(msg.Length, Is.EqualTo(5));
        Assert.That(msg.IsEmpty, Is.False);
        Assert.That(msg.More, Is.True);
        Assert.That(msg.Span.ToArray(), Is.EqualTo("hello"u8.ToArray()));
        Assert.That(msg.Memory.ToArray(), Is.EqualTo("hello"u8.ToArray()));
        Assert.That(msg.ToArray(), Is.EqualTo("hello"u8.ToArray()));
        Assert.That(msg.ToString(), Is.EqualTo("Msg[5 bytes, more]"));
        msg.Dispose();
    }

    [Test]
    public void CopyIsIndependentOfTheSource()
    {
        byte[] source = "abc"u8.ToArray();
        Msg msg = Msg.Copy(source);

        source[0] = (byte)'X';

        Assert.That(msg.Span.ToArray(), Is.EqualTo("abc"u8.ToArray()));
        msg.Dispose();
    }

    [Test]
    public void AnEmptyCopyUsesNoBuffer()
    {
        Msg msg = Msg.Copy(ReadOnlySpan<byte>.Empty, more: true);

        Assert.That(msg.IsEmpty, Is.True);
        Assert.That(msg.More, Is.True);
        Assert.That(msg._buffer, Is.Null);
        Assert.That(msg.ToString(), Is.EqualTo("Msg[0 bytes, more]"));
        msg.Dispose();
    }

    [Test]
    public void AllocateGivesAWritableFrameOfTheAskedSize()
    {
        Msg msg = Msg.Allocate(32);
        "0123456789abcdef0123456789abcdef"u8.CopyTo(msg.WritableSpan);

        Assert.That(msg.Length, Is.EqualTo(32));
        Assert.That(msg.Span.ToArray(), Is.EqualTo("0123456789abcdef0123456789abcdef"u8.ToArray()));
        msg.Dispose();
    }

    [Test]
    public void AllocateZeroIsAnEmptyFrame()
    {
        Msg msg = Msg.Allocate(0);

        Assert.That(msg.IsEmpty, Is.True);
        Assert.That(msg.WritableSpan.IsEmpty, Is.True);
    }

    [Test]
    public void AllocateWithANegativeSizeSaysSizesStartAtZero()
    {
        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => Msg.Allocate(-1));

        Assert.That(exception!.Message, Does.Contain("A frame size must be 0 or more bytes."));
        Assert.That(exception.ParamName, Is.EqualTo("size"));
    }

    [Test]
    public void DisposeEmptiesTheValueAndASecondDisposeDoesNothing()
    {
        Msg msg = Msg.Copy("data"u8, more: true);
        MsgBuffer buffer = msg._buffer!;
        int referencesBefore = buffer.References;

        msg.Dispose();
        Assert.That(buffer.References, Is.EqualTo(referencesBefore - 1));

        Assert.That(msg.IsEmpty, Is.True);
        Assert.That(msg.More, Is.False);
        Assert.That(msg.Span.IsEmpty, Is.True);
        Assert.That(msg._buffer, Is.Null);

        msg.Dispose();
        Assert.That(buffer.References, Is.EqualTo(referencesBefore - 1), "the second dispose released nothing");
    }

    [Test]
    public void SmallFramesShareOneSlabAtEightByteAlignedOffsets()
    {
        var allocator = new SlabAllocator();

        Msg a = allocator.Allocate(16);
        Msg b = allocator.Allocate(5);
        Msg c = allocator.Allocate(1);

        Assert.That(a._buffer, Is.Not.Null);
        Assert.That(a._buffer!.IsSlab, Is.True);
        Assert.That(b._buffer, Is.SameAs(a._buffer));
        Assert.That(c._buffer, Is.SameAs(a._buffer));
        Assert.That(new[] { a._offset, b._offset, c._offset }, Is.EqualTo(new[] { 0, 16, 24 }));
        // The allocator takes references in one batch and hands one to each frame without atomics.
        int held = a._buffer.References;
        Assert.That(held, Is.GreaterThanOrEqualTo(4), "one per frame plus the allocator's (and its reservation)");
        Assert.That(a._buffer.Array, Has.Length.EqualTo(MsgPool.SlabSize));

        MsgBuffer slab = a._buffer;
        a.Dispose();
        b.Dispose();
        c.Dispose();
        Assert.That(slab.References, Is.EqualTo(held - 3), "each frame gave back exactly its own reference");
        Assert.That(slab.References, Is.GreaterThan(0), "the allocator still holds the slab");
        allocator.Release();
        Assert.That(slab.References, Is.Zero, "the slab went back to the pool");
    }

    [Test]
    public void FramesInOneSlabDoNotOverwriteEachOther()
    {
        var allocator = new SlabAllocator();
        var frames = new Msg[100];
        for (int i = 0; i < frames.Length; i++)
        {
            frames[i] = allocator.Allocate(1 + (i % 13));
            frames[i].WritableSpan.Fill((byte)i);
        }

        for (int i = 0; i < frames.Length; i++)
        {
            Assert.That(frames[i].Span.ToArray(), Is.All.EqualTo((byte)i), $"frame {i}");
            frames[i].Dispose();
        }

        allocator.Release();
    }

    [Test]
    public void AFrameOfExactlyTheSmallFrameLimitStillComesFromASlab()
    {
        var allocator = new SlabAllocator();

        Msg msg = allocator.Allocate(MsgPool.SmallFrameLimit);

        Assert.That(msg._buffer!.IsSlab, Is.True);
        msg.Dispose();
        allocator.Release();
    }

    [TestCase(MsgPool.SmallFrameLimit + 1)]
    [TestCase(100_000)]
    [TestCase(1 << 20)]
    public void FramesAboveTheSmallFrameLimitGetADedicatedBuffer(int size)
    {
        byte[] data = Enumerable.Range(0, size).Select(i => (byte)(i * 31)).ToArray();

        Msg msg = Msg.Copy(data);
        Msg other = Msg.Copy(data);

        Assert.That(msg._buffer!.IsSlab, Is.False);
        Assert.That(msg._buffer.References, Is.EqualTo(1), "only the frame holds it");
        Assert.That(msg._buffer.Array, Has.Length.GreaterThanOrEqualTo(size));
        Assert.That(msg._offset, Is.Zero);
        Assert.That(other._buffer, Is.Not.SameAs(msg._buffer));
        Assert.That(msg.Length, Is.EqualTo(size));
        Assert.That(msg.Span.SequenceEqual(data), Is.True);
        msg.Dispose();
        other.Dispose();
    }

    [Test]
    public void AFullSlabIsReplacedAndLivesUntilItsLastFrameIsDisposed()
    {
        var allocator = new SlabAllocator();
        int perSlab = MsgPool.SlabSize / MsgPool.SmallFrameLimit;
        var frames = new Msg[perSlab + 1];
        for (int i = 0; i < frames.Length; i++)
        {
            frames[i] = allocator.Allocate(MsgPool.SmallFrameLimit);
        }

        MsgBuffer first = frames[0]._buffer!;
        Assert.That(frames.Take(perSlab).Select(f => f._buffer), Is.All.SameAs(first));
        Assert.That(frames[perSlab]._buffer, Is.Not.SameAs(first), "the next frame no longer fits");
        Assert.That(first.References, Is.EqualTo(perSlab), "the allocator let go; its frames still hold it");

        frames[0].WritableSpan.Fill(0x5A);
        for (int i = 1; i < perSlab; i++)
        {
            frames[i].Dispose();
        }

        Assert.That(first.References, Is.EqualTo(1));
        Assert.That(frames[0].Span.ToArray(), Is.All.EqualTo(0x5A), "the last holder's bytes are intact");

        frames[0].Dispose();
        frames[perSlab].Dispose();
        allocator.Release();
    }

    [Test]
    public void MsgCopyFromTheCurrentThreadSharesTheThreadsSlab()
    {
        SlabAllocator.ForCurrentThread.Release();

        Msg a = Msg.Copy("one"u8);
        Msg b = Msg.Copy("two"u8);

        Assert.That(b._buffer, Is.SameAs(a._buffer));
        Assert.That(SlabAllocator.ForCurrentThread, Is.SameAs(SlabAllocator.ForCurrentThread));
        a.Dispose();
        b.Dispose();
    }

    // ------------------------------------------------------------------ allocation

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long CopyAndDispose(int iterations)
    {
        Span<byte> payload = stackalloc byte[16];
        payload.Fill(0x42);
        long total = 0;
        for (int i = 0; i < iterations; i++)
        {
            Msg msg = Msg.Copy(payload);
            total += msg.Length;
            msg.Dispose();
        }

        return total;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long ThroughPipe(MessagePipe pipe, int iterations)
    {
        Span<byte> payload = stackalloc byte[16];
        payload.Fill(0x24);
        long total = 0;
        for (int i = 0; i < iterations; i++)
        {
            Msg first = Msg.Copy(payload, more: (i & 3) == 0);
            pipe.Write(ref first);
            if ((i & 3) == 0)
            {
                Msg second = Msg.Copy(payload);
                pipe.Write(ref second);
            }

            pipe.Flush();
            while (pipe.TryRead(out Msg frame))
            {
                total += frame.Length;
                frame.Dispose();
            }
        }

        return total;
    }

    [Test]
    public void CopyAndDisposeAllocateNothingAfterWarmUp()
    {
        const int iterations = 100_000;
        for (int warmUp = 0; warmUp < 3; warmUp++)
        {
            CopyAndDispose(iterations);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        long total = CopyAndDispose(iterations);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That(total, Is.EqualTo(16L * iterations));
        Assert.That(allocated, Is.Zero, "bytes allocated by 100,000 Msg.Copy(16 bytes) + Dispose");
    }

    [Test]
    public void WritingFlushingAndReadingThroughAPipeAllocatesNothingAfterWarmUp()
    {
        const int iterations = 100_000;
        // Waiters that nobody parks on: Wake must cost a read, not an allocation.
        var pipe = new MessagePipe(hwm: 0) { ReaderWaiter = new Waiter(), WriterWaiter = new Waiter() };
        for (int warmUp = 0; warmUp < 3; warmUp++)
        {
            ThroughPipe(pipe, iterations); // crosses many 256-slot chunk boundaries, so the spare chunk exists
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        long total = ThroughPipe(pipe, iterations);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That(total, Is.EqualTo(16L * (iterations + iterations / 4)));
        Assert.That(allocated, Is.Zero, "bytes allocated by 100,000 messages through Write/Flush/TryRead");
    }
}
