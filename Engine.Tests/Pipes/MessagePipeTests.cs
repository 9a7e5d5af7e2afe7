using System.Buffers.Binary;
using System.Diagnostics;
using Engine.Pipes;

namespace Engine.Tests.Pipes;

[TestFixture]
[CancelAfter(120_000)]
public class MessagePipeTests
{
    private const int ChunkSize = 256;

    private static Msg Frame(long value, bool more = false)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        return Msg.Copy(bytes, more);
    }

    private static long ValueOf(in Msg frame) => BinaryPrimitives.ReadInt64LittleEndian(frame.Span);

    private static void WriteMessage(MessagePipe pipe, params long[] values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            Msg frame = Frame(values[i], more: i < values.Length - 1);
            pipe.Write(ref frame);
            Assert.That(frame.IsEmpty, Is.True, "Write takes ownership and empties the caller's variable");
        }
    }

    private static List<(long Value, bool More)> ReadAll(MessagePipe pipe)
    {
        var frames = new List<(long, bool)>();
        for (int guard = 0; guard < 1_000_000 && pipe.TryRead(out Msg frame); guard++)
        {
            frames.Add((ValueOf(frame), frame.More));
            frame.Dispose();
        }

        return frames;
    }

    // ------------------------------------------------------------------ visibility and order

    [Test]
    public void StagedFramesAreInvisibleUntilFlush()
    {
        var pipe = new MessagePipe(hwm: 10);
        WriteMessage(pipe, 1, 2);

        Assert.That(pipe.HasData, Is.False);
        Assert.That(pipe.TryRead(out Msg nothing), Is.False);
        Assert.That(nothing.IsEmpty, Is.True);

        Assert.That(pipe.Flush(), Is.True);

        Assert.That(pipe.HasData, Is.True);
        Assert.That(ReadAll(pipe), Is.EqualTo(new[] { (1L, true), (2L, false) }));
        Assert.That(pipe.HasData, Is.False);
    }

    [Test]
    public void FlushWithNothingStagedReportsNothingPublished()
    {
        var pipe = new MessagePipe(hwm: 10);
        Assert.That(pipe.Flush(), Is.False);

        WriteMessage(pipe, 1);
        Assert.That(pipe.Flush(), Is.True);
        Assert.That(pipe.Flush(), Is.False, "a second flush has nothing new to publish");
    }

    [Test]
    public void FramesComeOutInTheOrderTheyWentInWithTheirMoreFlags()
    {
        var pipe = new MessagePipe(hwm: 0);
        WriteMessage(pipe, 1);
        WriteMessage(pipe, 2, 3, 4);
        pipe.Flush();
        WriteMessage(pipe, 5, 6);
        pipe.Flush();

        Assert.That(ReadAll(pipe), Is.EqualTo(new[] { (1L, false), (2L, true), (3L, true), (4L, false), (5L, true), (6L, false) }));
    }

    [Test]
    public void OnlyTheFlushedPrefixIsVisibleWhileMoreIsStaged()
    {
        var pipe = new MessagePipe(hwm: 0);
        WriteMessage(pipe, 1);
        pipe.Flush();
        WriteMessage(pipe, 2);

        Assert.That(ReadAll(pipe), Is.EqualTo(new[] { (1L, false) }));

        pipe.Flush();
        Assert.That(ReadAll(pipe), Is.EqualTo(new[] { (2L, false) }));
    }

    [Test]
    public void AFrameReadOutOwnsItsBytesAfterThePipeMovesOn()
    {
        var pipe = new MessagePipe(hwm: 0);
        Msg hello = Msg.Copy("hello"u8);
        pipe.Write(ref hello);
        pipe.Flush();

        Assert.That(pipe.TryRead(out Msg frame), Is.True);
        for (int i = 0; i < 3 * ChunkSize; i++)
        {
            WriteMessage(pipe, i);
            pipe.Flush();
            Assert.That(pipe.TryRead(out Msg other), Is.True);
            other.Dispose();
        }

        Assert.That(frame.Span.ToArray(), Is.EqualTo("hello"u8.ToArray()));
        frame.Dispose();
    }

    // ------------------------------------------------------------------ high-water mark

    [Test]
    public void TheHighWaterMarkCountsAMultipartMessageOnce()
    {
        var pipe = new MessagePipe(hwm: 2);

        Assert.That(pipe.CanWrite, Is.True);
        WriteMessage(pipe, 1, 2, 3);
        Assert.That(pipe.QueuedMessages, Is.EqualTo(1));
        Assert.That(pipe.CanWrite, Is.True, "three frames are one message, under an HWM of 2");

        WriteMessage(pipe, 4);
        Assert.That(pipe.QueuedMessages, Is.EqualTo(2));
        Assert.That(pipe.CanWrite, Is.False, "exactly at the HWM");
    }

    [TestCase(1)]
    [TestCase(7)]
    [TestCase(1000)]
    public void CanWriteTurnsFalseAtExactlyTheHighWaterMark(int hwm)
    {
        var pipe = new MessagePipe(hwm);

        for (int i = 0; i < hwm; i++)
        {
            Assert.That(pipe.CanWrite, Is.True, $"after {i} messages");
            WriteMessage(pipe, i, i);
        }

        Assert.That(pipe.CanWrite, Is.False);
        Assert.That(pipe.QueuedMessages, Is.EqualTo(hwm));
        Assert.That(pipe.HighWaterMark, Is.EqualTo(hwm));
    }

    [Test]
    public void CommitReadFreesRoomForTheWriter()
    {
        // hwm 16 publishes read progress every 2 messages, so one read message is not yet visible.
        var pipe = new MessagePipe(hwm: 16);
        for (int i = 0; i < 16; i++)
        {
            WriteMessage(pipe, i);
        }

        pipe.Flush();
        Assert.That(pipe.CanWrite, Is.False);

        Assert.That(pipe.TryRead(out Msg frame), Is.True);
        frame.Dispose();
        Assert.That(pipe.CanWrite, Is.False, "the read has not been published yet");

        pipe.CommitRead();

        Assert.That(pipe.CanWrite, Is.True);
        Assert.That(pipe.QueuedMessages, Is.EqualTo(15));
    }

    [Test]
    public void ReadingAPartOfAMultipartMessageFreesNoRoom()
    {
        var pipe = new MessagePipe(hwm: 1);
        WriteMessage(pipe, 1, 2, 3);
        pipe.Flush();

        Assert.That(pipe.TryRead(out Msg first), Is.True);
        first.Dispose();
        pipe.CommitRead();
        Assert.That(pipe.CanWrite, Is.False, "two frames of the message are still queued");

        Assert.That(ReadAll(pipe), Has.Count.EqualTo(2));
        Assert.That(pipe.CanWrite, Is.True);
    }

    [Test]
    public void FindingThePipeEmptyPublishesTheReadsAndFreesRoom()
    {
        var pipe = new MessagePipe(hwm: 64);
        for (int i = 0; i < 64; i++)
        {
            WriteMessage(pipe, i);
        }

        pipe.Flush();
        Assert.That(ReadAll(pipe), Has.Count.EqualTo(64));

        Assert.That(pipe.QueuedMessages, Is.Zero);
        Assert.That(pipe.CanWrite, Is.True);
    }

    [Test]
    public void HighWaterMarkZeroIsUnlimitedAcrossManyChunkBoundaries()
    {
        const int messages = 10 * ChunkSize + 17;
        var pipe = new MessagePipe(hwm: 0);

        for (int i = 0; i < messages; i++)
        {
            Assert.That(pipe.CanWrite, Is.True);
            if (i % 5 == 0)
            {
                WriteMessage(pipe, 3L * i, 3L * i + 1, 3L * i + 2);
            }
            else
            {
                WriteMessage(pipe, 3L * i);
            }
        }

        pipe.Flush();
        Assert.That(pipe.QueuedMessages, Is.EqualTo(messages));

        List<(long Value, bool More)> frames = ReadAll(pipe);
        var expected = new List<(long, bool)>();
        for (int i = 0; i < messages; i++)
        {
            if (i % 5 == 0)
            {
                expected.AddRange([(3L * i, true), (3L * i + 1, true), (3L * i + 2, false)]);
            }
            else
            {
                expected.Add((3L * i, false));
            }
        }

        Assert.That(frames, Is.EqualTo(expected));
        Assert.That(pipe.QueuedMessages, Is.Zero);
    }

    [Test]
    public void AStreamThroughASmallPipeReusesChunksAcrossBoundaries()
    {
        var pipe = new MessagePipe(hwm: 3);
        long next = 0;
        for (int round = 0; round < 5 * ChunkSize; round++)
        {
            while (pipe.CanWrite)
            {
                WriteMessage(pipe, next++);
            }

            pipe.Flush();
            List<(long Value, bool More)> frames = ReadAll(pipe);
            Assert.That(frames.Select(f => f.Value), Is.EqualTo(Enumerable.Range((int)(next - frames.Count), frames.Count).Select(v => (long)v)));
        }

        Assert.That(next, Is.EqualTo(3L * 5 * ChunkSize));
    }

    [Test]
    public void DiscardAllDisposesEveryQueuedFrameAndCountsWholeMessages()
    {
        var pipe = new MessagePipe(hwm: 0);
        WriteMessage(pipe, 1, 2, 3);
        WriteMessage(pipe, 4);
        pipe.Flush();

        Assert.That(pipe.DiscardAll(), Is.EqualTo(2));
        Assert.That(pipe.HasData, Is.False);
        Assert.That(pipe.QueuedMessages, Is.Zero);
    }

    // ------------------------------------------------------------------ waking

    [Test]
    public void FlushWakesAParkedReader()
    {
        var readerWaiter = new Waiter();
        var pipe = new MessagePipe(hwm: 0) { ReaderWaiter = readerWaiter };
        readerWaiter.Prepare();

        WriteMessage(pipe, 1);
        pipe.Flush();

        Assert.That(readerWaiter.Wait(0), Is.True);
    }

    [Test]
    public void FlushDoesNotSignalAReaderThatIsNotParked()
    {
        var readerWaiter = new Waiter();
        var pipe = new MessagePipe(hwm: 0) { ReaderWaiter = readerWaiter };

        WriteMessage(pipe, 1);
        pipe.Flush();

        Assert.That(readerWaiter.Wait(0), Is.False);
    }

    [Test]
    public void ReadingAFullPipeEmptyWakesAParkedWriter()
    {
        var writerWaiter = new Waiter();
        var pipe = new MessagePipe(hwm: 4) { WriterWaiter = writerWaiter };
        for (int i = 0; i < 4; i++)
        {
            WriteMessage(pipe, i);
        }

        pipe.Flush();
        Assert.That(pipe.CanWrite, Is.False);
        writerWaiter.Prepare();

        ReadAll(pipe);

        Assert.That(writerWaiter.Wait(0), Is.True);
        Assert.That(pipe.CanWrite, Is.True);
    }

    // ------------------------------------------------------------------ two threads

    [Test]
    public void TwoMillionFramesCrossBetweenTwoThreadsInOrderWithTheWriterBlockingAtTheHighWaterMark()
    {
        // Frames are numbered 0..N-1. Those numbered 0 and 1 modulo 10 carry MORE, so every ten frames
        // hold one three-frame message and seven single-frame ones.
        const long totalFrames = 2_000_000;
        const int hwm = 64;
        static bool HasMore(long sequence) => sequence % 10 is 0 or 1;

        var readerWaiter = new Waiter();
        var writerWaiter = new Waiter();
        var pipe = new MessagePipe(hwm) { ReaderWaiter = readerWaiter, WriterWaiter = writerWaiter };
        var deadline = Stopwatch.StartNew();
        TimeSpan limit = TimeSpan.FromSeconds(60);
        CancellationToken testToken = TestContext.CurrentContext.CancellationToken;
        using var writerBlockedOnce = new ManualResetEventSlim();
        string? writerFailure = null;
        string? readerFailure = null;
        long writerBlocks = 0;
        long readerParks = 0;
        long received = 0;

        bool GiveUp(out string why)
        {
            why = deadline.Elapsed > limit ? $"deadline of {limit.TotalSeconds} s passed"
                : testToken.IsCancellationRequested ? "test canceled"
                : Volatile.Read(ref readerFailure) is not null || Volatile.Read(ref writerFailure) is not null ? "other thread failed"
                : string.Empty;
            return why.Length != 0;
        }

        int RemainingMs() => (int)Math.Clamp((limit - deadline.Elapsed).TotalMilliseconds, 0, 250);

        var writer = new Thread(() =>
        {
            try
            {
                int unflushed = 0;
                for (long sequence = 0; sequence < totalFrames; sequence++)
                {
                    bool firstOfMessage = sequence == 0 || !HasMore(sequence - 1);
                    if (firstOfMessage)
                    {
                        while (!pipe.CanWrite)
                        {
                            // Publish what is staged before sleeping, or the reader could never free room.
                            pipe.Flush();
                            unflushed = 0;
                            writerBlockedOnce.Set();
                            writerWaiter.Prepare();
                            if (pipe.CanWrite)
                            {
                                writerWaiter.Cancel();
                                break;
                            }

                            writerBlocks++;
                            writerWaiter.Wait(RemainingMs());
                            if (GiveUp(out string why))
                            {
                                writerFailure = $"writer stuck at frame {sequence}: {why}";
                                return;
                            }
                        }
                    }

                    Msg frame = Frame(sequence, HasMore(sequence));
                    pipe.Write(ref frame);
                    if (!HasMore(sequence))
                    {
                        if (pipe.QueuedMessages > hwm)
                        {
                            writerFailure = $"pipe held {pipe.QueuedMessages} messages, over the HWM of {hwm}";
                            return;
                        }

                        if (++unflushed == 16)
                        {
                            pipe.Flush();
                            unflushed = 0;
                        }
                    }
                }

                pipe.Flush();
            }
            catch (Exception e)
            {
                writerFailure = e.ToString();
            }
        }) { Name = "pipe writer", IsBackground = true };

        var reader = new Thread(() =>
        {
            try
            {
                // Start only once the writer has hit the HWM, so that blocking is exercised every run.
                if (!writerBlockedOnce.Wait(limit, testToken))
                {
                    readerFailure = "the writer never reached the HWM";
                    return;
                }

                long expected = 0;
                bool expectFirstOfMessage = true;
                while (expected < totalFrames)
                {
                    if (pipe.TryRead(out Msg frame))
                    {
                        long value = ValueOf(frame);
                        bool more = frame.More;
                        frame.Dispose();
                        if (value != expected || more != HasMore(expected))
                        {
                            readerFailure = $"expected frame {expected} (more={HasMore(expected)}), got {value} (more={more})";
                            return;
                        }

                        expectFirstOfMessage = !more;
                        expected++;
                        Volatile.Write(ref received, expected);
                        continue;
                    }

                    if (!expectFirstOfMessage)
                    {
                        readerFailure = $"the pipe ran dry in the middle of a message at frame {expected}: a partial message was visible";
                        return;
                    }

                    readerWaiter.Prepare();
                    if (pipe.HasData)
                    {
                        readerWaiter.Cancel();
                        continue;
                    }

                    readerParks++;
                    readerWaiter.Wait(RemainingMs());
                    if (GiveUp(out string why))
                    {
                        readerFailure = $"reader stuck at frame {expected}: {why}";
                        return;
                    }
                }

                if (pipe.TryRead(out Msg extra))
                {
                    extra.Dispose();
                    readerFailure = "a frame came out after the last one written";
                }
            }
            catch (Exception e)
            {
                readerFailure = e.ToString();
            }
        }) { Name = "pipe reader", IsBackground = true };

        writer.Start();
        reader.Start();
        bool writerDone = writer.Join(limit + TimeSpan.FromSeconds(5));
        bool readerDone = reader.Join(limit + TimeSpan.FromSeconds(5));

        Assert.That(writerFailure, Is.Null);
        Assert.That(readerFailure, Is.Null);
        Assert.That(writerDone && readerDone, Is.True, $"threads finished (received {Volatile.Read(ref received)} of {totalFrames})");
        Assert.That(received, Is.EqualTo(totalFrames));
        Assert.That(writerBlocks, Is.GreaterThan(0), "the writer blocked at the HWM");
        TestContext.Out.WriteLine($"{totalFrames:N0} frames in {deadline.Elapsed.TotalMilliseconds:N0} ms; writer blocked {writerBlocks:N0} times, reader parked {readerParks:N0} times");
    }
}
