// Ids and labels that another thread changes between AbstractBackend's check and the kernel's use (Backend's
// contract: kernels check each id again where they use it, never follow a bad one, and report it as the same
// IndexOutOfBoundsException). The java backend's kernels read each id a second time, unchecked: a label of V + 1 in
// row 0 read row 1's logits, a wrong loss with no exception.
//
// Each case races a thread that flips one id between a valid value and a bad one against a loop of calls, for a
// bounded time (RACE_NANOS). With the kernels as the contract says, every call either gives the right answer or
// throws the check's IndexOutOfBoundsException, however the threads interleave: the test cannot fail by chance.
// Without it (the java kernels before they read each id once into a local), a row of V = 4096 columns is summed
// between the check and the kernel's read of row 0's label, a window of tens of microseconds, and the loop fails
// within its first few hundred calls on a 2-core machine with high probability (not certainty: it needs the
// flipper to run while the loop does).
package org.seq4j.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class IdsChangedAfterTheCheckTest {

    /** How long each case races: long enough to fail without the kernels' own check, short for the suite. */
    private static final long RACE_NANOS = 500_000_000L;

    /** Columns of each row: the kernel sums a row of them before it reads the row's label (the race's window). */
    private static final int V = 4096;

    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    /** One call of the kernel under test; returns what it wrote, compared with the answer for the valid id. */
    private interface Call {
        float[] run();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aLabelChangedAfterTheCheckIsNeverFollowed(String name) throws Exception {
        Backend b = TestBackends.get(name);
        try (Arena arena = Arena.ofShared()) {
            float[] x = new float[2 * V];
            for (int i = 0; i < x.length; i++) {
                x[i] = (i % 97) / 10f + (i >= V ? 3f : 0f);   // row 1 differs from row 0 at every column
            }
            Tensor logits = b.allocate(arena, DType.F32, 2, V), probs = b.allocate(arena, DType.F32, 2, V);
            Tensor dlogits = b.allocate(arena, DType.F32, 2, V);
            Tensor loss = b.allocate(arena, DType.F32, 1), labels = b.allocate(arena, DType.I32, 2);
            b.copyIn(logits, x);
            b.copyIn(labels, new int[] {0, 1});
            // V + 1 in row 0 is row 1's column 1 to a kernel that follows it: inside the tensors, so no FFM error
            race(b, "softmaxCrossEntropyForward", labels, V + 1, () -> {
                b.softmaxCrossEntropyForward(probs, loss, logits, labels);
                return TestBackends.values(b, loss);
            });
            b.softmaxCrossEntropyForward(probs, loss, logits, labels);
            race(b, "softmaxCrossEntropyBackward", labels, V + 1, () -> {
                b.softmaxCrossEntropyBackward(dlogits, probs, labels, 1f);
                return TestBackends.values(b, dlogits);
            });
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void anIdChangedAfterTheCheckIsNeverFollowed(String name) throws Exception {
        Backend b = TestBackends.get(name);
        try (Arena arena = Arena.ofShared()) {
            int v = 3, d = 4096, m = 2;
            float[] w = new float[v * d];
            for (int i = 0; i < w.length; i++) {
                w[i] = i / 7f;
            }
            Tensor table = b.allocate(arena, DType.F32, v, d), out = b.allocate(arena, DType.F32, m, d);
            Tensor dW = b.allocate(arena, DType.F32, v, d), ones = b.allocate(arena, DType.F32, m, d);
            Tensor ids = b.allocate(arena, DType.I32, m);
            b.copyIn(table, w);
            b.fill(ones, 1f);
            b.copyIn(ids, new int[] {2, 0});
            // the last id first: row 1's id is read after row 0's d columns are copied
            race(b, "embeddingForward", ids.flatSlice(1, 1), -1, () -> {
                b.embeddingForward(out, table, ids);
                return TestBackends.values(b, out);
            });
            race(b, "embeddingBackward", ids.flatSlice(1, 1), v, () -> {
                b.fill(dW, 0f);
                b.embeddingBackward(dW, ids, ones);
                return TestBackends.values(b, dW);
            });
        }
    }

    /**
     * Runs call while another thread flips id[0] between its value and bad: every call must give what it gives with
     * the valid id, or throw the check's IndexOutOfBoundsException (op: name[i] = bad is outside ...); a different
     * answer, or another exception (FFM's own out-of-bound access), is recorded and fails the test.
     */
    private static void race(Backend b, String op, Tensor id, int bad, Call call) throws Exception {
        // the flipper writes the id through its segment from the host: a device tensor's segment holds a device
        // address, which the host must never read or write (a SIGSEGV, the JVM gone, on a GPU run). A device backend's
        // ids are only written in its own stream's order (copyIn, kernels), so no host thread can race its kernels.
        assumeTrue(b.device().isHost(), () -> b.name() + " keeps ids in " + b.device() + " memory: no host thread can"
                + " change them between the check and the kernel");
        float[] right = call.run();
        MemorySegment s = id.segment();
        int good = (int) INT.getVolatile(s, 0L);
        AtomicBoolean stop = new AtomicBoolean();
        Thread flipper = new Thread(() -> {
            while (!stop.get()) {
                INT.setVolatile(s, 0L, bad);
                Thread.onSpinWait();
                INT.setVolatile(s, 0L, good);
                Thread.onSpinWait();
            }
        }, "flipper");
        Map<String, Integer> wrong = new TreeMap<>();
        int calls = 0, refused = 0;
        flipper.start();
        try {
            long end = System.nanoTime() + RACE_NANOS;
            while (System.nanoTime() < end && wrong.isEmpty()) {
                calls++;
                try {
                    float[] got = call.run();
                    if (!java.util.Arrays.equals(got, right)) {
                        wrong.merge("a different answer, no exception", 1, Integer::sum);
                    }
                } catch (IndexOutOfBoundsException e) {
                    if (String.valueOf(e.getMessage()).startsWith(op + ": ") && e.getMessage().contains("= " + bad
                            + " is outside")) {
                        refused++;
                    } else {
                        wrong.merge(e.toString(), 1, Integer::sum);
                    }
                }
            }
        } finally {
            stop.set(true);
            flipper.join();
            INT.setVolatile(s, 0L, good);
        }
        assertEquals(Map.of(), wrong, b.name() + " " + op + ": calls that followed a bad id (" + calls + " calls, "
                + refused + " refused)");
        assertArrayEquals(right, call.run(), op + " once the id is valid again");
    }
}
