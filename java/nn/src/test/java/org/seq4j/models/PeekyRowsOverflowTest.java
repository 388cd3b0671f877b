// PeekyDecoder repeats h (N, H) over the steps as one (N*H,) bias on a (T, N*H) view: a view's dimension is an int, so
// N x H past 2^31 - 1 cannot be repeated. It failed in resize's view(t, n * H) with a view's "negative dimension" naming
// no call, after TimeLSTM.setState had sized its state for N rows and the workspace had taken T x N x H floats (8 GiB and
// more); PeekySeq2seq's forward ran its encoder first too. Refused by name now, before anything is allocated: every
// allocation here goes through FailingAllocations armed at 0, so one made first surfaces as its OutOfMemoryError. The
// inputs are real tensors of that size over a sparse file mapped into memory (SparseMemory): nothing
// read or written, no disk blocks used.
package org.seq4j.models;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.layers.FailingAllocations;
import org.seq4j.layers.ParameterStore;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Device;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.SparseMemory;
import org.seq4j.testing.TestBackends;

class PeekyRowsOverflowTest {
    static final int N = 1 << 30, H = 2;   // N x H = 2^31: Integer.MIN_VALUE in int
    static final String PAST = "N x H = 1073741824 x 2 = 2147483648 values of h (N, H), past the 2147483647";

    @TempDir
    Path dir;

    /** Runs call with every allocation refused; it must throw the IllegalArgumentException of op, allocating nothing. */
    private static void refused(FailingAllocations fa, String op, Executable call) {
        refused(fa, op, PAST, call);
    }

    private static void refused(FailingAllocations fa, String op, String past, Executable call) {
        Throwable thrown = null;
        fa.arm(0);
        try {
            call.execute();
        } catch (Throwable t) {   // the armed allocation's OutOfMemoryError too: JUnit would end the run on it
            thrown = t;
        } finally {
            fa.disarm();
        }
        assertFalse(fa.fired(), op + " allocated before refusing: " + thrown);
        IllegalArgumentException e = assertInstanceOf(IllegalArgumentException.class, thrown, op + " took N x H past"
                + " 2^31 - 1");
        assertTrue(e.getMessage().startsWith(op + ": " + past), e.getMessage());
        assertTrue(e.getMessage().endsWith("; use a smaller batch"), e.getMessage());
    }

    @Test
    void aDecoderRefusesNTimesHPastAnIntBeforeAllocating() throws IOException {
        FailingAllocations fa = new FailingAllocations(TestBackends.reference());
        ParameterStore.Builder b = ParameterStore.builder(fa.backend());
        PeekyDecoder.declare(b, "", 3, 1, H);
        Path file = dir.resolve("h.bin");
        try (ParameterStore store = b.build(1L); PeekyDecoder dec = new PeekyDecoder(fa.backend(), store, "");
             Arena arena = Arena.ofConfined()) {
            MemorySegment all = SparseMemory.map(file, (long) N * H * Float.BYTES + (long) N * Integer.BYTES, arena);
            Tensor h = Tensor.wrap(all.asSlice(0, (long) N * H * Float.BYTES), DType.F32, Device.CPU, N, H);
            Tensor xs = Tensor.wrap(all.asSlice((long) N * H * Float.BYTES), DType.I32, Device.CPU, 1, N);
            refused(fa, "PeekyDecoder.forward", () -> dec.forward(xs, h));
            refused(fa, "PeekyDecoder.generate", () -> dec.generate(h, 0, 1));
            refused(fa, "PeekyDecoder.steps", () -> dec.steps(h));
            // N from xs with a small h: refused as xs's N against h's (Inputs.encoding), before anything is sized
            Tensor h1 = fa.backend().allocate(arena, DType.F32, 1, H);
            Tensor xs1 = fa.backend().allocate(arena, DType.I32, 1, 1);
            dec.forward(xs1, h1);
            fa.arm(0);
            try {
                IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
                        IllegalArgumentException.class, () -> dec.forward(xs, h1));
                assertTrue(e.getMessage().startsWith("PeekyDecoder.forward: xs (1, " + N + ") is (T, N) with N=" + N
                        + ", but the encoding (1, " + H + ") has N=1"), e.getMessage());
            } finally {
                fa.disarm();
            }
            assertFalse(fa.fired(), "PeekyDecoder.forward allocated before refusing xs's N");
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void aPeekySeq2seqRefusesNTimesHPastAnIntBeforeItsEncoderRuns() throws IOException {
        FailingAllocations fa = new FailingAllocations(TestBackends.reference());
        Path file = dir.resolve("ids.bin");
        int n = N - 1;   // ts (N, 2): T x N = 2^31 - 2 rows, which the encoder and decoder take; N x H = 3 x (2^30 - 1)
        try (PeekySeq2seq model = new PeekySeq2seq(fa.backend(), 3, 1, 3, 1L); Arena arena = Arena.ofConfined()) {
            MemorySegment all = SparseMemory.map(file, 3L * n * Integer.BYTES, arena);
            Tensor xs = Tensor.wrap(all.asSlice(0, (long) n * Integer.BYTES), DType.I32, Device.CPU, n, 1);
            Tensor ts = Tensor.wrap(all.asSlice((long) n * Integer.BYTES), DType.I32, Device.CPU, n, 2);
            refused(fa, "PeekySeq2seq.forward", "N x H = 1073741823 x 3 = 3221225469 values of h (N, H), past the "
                    + "2147483647", () -> model.forward(xs, ts));
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
