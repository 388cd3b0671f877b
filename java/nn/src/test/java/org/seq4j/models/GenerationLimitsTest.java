// Generation that cannot finish, or whose result cannot be returned. A length whose results the Java heap cannot hold
// is refused before any work by one IllegalArgumentException naming the call, the length and the bytes (it was an
// OutOfMemoryError out of Rnnlm.generate, and in Seq2seq.generate one after about 15 minutes of work). An interrupt
// stops generate and beam search at their next step with a CancellationException, the thread's interrupt kept and the
// model usable afterwards (a 10,000,000-step generate interrupted at 3 s ran to its end). Length 0 is refused in the
// call's name. Reference backend.
package org.seq4j.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.seq4j.backend.Backend;
import org.seq4j.models.LanguageModel.Sampling;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class GenerationLimitsTest {
    static final int V = 7, D = 4, H = 5;
    final Backend backend = TestBackends.reference();

    private static void assertMessage(Throwable e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message should mention '" + p + "': " + e.getMessage());
        }
    }

    /** A length at which the answers alone, {@code bytesPerStep} a step, need more than the heap's maximum. */
    private static int pastTheHeap(long bytesPerStep, int cap) {
        long max = Runtime.getRuntime().maxMemory();
        long length = Math.min(cap, max / bytesPerStep + max / bytesPerStep / 4);
        assumeTrue(length * bytesPerStep > max, "a heap of " + max + " bytes holds every length this test can ask");
        return (int) length;
    }

    /** Refused at once (the unfixed Seq2seq.generate ran for minutes first): within a timeout, on another thread. */
    private static IllegalArgumentException refusedAtOnce(Executable call) {
        return assertTimeoutPreemptively(Duration.ofSeconds(30), () -> assertThrows(IllegalArgumentException.class, call));
    }

    @Test
    void languageModelGenerateRefusesAResultPastTheHeap() {
        int length = pastTheHeap(8, HostArrays.MAX_LENGTH / 2);   // two prompts: int[2][length]
        try (Rnnlm m = new Rnnlm(backend, V, D, H, 1)) {
            int[][] before = m.generate(new int[][] {{1}, {2}}, 5, Sampling.ARGMAX, 1);
            IllegalArgumentException e = refusedAtOnce(
                    () -> m.generate(new int[][] {{1}, {2}}, length, Sampling.ARGMAX, 1));
            assertMessage(e, "Rnnlm.generate: length " + length, "int[N=2][length=" + length + "]", "bytes of Java heap",
                    "-Xmx");
            assertArrayEquals(before, m.generate(new int[][] {{1}, {2}}, 5, Sampling.ARGMAX, 1));
        }
    }

    @Test
    void seq2seqGenerateRefusesAResultPastTheHeapBeforeDecoding() {
        int length = pastTheHeap(12, HostArrays.MAX_LENGTH / 2);   // the ids copied out, int[1][length], sums
        try (Arena arena = Arena.ofShared(); Seq2seq m = new Seq2seq(backend, V, D, H, 1)) {
            Tensor xs = ModelTesting.randomIds(backend, arena, new Random(1), 1, 3, V);
            int[][] before = m.generate(xs, 1, 5);
            IllegalArgumentException e = refusedAtOnce(() -> m.generate(xs, 1, length));
            assertMessage(e, "Seq2seq.generate: length " + length, "bytes of Java heap");
            assertArrayEquals(before, m.generate(xs, 1, 5));
        }
    }

    @Test
    void beamSearchRefusesHypothesesPastTheHeap() {
        int length = pastTheHeap(2 * 24, HostArrays.MAX_LENGTH / 2);   // K = 2: two int[length][2] for backtracking
        try (Arena arena = Arena.ofShared(); Rnnlm lm = new Rnnlm(backend, V, D, H, 1);
             Seq2seq s2s = new Seq2seq(backend, V, D, H, 1)) {
            IllegalArgumentException e = refusedAtOnce(() -> lm.beamSearch(new int[][] {{1}}, length, 2, 0, -1));
            assertMessage(e, "Rnnlm.beamSearch: length " + length, "bytes of Java heap");
            Tensor xs = ModelTesting.randomIds(backend, arena, new Random(1), 1, 3, V);
            e = refusedAtOnce(() -> s2s.beamSearch(xs, 1, length, 2));
            assertMessage(e, "Seq2seq.beamSearch: length " + length, "bytes of Java heap");
        }
    }

    /** Length 0 is refused in the call's name, as the other refusals are (it said only "generate needs length >= 1"). */
    @Test
    void seq2seqGenerateRefusesLengthZeroInItsName() {
        try (Arena arena = Arena.ofConfined(); AttentionSeq2seq m = new AttentionSeq2seq(backend, V, D, H, 1)) {
            Tensor xs = ModelTesting.randomIds(backend, arena, new Random(1), 1, 3, V);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.generate(xs, 1, 0));
            assertTrue(e.getMessage().startsWith("AttentionSeq2seq.generate: needs length >= 1, got 0"), e.getMessage());
        }
    }

    /**
     * Runs {@code longCall} on a thread of its own, interrupts it after 200 ms and expects a CancellationException
     * naming {@code op} within 20 s, with the thread's interrupt still set.
     */
    private static void assertStopsWhenInterrupted(String op, Runnable longCall) throws InterruptedException {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicBoolean interruptKept = new AtomicBoolean();
        Thread t = new Thread(() -> {
            try {
                longCall.run();
            } catch (Throwable e) {
                thrown.set(e);
                interruptKept.set(Thread.currentThread().isInterrupted());
            }
        }, "long-" + op);
        t.setDaemon(true);   // unfixed, it ran on for minutes
        t.start();
        Thread.sleep(200);
        t.interrupt();
        t.join(20_000);
        if (t.isAlive()) {
            fail(op + " still running 20 s after its thread was interrupted");
        }
        CancellationException e = assertInstanceOf(CancellationException.class, thrown.get(),
                op + " should stop with a CancellationException");
        assertMessage(e, op + ": interrupted at ", "interrupt is kept");
        assertTrue(interruptKept.get(), op + " should keep the thread's interrupt");
    }

    @Test
    void languageModelGenerateAndBeamSearchStopWhenInterrupted() throws InterruptedException {
        try (Rnnlm m = new Rnnlm(backend, V, D, H, 1)) {
            int[][] prompts = {{1, 2}, {3, 4}};
            int[][] before = m.generate(prompts, 6, Sampling.SAMPLE, 5);
            Beam.Result beamBefore = m.beamSearch(prompts, 4, 2, 0, -1);
            assertStopsWhenInterrupted("Rnnlm.generate", () -> m.generate(prompts, 10_000_000, Sampling.ARGMAX, 1));
            assertArrayEquals(before, m.generate(prompts, 6, Sampling.SAMPLE, 5));   // usable, as it was
            assertStopsWhenInterrupted("Rnnlm.beamSearch", () -> m.beamSearch(prompts, 1_000_000, 2, 0, -1));
            assertArrayEquals(beamBefore.sequences(), m.beamSearch(prompts, 4, 2, 0, -1).sequences());
            assertArrayEquals(before, m.generate(prompts, 6, Sampling.SAMPLE, 5));
        }
    }

    @Test
    void seq2seqGenerateAndBeamSearchStopWhenInterrupted() throws InterruptedException {
        for (boolean attention : new boolean[] {false, true}) {
            try (Arena arena = Arena.ofShared();
                 AbstractSeq2seq m = attention ? new AttentionSeq2seq(backend, V, D, H, 1)
                         : new Seq2seq(backend, V, D, H, 1)) {
                Tensor xs = ModelTesting.randomIds(backend, arena, new Random(1), 2, 3, V);
                int[][] before = m.generate(xs, 1, 6);
                Beam.Result beamBefore = m.beamSearch(xs, 1, 4, 2);
                String name = m.getClass().getSimpleName();
                // the decoder's loop stops it: its message names the model's call, then the decoder's
                assertStopsWhenInterrupted(name + ".generate: " + (attention ? "Attention" : "") + "Decoder.generate",
                        () -> m.generate(xs, 1, 10_000_000));
                assertArrayEquals(before, m.generate(xs, 1, 6));
                assertStopsWhenInterrupted(name + ".beamSearch", () -> m.beamSearch(xs, 1, 1_000_000, 2));
                assertArrayEquals(beamBefore.sequences(), m.beamSearch(xs, 1, 4, 2).sequences());
                assertArrayEquals(before, m.generate(xs, 1, 6));
            }
        }
    }
}
