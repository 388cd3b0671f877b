// Bad input to kernels: each is a clear exception naming the argument and what was expected, raised
// before any native code runs, on every backend (the checks live in AbstractBackend).
package org.seq4j.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Device;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class BadInputTest {

    @Target(ElementType.METHOD)
    @Retention(RetentionPolicy.RUNTIME)
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    @interface EveryBackend {
    }

    private static <T extends Throwable> void assertMessage(Class<T> type, Executable call, String... parts) {
        T e = assertThrows(type, call);
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), () -> "message '" + e.getMessage() + "' should mention '" + p + "'");
        }
    }

    @EveryBackend
    void wrongShapeNamesArgumentAndBothShapes(String name) {
        Backend b = TestBackends.get(name);
        try (Arena arena = Arena.ofConfined()) {
            Tensor h = b.allocate(arena, DType.F32, 3, 5), c = b.allocate(arena, DType.F32, 3, 5);
            Tensor gates = b.allocate(arena, DType.F32, 3, 20), badC = b.allocate(arena, DType.F32, 3, 6);
            assertMessage(IllegalArgumentException.class, () -> b.lstmCellForward(h, c, gates, badC),
                    "lstmCellForward", "cPrev", "(3, 6)", "expected (3, 5)");
            Tensor badGates = b.allocate(arena, DType.F32, 3, 19);
            assertMessage(IllegalArgumentException.class, () -> b.lstmCellForward(h, c, badGates, c),
                    "gates", "(3, 19)", "expected (3, 20)");
            // GRU: gates (N, 3H), and no output may share memory with an input (the C kernels promise restrict)
            Tensor gru = b.allocate(arena, DType.F32, 3, 15), rh = b.allocate(arena, DType.F32, 3, 5);
            assertMessage(IllegalArgumentException.class, () -> b.gruGatesForward(rh, gates, h), "gruGatesForward",
                    "gates", "(3, 20)", "expected (3, 15)");
            assertMessage(IllegalArgumentException.class, () -> b.gruCellForward(h, gru, badC), "gruCellForward",
                    "hPrev", "(3, 6)", "expected (3, 5)");
            assertMessage(IllegalArgumentException.class, () -> b.gruCellForward(h, gru, h), "gruCellForward",
                    "hNext and hPrev overlap");
            assertMessage(IllegalArgumentException.class, () -> b.gruCellBackward(gru, gru, h, c), "gruCellBackward",
                    "dA and gates overlap");
            assertMessage(IllegalArgumentException.class, () -> b.gruGatesBackward(gates, c, gru, h, rh, rh),
                    "gruGatesBackward", "dA", "(3, 20)", "expected (3, 15)");
            assertMessage(IllegalArgumentException.class, () -> b.gruGatesBackward(gru, c, gru.slice(0, 3), h, c, rh),
                    "gruGatesBackward", "dA and gates overlap");
            assertMessage(IllegalArgumentException.class, () -> b.gruGatesBackward(b.allocate(arena, DType.F32, 3, 15),
                    c, gru, h, c, rh), "gruGatesBackward", "dhPrev and dhNext overlap");
            Tensor x = b.allocate(arena, DType.F32, 4, 7), y = b.allocate(arena, DType.F32, 4, 8);
            assertMessage(IllegalArgumentException.class, () -> b.softmaxForward(y, x), "softmaxForward", "y", "(4, 8)",
                    "expected (4, 7)");
            // Adam that zeroes grad writes it: grad must not share memory with param, m or v
            Tensor flat = b.allocate(arena, DType.F32, 40), p = flat.flatSlice(0, 10), m = flat.flatSlice(10, 10);
            Tensor v = flat.flatSlice(20, 10);
            assertMessage(IllegalArgumentException.class, () -> b.adamUpdate(p, m, v, m, 1e-3f, 0.9f, 0.999f, 1e-7f,
                    true), "adamUpdate", "grad and m overlap");
            assertMessage(IllegalArgumentException.class, () -> b.adamUpdate(p, m, v, flat.flatSlice(15, 10), 1e-3f,
                    0.9f, 0.999f, 1e-7f, true), "adamUpdate", "grad and m overlap");
            assertMessage(IllegalArgumentException.class, () -> b.adamUpdate(p, m, v, flat.flatSlice(5, 10), 1e-3f,
                    0.9f, 0.999f, 1e-7f, true), "adamUpdate", "grad and param overlap");
            assertMessage(IllegalArgumentException.class, () -> b.adamUpdate(p, m, v, flat.flatSlice(25, 10), 1e-3f,
                    0.9f, 0.999f, 1e-7f, true), "adamUpdate", "grad and v overlap");
            b.adamUpdate(p, m, v, flat.flatSlice(30, 10), 1e-3f, 0.9f, 0.999f, 1e-7f, true); // disjoint: accepted
            assertMessage(IllegalArgumentException.class, () -> b.addScaled(y, x, 1f), "addScaled",
                    "same number of elements");
            assertMessage(IllegalArgumentException.class, () -> deprecatedAxpy(b, x, y), "addScaled",
                    "same number of elements");   // the old name runs the same checks
            // the carried hidden gradient of the two-part backward: its shape, and never null (7 arguments for none)
            Tensor dA = b.allocate(arena, DType.F32, 3, 20), dcPrev = b.allocate(arena, DType.F32, 3, 5);
            assertMessage(IllegalArgumentException.class,
                    () -> b.lstmCellBackward(dA, dcPrev, gates, c, h, h, badC, c), "lstmCellBackward", "dhCarry",
                    "(3, 6)", "expected (3, 5)");
            assertMessage(NullPointerException.class,
                    () -> b.lstmCellBackward(dA, dcPrev, gates, c, h, h, null, c), "lstmCellBackward", "dhCarry");
        }
    }

    @EveryBackend
    void wrongDtypeAndDevice(String name) {
        Backend b = TestBackends.get(name);
        try (Arena arena = Arena.ofConfined()) {
            Tensor w = b.allocate(arena, DType.F32, 10, 4), out = b.allocate(arena, DType.F32, 3, 4);
            Tensor floatIds = b.allocate(arena, DType.F32, 3);
            assertMessage(IllegalArgumentException.class, () -> b.embeddingForward(out, w, floatIds),
                    "embeddingForward", "ids", "must be I32");
            // a tensor that claims to live on the other device (its memory is host memory that the
            // kernel must never touch: the check rejects it first)
            Device other = b.device() == Device.CPU ? Device.CUDA : Device.CPU;
            Tensor alien = Tensor.wrap(arena.allocate(40 * 4, 64), DType.F32, other, 10, 4);
            assertMessage(IllegalArgumentException.class, () -> b.embeddingForward(out, alien, b.allocate(arena, DType.I32, 3)),
                    "W", "is on " + other, "works on " + b.device());
        }
    }

    @EveryBackend
    void idsOutOfVocabulary(String name) {
        Backend b = TestBackends.get(name);
        try (Arena arena = Arena.ofConfined()) {
            Tensor w = b.allocate(arena, DType.F32, 13, 4), out = b.allocate(arena, DType.F32, 3, 4);
            Tensor ids = b.allocate(arena, DType.I32, 3);
            b.copyIn(ids, new int[] {0, 12, 13});
            // host backends throw at the call; device backends at the next synchronising call
            assertMessage(IndexOutOfBoundsException.class, () -> {
                b.embeddingForward(out, w, ids);
                b.synchronize();
            }, "embeddingForward", "13", "[0, 13)");
            b.copyIn(ids, new int[] {-1, 0, 1});
            assertMessage(IndexOutOfBoundsException.class, () -> {
                b.embeddingBackward(w, ids, out);
                b.synchronize();
            }, "embeddingBackward", "-1");
            Tensor logits = b.allocate(arena, DType.F32, 3, 13), probs = b.allocate(arena, DType.F32, 3, 13);
            Tensor loss = b.allocate(arena, DType.F32, 1), labels = b.allocate(arena, DType.I32, 3);
            b.copyIn(labels, new int[] {-1, 5, -2});
            assertMessage(IndexOutOfBoundsException.class, () -> {
                b.softmaxCrossEntropyForward(probs, loss, logits, labels);
                b.synchronize();
            }, "labels", "-2", "ignore label -1");
        }
    }

    @EveryBackend
    void closedArena(String name) {
        Backend b = TestBackends.get(name);
        Tensor x;
        try (Arena arena = Arena.ofConfined()) {
            x = b.allocate(arena, DType.F32, 8);
        }
        assertMessage(IllegalStateException.class, () -> b.scale(x, 2f), "scale", "x", "already closed");
    }

    @EveryBackend
    void gemmExtentsAndAliasing(String name) {
        Backend b = TestBackends.get(name);
        try (Arena arena = Arena.ofConfined()) {
            Tensor a = b.allocate(arena, DType.F32, 4, 5), m = b.allocate(arena, DType.F32, 5, 6);
            Tensor c = b.allocate(arena, DType.F32, 4, 6);
            assertMessage(IllegalArgumentException.class,
                    () -> b.gemm(Transpose.NO, Transpose.NO, 4, 6, 5, 1f, a, 4, m, 6, 0f, c, 6), "lda",
                    "must be at least the 5 columns");
            // no columns: the stride is still at least 1 (it said "lda = 0 is smaller than the 0 columns")
            assertMessage(IllegalArgumentException.class,
                    () -> b.gemm(Transpose.NO, Transpose.NO, 4, 6, 0, 1f, a, 0, m, 6, 0f, c, 6), "lda = 0",
                    "must be at least 1 (a row stride is at least 1, also for 0 columns)");
            assertMessage(IllegalArgumentException.class,
                    () -> b.gemm(Transpose.NO, Transpose.NO, 4, 6, 5, 1f, a, 6, m, 6, 0f, c, 6), "a as a (4, 5) matrix",
                    "spans 23", "has only 20");
            Tensor sq = b.allocate(arena, DType.F32, 5, 5);
            assertMessage(IllegalArgumentException.class,
                    () -> b.matmul(Transpose.NO, Transpose.NO, 1f, sq, sq, 0f, sq), "c and a overlap");
            assertMessage(IllegalArgumentException.class,
                    () -> b.matmul(Transpose.NO, Transpose.NO, 1f, a, a, 0f, c), "matmul shapes do not agree");
        }
    }

    /**
     * gruSequenceForward and gruSequenceBackward: blocks never packed, of the wrong shapes or in two precisions, states
     * or gradients of the wrong length, outputs sharing memory; each a clear exception before any kernel runs.
     */
    @EveryBackend
    void gruSequenceMisuse(String name) {
        Backend b = TestBackends.get(name);
        try (Arena arena = Arena.ofConfined()) {
            int t = 3, n = 2, h = 5;
            Tensor hs = b.allocate(arena, DType.F32, t + 1, n, h), gates = b.allocate(arena, DType.F32, t, n, 3 * h);
            Tensor rhs = b.allocate(arena, DType.F32, t, n, h);
            PackedMatrix zr = b.packedMatrix(arena, h, 2 * h, PackedMatrix.Precision.F32);
            PackedMatrix hh = b.packedMatrix(arena, h, h, PackedMatrix.Precision.F32);
            assertMessage(IllegalStateException.class, () -> b.gruSequenceForward(hs, gates, rhs, zr, hh, true),
                    "gruSequenceForward", "never packed");
            b.pack(zr, Transpose.NO, b.allocate(arena, DType.F32, h, 2 * h));
            b.pack(hh, Transpose.NO, b.allocate(arena, DType.F32, h, h));
            assertMessage(IllegalArgumentException.class, () -> b.gruSequenceForward(hs, gates, rhs, hh, hh, true),
                    "gruSequenceForward", "expected Wh[:, :2H] (H, 2H), Whh (H, H) and gates (T, N, 3H)");
            Tensor wide = b.allocate(arena, DType.F32, t, n, 4 * h);
            assertMessage(IllegalArgumentException.class, () -> b.gruSequenceForward(hs, wide, rhs, zr, hh, true),
                    "gruSequenceForward", "gates has shape (3, 2, 20)");
            PackedMatrix bf16 = b.packedMatrix(arena, h, h, PackedMatrix.Precision.BF16);
            b.pack(bf16, Transpose.NO, b.allocate(arena, DType.F32, h, h));
            assertMessage(IllegalArgumentException.class, () -> b.gruSequenceForward(hs, gates, rhs, zr, bf16, true),
                    "gruSequenceForward", "expected both packed in one precision");
            Tensor shortHs = b.allocate(arena, DType.F32, t, n, h);
            assertMessage(IllegalArgumentException.class, () -> b.gruSequenceForward(shortHs, gates, rhs, zr, hh, true),
                    "gruSequenceForward", "hs", "(3, 2, 5)", "expected (4, 2, 5)");
            Tensor shortRhs = b.allocate(arena, DType.F32, t - 1, n, h);
            assertMessage(IllegalArgumentException.class, () -> b.gruSequenceForward(hs, gates, shortRhs, zr, hh, true),
                    "gruSequenceForward", "rhs", "(2, 2, 5)", "expected (3, 2, 5)");
            Tensor overHs = hs.slice(0, t);
            assertMessage(IllegalArgumentException.class, () -> b.gruSequenceForward(hs, gates, overHs, zr, hh, true),
                    "gruSequenceForward", "overlap");
            Tensor flat = b.allocate(arena, DType.F32, t * n, 3 * h);
            assertMessage(IllegalArgumentException.class, () -> b.gruSequenceForward(hs, flat, rhs, zr, hh, true),
                    "gruSequenceForward", "gates", "3-D");

            // the backward: transposed blocks of the right shapes, outputs of the right shapes and apart
            Tensor dA = b.allocate(arena, DType.F32, t, n, 3 * h), dh0 = b.allocate(arena, DType.F32, n, h);
            Tensor dhs = b.allocate(arena, DType.F32, t, n, h), drh = b.allocate(arena, DType.F32, n, h);
            PackedMatrix zrT = b.packedMatrix(arena, 2 * h, h, PackedMatrix.Precision.F32);
            assertMessage(IllegalStateException.class, () -> b.gruSequenceBackward(dA, dh0, dhs, drh, gates, hs, zrT, hh),
                    "gruSequenceBackward", "never packed");
            b.pack(zrT, Transpose.NO, b.allocate(arena, DType.F32, 2 * h, h));
            assertMessage(IllegalArgumentException.class, () -> b.gruSequenceBackward(dA, dh0, dhs, drh, gates, hs, zr, hh),
                    "gruSequenceBackward", "expected Wh[:, :2H]^T (2H, H), Whh^T (H, H)");
            assertMessage(IllegalArgumentException.class,
                    () -> b.gruSequenceBackward(dA, dh0, dhs, drh, gates, hs, zrT, bf16),
                    "gruSequenceBackward", "expected both packed in one precision");
            assertMessage(IllegalArgumentException.class,
                    () -> b.gruSequenceBackward(dA, dh0, shortRhs, drh, gates, hs, zrT, hh),
                    "gruSequenceBackward", "dhs", "(2, 2, 5)", "expected (3, 2, 5)");
            assertMessage(IllegalArgumentException.class,
                    () -> b.gruSequenceBackward(dA, dh0, dhs, drh, gates, shortHs, zrT, hh),
                    "gruSequenceBackward", "hs", "(3, 2, 5)", "expected (4, 2, 5)");
            assertMessage(IllegalArgumentException.class,
                    () -> b.gruSequenceBackward(dA, dh0, dhs, dh0, gates, hs, zrT, hh),
                    "gruSequenceBackward", "overlap");
            assertMessage(IllegalArgumentException.class,
                    () -> b.gruSequenceBackward(gates, dh0, dhs, drh, gates, hs, zrT, hh),
                    "gruSequenceBackward", "overlap");
            // pairs that used to pass and give wrong numbers: rhs over the last step of gates, dh0 over a step of
            // dhs, drh over gates, and a cell's hPrev over the gates it activates in place
            Tensor gatesAndMore = b.allocate(arena, DType.F32, t * n * 3 * h + t * n * h);
            Tensor gatesUnder = gatesAndMore.flatSlice(0, t * n * 3 * h).view(t, n, 3 * h);
            Tensor rhsOver = gatesAndMore.flatSlice((long) t * n * 3 * h - n * h, t * n * h).view(t, n, h);
            assertMessage(IllegalArgumentException.class,
                    () -> b.gruSequenceForward(hs, gatesUnder, rhsOver, zr, hh, true), "gruSequenceForward",
                    "gates and rhs overlap");
            assertMessage(IllegalArgumentException.class,
                    () -> b.gruSequenceBackward(dA, dhs.get(t - 1), dhs, drh, gates, hs, zrT, hh),
                    "gruSequenceBackward", "dh0 and dhs overlap");
            assertMessage(IllegalArgumentException.class,
                    () -> b.gruSequenceBackward(dA, dh0, dhs, gates.get(0).view(n * 3 * h).flatSlice(0, n * h)
                            .view(n, h), gates, hs, zrT, hh), "gruSequenceBackward", "drh and gates overlap");
            Tensor step = gates.get(0), hPrevInStep = step.view(n * 3 * h).flatSlice(h, n * h).view(n, h);
            assertMessage(IllegalArgumentException.class,
                    () -> b.gruGatesForward(b.allocate(arena, DType.F32, n, h), step, hPrevInStep), "gruGatesForward",
                    "gates and hPrev overlap");
            assertMessage(IllegalArgumentException.class,
                    () -> b.gruCellForward(b.allocate(arena, DType.F32, n, h), step, hPrevInStep), "gruCellForward",
                    "gates and hPrev overlap");
        }
        // live everything else, but one tensor or block of a closed arena: refused before any kernel reads it
        try (Arena live = Arena.ofConfined()) {
            int t = 2, n = 2, h = 5;
            Tensor hs = b.allocate(live, DType.F32, t + 1, n, h), gates = b.allocate(live, DType.F32, t, n, 3 * h);
            Tensor rhs = b.allocate(live, DType.F32, t, n, h), dA = b.allocate(live, DType.F32, t, n, 3 * h);
            Tensor dh0 = b.allocate(live, DType.F32, n, h), drh = b.allocate(live, DType.F32, n, h);
            PackedMatrix zr = b.packedMatrix(live, h, 2 * h, PackedMatrix.Precision.F32);
            PackedMatrix hh = b.packedMatrix(live, h, h, PackedMatrix.Precision.F32);
            PackedMatrix hhT = b.packedMatrix(live, h, h, PackedMatrix.Precision.F32);
            b.pack(zr, Transpose.NO, b.allocate(live, DType.F32, h, 2 * h));
            b.pack(hh, Transpose.NO, b.allocate(live, DType.F32, h, h));
            b.pack(hhT, Transpose.YES, b.allocate(live, DType.F32, h, h));
            Tensor closedHs, closedDhs;
            PackedMatrix closedZrT;
            try (Arena arena = Arena.ofConfined()) {
                closedHs = b.allocate(arena, DType.F32, t + 1, n, h);
                closedDhs = b.allocate(arena, DType.F32, t, n, h);
                closedZrT = b.packedMatrix(arena, 2 * h, h, PackedMatrix.Precision.F32);
                b.pack(closedZrT, Transpose.YES, b.allocate(arena, DType.F32, h, 2 * h));
            }
            assertMessage(IllegalStateException.class, () -> b.gruSequenceForward(closedHs, gates, rhs, zr, hh, true),
                    "gruSequenceForward", "already closed");
            Tensor dhs = b.allocate(live, DType.F32, t, n, h);
            assertMessage(IllegalStateException.class,
                    () -> b.gruSequenceBackward(dA, dh0, closedDhs, drh, gates, hs, zr, hhT),
                    "gruSequenceBackward", "already closed");
            assertMessage(IllegalStateException.class,
                    () -> b.gruSequenceBackward(dA, dh0, dhs, drh, gates, hs, closedZrT, hhT),
                    "gruSequenceBackward", "already closed");
        }
    }

    /**
     * The whole-sequence LSTM calls: a Wh of the wrong shape or never packed, states of the wrong length, an output
     * sharing memory with an input, and a backward with neither dhs nor dhLast; each a clear exception before any
     * kernel runs.
     */
    @EveryBackend
    void lstmSequenceMisuse(String name) {
        Backend b = TestBackends.get(name);
        try (Arena arena = Arena.ofConfined()) {
            int t = 3, n = 2, h = 5;
            Tensor hs = b.allocate(arena, DType.F32, t + 1, n, h), cs = b.allocate(arena, DType.F32, t + 1, n, h);
            Tensor gates = b.allocate(arena, DType.F32, t, n, 4 * h), w = b.allocate(arena, DType.F32, h, 4 * h);
            b.fill(w, 0.1f);
            PackedMatrix wh = b.packedMatrix(arena, h, 4 * h, PackedMatrix.Precision.F32);
            assertMessage(IllegalStateException.class, () -> b.lstmSequenceForward(hs, cs, gates, wh, true),
                    "lstmSequenceForward", "never packed");
            b.pack(wh, Transpose.NO, w);
            Tensor shortHs = b.allocate(arena, DType.F32, t, n, h);
            assertMessage(IllegalArgumentException.class, () -> b.lstmSequenceForward(shortHs, cs, gates, wh, true),
                    "lstmSequenceForward", "hs", "(3, 2, 5)", "expected (4, 2, 5)");
            PackedMatrix wide = b.packedMatrix(arena, h, 4 * h + 4, PackedMatrix.Precision.F32);
            b.pack(wide, Transpose.NO, b.allocate(arena, DType.F32, h, 4 * h + 4));
            assertMessage(IllegalArgumentException.class, () -> b.lstmSequenceForward(hs, cs, gates, wide, true),
                    "lstmSequenceForward", "expected Wh (H, 4H) and gates (T, N, 4H)");
            assertMessage(IllegalArgumentException.class, () -> b.lstmSequenceForward(hs, hs, gates, wh, true),
                    "lstmSequenceForward", "hs and cs overlap");
            Tensor flat = b.allocate(arena, DType.F32, t * n, 4 * h);
            assertMessage(IllegalArgumentException.class, () -> b.lstmSequenceForward(hs, cs, flat, wh, true),
                    "lstmSequenceForward", "gates", "3-D");

            // with a table (V, 4H) and ids (T, N): the table's width, the ids' shape and dtype, an id out of range
            // (named with its position; nothing runs), an output over the table or the ids
            Tensor table = b.allocate(arena, DType.F32, 6, 4 * h), ids = b.allocate(arena, DType.I32, t, n);
            b.fill(ids, 2);
            Tensor narrow = b.allocate(arena, DType.F32, 6, 4 * h - 1);
            assertMessage(IllegalArgumentException.class, () -> b.lstmSequenceForward(hs, cs, gates, wh, true, narrow,
                    ids), "lstmSequenceForward", "table", "(6, 19)", "expected (V, 4H) with H = 5");
            Tensor flatIds = b.allocate(arena, DType.I32, t * n);
            assertMessage(IllegalArgumentException.class, () -> b.lstmSequenceForward(hs, cs, gates, wh, true, table,
                    flatIds), "lstmSequenceForward", "ids");
            Tensor floatIds = b.allocate(arena, DType.F32, t, n);
            assertMessage(IllegalArgumentException.class, () -> b.lstmSequenceForward(hs, cs, gates, wh, true, table,
                    floatIds), "lstmSequenceForward", "ids must be I32 but is F32");
            b.copyIn(ids, new int[] {0, 1, 2, 3, 6, 5});
            assertMessage(IndexOutOfBoundsException.class, () -> {
                b.lstmSequenceForward(hs, cs, gates, wh, true, table, ids);
                b.synchronize();   // where the ids live on a device, its kernel reports them here
            }, "lstmSequenceForward", "ids[4] = 6 is outside [0, 6)");
            b.fill(ids, 2);
            Tensor both = b.allocate(arena, DType.F32, t * n * 4 * h + 6 * 4 * h);
            Tensor gatesOver = both.flatSlice(0, t * n * 4 * h).view(t, n, 4 * h);
            Tensor tableUnder = both.flatSlice(t * n * 4 * h - 4 * h, 6 * 4 * h).view(6, 4 * h);
            assertMessage(IllegalArgumentException.class, () -> b.lstmSequenceForward(hs, cs, gatesOver, wh, true,
                    tableUnder, ids), "lstmSequenceForward", "gates and table overlap");

            PackedMatrix whT = b.packedMatrix(arena, 4 * h, h, PackedMatrix.Precision.F32);
            b.pack(whT, Transpose.YES, w);
            Tensor dA = b.allocate(arena, DType.F32, t, n, 4 * h), dh0 = b.allocate(arena, DType.F32, n, h);
            Tensor dc0 = b.allocate(arena, DType.F32, n, h), work = b.allocate(arena, DType.F32, 3, n, h);
            Tensor dhs = b.allocate(arena, DType.F32, t, n, h);
            assertMessage(NullPointerException.class, () -> b.lstmSequenceBackward(dA, dh0, dc0, work, gates, cs, null,
                    null, null, whT), "lstmSequenceBackward", "dhs and dhLast are both null");
            assertMessage(IllegalArgumentException.class, () -> b.lstmSequenceBackward(dA, dh0, dc0, work, gates, cs,
                    dhs, null, null, wh), "lstmSequenceBackward", "expected Wh^T (4H, H)");
            Tensor smallWork = b.allocate(arena, DType.F32, 2, n, h);
            assertMessage(IllegalArgumentException.class, () -> b.lstmSequenceBackward(dA, dh0, dc0, smallWork, gates,
                    cs, dhs, null, null, whT), "lstmSequenceBackward", "work", "(2, 2, 5)", "expected (3, 2, 5)");
            assertMessage(IllegalArgumentException.class, () -> b.lstmSequenceBackward(dA, dh0, dc0, work, gates, cs,
                    dhs, null, dc0, whT), "lstmSequenceBackward", "dc0 and dcLast overlap");
            assertMessage(IllegalArgumentException.class, () -> b.lstmSequenceBackward(dA, dh0, dc0, work, gates, cs,
                    null, work.get(0), null, whT), "lstmSequenceBackward", "work and dhLast overlap");
            assertMessage(IllegalArgumentException.class, () -> b.lstmSequenceBackward(gates, dh0, dc0, work, gates, cs,
                    dhs, null, null, whT), "lstmSequenceBackward", "dA and gates overlap");
        }
        // tensors and packed matrices of a closed arena: refused before any kernel reads them
        Tensor hs, cs, gates;
        PackedMatrix wh;
        try (Arena arena = Arena.ofConfined()) {
            hs = b.allocate(arena, DType.F32, 3, 2, 5);
            cs = b.allocate(arena, DType.F32, 3, 2, 5);
            gates = b.allocate(arena, DType.F32, 2, 2, 20);
            wh = b.packedMatrix(arena, 5, 20, PackedMatrix.Precision.F32);
            b.pack(wh, Transpose.NO, b.allocate(arena, DType.F32, 5, 20));
        }
        assertMessage(IllegalStateException.class, () -> b.lstmSequenceForward(hs, cs, gates, wh, true),
                "lstmSequenceForward", "already closed");
        // live states and weights, but the table and the ids of a closed arena
        try (Arena live = Arena.ofConfined()) {
            Tensor hs2 = b.allocate(live, DType.F32, 3, 2, 5), cs2 = b.allocate(live, DType.F32, 3, 2, 5);
            Tensor gates2 = b.allocate(live, DType.F32, 2, 2, 20);
            PackedMatrix wh2 = b.packedMatrix(live, 5, 20, PackedMatrix.Precision.F32);
            b.pack(wh2, Transpose.NO, b.allocate(live, DType.F32, 5, 20));
            Tensor table, ids;
            try (Arena arena = Arena.ofConfined()) {
                table = b.allocate(arena, DType.F32, 4, 20);
                ids = b.allocate(arena, DType.I32, 2, 2);
            }
            Tensor liveIds = b.allocate(live, DType.I32, 2, 2), liveTable = b.allocate(live, DType.F32, 4, 20);
            assertMessage(IllegalStateException.class, () -> b.lstmSequenceForward(hs2, cs2, gates2, wh2, true, table,
                    liveIds), "lstmSequenceForward", "already closed");
            assertMessage(IllegalStateException.class, () -> b.lstmSequenceForward(hs2, cs2, gates2, wh2, true,
                    liveTable, ids), "lstmSequenceForward", "already closed");
        }
    }

    /**
     * The whole-TimeAttention calls: states whose batch or width disagree, outputs of the wrong shape, an output
     * sharing memory with an input or another output; each a clear exception before any kernel runs.
     */
    @EveryBackend
    void timeAttentionMisuse(String name) {
        Backend b = TestBackends.get(name);
        try (Arena arena = Arena.ofConfined()) {
            int te = 4, td = 3, n = 2, h = 5;
            Tensor hsEnc = b.allocate(arena, DType.F32, te, n, h), hsDec = b.allocate(arena, DType.F32, td, n, h);
            Tensor a = b.allocate(arena, DType.F32, td, n, te), c = b.allocate(arena, DType.F32, td, n, h);
            Tensor wideDec = b.allocate(arena, DType.F32, td, n, h + 1);
            assertMessage(IllegalArgumentException.class, () -> b.timeAttentionForward(a, c, hsEnc, wideDec),
                    "timeAttentionForward", "hsDec", "(3, 2, 6)", "expected (3, 2, 5)");
            Tensor aT = b.allocate(arena, DType.F32, td, n, te + 1);
            assertMessage(IllegalArgumentException.class, () -> b.timeAttentionForward(aT, c, hsEnc, hsDec),
                    "timeAttentionForward", "a", "(3, 2, 5)", "expected (3, 2, 4)");
            Tensor flatEnc = b.allocate(arena, DType.F32, te * n, h);
            assertMessage(IllegalArgumentException.class, () -> b.timeAttentionForward(a, c, flatEnc, hsDec),
                    "timeAttentionForward", "hsEnc", "3-D");
            assertMessage(IllegalArgumentException.class, () -> b.timeAttentionForward(a, hsDec, hsEnc, hsDec),
                    "timeAttentionForward", "c and hsDec overlap");

            Tensor dhsEnc = b.allocate(arena, DType.F32, te, n, h), dhsDec = b.allocate(arena, DType.F32, td, n, h);
            Tensor work = b.allocate(arena, DType.F32, n, te), dc = b.allocate(arena, DType.F32, td, n, h);
            Tensor shortWork = b.allocate(arena, DType.F32, n, te - 1);
            assertMessage(IllegalArgumentException.class, () -> b.timeAttentionBackward(dhsEnc, dhsDec, shortWork, a,
                    hsEnc, hsDec, dc), "timeAttentionBackward", "work", "(2, 3)", "expected (2, 4)");
            assertMessage(IllegalArgumentException.class, () -> b.timeAttentionBackward(dhsEnc, dc, work, a, hsEnc,
                    hsDec, dc), "timeAttentionBackward", "dhsDec and dc overlap");
            assertMessage(IllegalArgumentException.class, () -> b.timeAttentionBackward(hsEnc, dhsDec, work, a, hsEnc,
                    hsDec, dc), "timeAttentionBackward", "dhsEnc and hsEnc overlap");
            assertMessage(IllegalArgumentException.class, () -> b.timeAttentionBackward(dhsEnc, dhsDec, a.get(0), a,
                    hsEnc, hsDec, dc), "timeAttentionBackward", "work", "overlap");
            // the per-step kernels too: an output over an input it reads
            Tensor da = b.allocate(arena, DType.F32, n, te);
            assertMessage(IllegalArgumentException.class, () -> b.weightSumBackward(hsEnc, da, hsEnc, a.get(0),
                    dc.get(0)), "weightSumBackward", "dhs and hs overlap");
            assertMessage(IllegalArgumentException.class, () -> b.attentionWeightBackward(dhsEnc, hsDec.get(0),
                    a.get(0), hsEnc, hsDec.get(0), da), "attentionWeightBackward", "dh and h overlap");
            assertMessage(IllegalArgumentException.class, () -> b.weightSumForward(hsEnc.get(1), hsEnc, da),
                    "weightSumForward", "c and hs overlap");
        }
        // tensors of a closed arena: refused before any kernel reads them
        Tensor a, c, hsEnc, hsDec;
        try (Arena arena = Arena.ofConfined()) {
            hsEnc = b.allocate(arena, DType.F32, 4, 2, 5);
            hsDec = b.allocate(arena, DType.F32, 3, 2, 5);
            a = b.allocate(arena, DType.F32, 3, 2, 4);
            c = b.allocate(arena, DType.F32, 3, 2, 5);
        }
        assertMessage(IllegalStateException.class, () -> b.timeAttentionForward(a, c, hsEnc, hsDec),
                "timeAttentionForward", "already closed");
    }

    /**
     * Misuse of packed matrices, each one clear exception before any kernel runs: a matrix of another backend (here
     * another instance), one never packed, shapes that do not agree, a closed arena, and storage smaller than the
     * backend's layout needs (a hand-made PackedMatrix, which would otherwise let a kernel read past it).
     */
    @EveryBackend
    void packedMatrixMisuse(String name) {
        Backend b = TestBackends.get(name);
        try (Arena arena = Arena.ofConfined(); Backend other = new JavaBackend()) {
            Tensor w = b.allocate(arena, DType.F32, 6, 20), a = b.allocate(arena, DType.F32, 3, 6);
            Tensor c = b.allocate(arena, DType.F32, 3, 20);
            b.fill(w, 0.5f);
            b.fill(a, 1f);
            PackedMatrix fresh = b.packedMatrix(arena, 6, 20, PackedMatrix.Precision.F32);
            assertMessage(IllegalStateException.class, () -> b.gemmPacked(c, a, fresh, 0f), "gemmPacked",
                    "never packed", "pack(");
            PackedMatrix foreign = other.packedMatrix(arena, 6, 20, PackedMatrix.Precision.F32);
            assertMessage(IllegalArgumentException.class, () -> b.pack(foreign, Transpose.NO, w), "pack",
                    "belongs to the java backend", "not this " + b.name());
            assertMessage(IllegalArgumentException.class, () -> b.gemmPacked(c, a, foreign, 0f), "gemmPacked",
                    "belongs to");
            assertMessage(IllegalArgumentException.class, () -> b.pack(fresh, Transpose.YES, w), "pack", "w",
                    "(6, 20)", "expected (20, 6)");
            b.pack(fresh, Transpose.NO, w);
            Tensor badA = b.allocate(arena, DType.F32, 3, 7), badC = b.allocate(arena, DType.F32, 3, 21);
            assertMessage(IllegalArgumentException.class, () -> b.gemmPacked(c, badA, fresh, 0f), "gemmPacked", "a",
                    "(3, 7)", "expected (3, 6)");
            assertMessage(IllegalArgumentException.class, () -> b.gemmPacked(badC, a, fresh, 0f), "gemmPacked", "c",
                    "(3, 21)", "expected (3, 20)");
            assertMessage(IllegalArgumentException.class,
                    () -> b.packedMatrix(arena, -1, 20, PackedMatrix.Precision.BF16), "packedMatrix", "negative");
            // the strided overloads: a leading dimension below the row it strides over, a strided matrix that does
            // not fit in its tensor (w here is (6, 20): a column block 0..20 of width 20 at ldw 21 ends past it)
            assertMessage(IllegalArgumentException.class, () -> b.pack(fresh, Transpose.NO, w, 19), "pack", "ldw = 19",
                    "must be at least the 20 columns");
            assertMessage(IllegalArgumentException.class, () -> b.pack(fresh, Transpose.YES, w, 5), "pack", "ldw = 5",
                    "must be at least the 6 columns");
            assertMessage(IllegalArgumentException.class, () -> b.pack(fresh, Transpose.NO, w, 21), "pack", "w",
                    "spans 125 elements", "has only 120");
            assertMessage(IllegalArgumentException.class, () -> b.pack(fresh, Transpose.NO, w.flatSlice(1, 119), 20),
                    "pack", "spans 120 elements", "has only 119");
            assertMessage(IllegalArgumentException.class, () -> b.gemmPacked(3, c, 20, a, 5, fresh, 0f), "gemmPacked",
                    "lda = 5", "must be at least the 6 columns");
            assertMessage(IllegalArgumentException.class, () -> b.gemmPacked(3, c, 19, a, 6, fresh, 0f), "gemmPacked",
                    "ldc = 19", "must be at least the 20 columns");
            assertMessage(IllegalArgumentException.class, () -> b.gemmPacked(3, c, 21, a, 6, fresh, 0f), "gemmPacked",
                    "c", "spans 62 elements", "has only 60");
            assertMessage(IllegalArgumentException.class, () -> b.gemmPacked(3, c, 20, a, 7, fresh, 0f), "gemmPacked",
                    "a", "spans 20 elements", "has only 18");
            assertMessage(IllegalArgumentException.class, () -> b.gemmPacked(4, c, 20, a, 6, fresh, 0f), "gemmPacked",
                    "a", "(4, 6)", "has only 18");
            assertMessage(IllegalArgumentException.class, () -> b.gemmPacked(-1, c, 20, a, 6, fresh, 0f), "gemmPacked",
                    "negative", "m = -1");
            assertMessage(IllegalArgumentException.class, () -> b.gemmPacked(3, a, 20, a, 6, fresh, 0f), "gemmPacked",
                    "c", "spans 60 elements", "has only 18");
            assertMessage(IllegalArgumentException.class, () -> b.gemmPacked(2, c.flatSlice(20, 40), 20, c, 6, fresh,
                    0f), "gemmPacked", "c and a overlap");
            for (PackedMatrix.Precision precision : PackedMatrix.Precision.values()) {
                Tensor small = b.allocate(arena, DType.F32, 10); // short of every layout (row-major: 120)
                PackedMatrix handMade = new PackedMatrix(b, 6, 20, precision, small);
                assertMessage(IllegalArgumentException.class, () -> b.pack(handMade, Transpose.NO, w), "pack",
                        "elements of storage", b.name() + " lays it out in exactly");
                assertMessage(IllegalArgumentException.class, () -> b.gemmPacked(c, a, handMade, 0f), "gemmPacked",
                        "elements of storage");
                // too large is refused too: the layout is exact, and a default pack views the storage as (K, N)
                Tensor large = b.allocate(arena, DType.F32, 100_000);
                PackedMatrix roomy = new PackedMatrix(b, 6, 20, precision, large);
                assertMessage(IllegalArgumentException.class, () -> b.pack(roomy, Transpose.NO, w), "pack",
                        "elements of storage", "exactly");
            }
        }
        PackedMatrix closed;
        Tensor a, c, w;
        try (Arena arena = Arena.ofConfined()) {
            closed = b.packedMatrix(arena, 4, 5, PackedMatrix.Precision.F32);
        }
        try (Arena arena = Arena.ofConfined()) {
            a = b.allocate(arena, DType.F32, 2, 4);
            c = b.allocate(arena, DType.F32, 2, 5);
            w = b.allocate(arena, DType.F32, 4, 5);
            assertMessage(IllegalStateException.class, () -> b.pack(closed, Transpose.NO, w), "pack", "already closed");
            assertMessage(IllegalStateException.class, () -> b.gemmPacked(c, a, closed, 0f), "gemmPacked",
                    "already closed");
        }
    }

    /**
     * requireOperand with no op or name: on openblas a heap tensor reached acceptsHeap(null), the JVM's "Cannot invoke
     * String.hashCode()", and a usable tensor passed (CoreApiFuzzTest).
     */
    @EveryBackend
    void requireOperandRefusesANullOpOrName(String name) {
        Backend b = TestBackends.get(name);
        try (Arena arena = Arena.ofConfined()) {
            for (Tensor t : new Tensor[] {Tensor.wrap(new float[2], 2), b.allocate(arena, DType.F32, 2)}) {
                assertMessage(NullPointerException.class, () -> b.requireOperand(null, "x", t),
                        "requireOperand: op is null");
                assertMessage(NullPointerException.class, () -> b.requireOperand("sumRows", null, t),
                        "requireOperand: name is null");
            }
        }
    }

    /**
     * Sizes whose exact value overflows: each is refused by the check, before any kernel runs. Without exact
     * arithmetic, allocate((2^30, 2^30, 4)) wraps to a 0-byte tensor of 2^62 elements (scale() on it then
     * crashes the JVM in native code), and a stride of 2^62 times a batch of 5 wraps to 0 and passes the bounds
     * check. The strides here wrap to whole multiples of 2^64 bytes, so even an unchecked kernel stays inside C.
     */
    @EveryBackend
    void sizesThatOverflowAreRefusedBeforeAnyKernel(String name) {
        Backend b = TestBackends.get(name);
        try (Arena arena = Arena.ofConfined()) {
            assertMessage(IllegalArgumentException.class, () -> b.allocate(arena, DType.F32, 1 << 30, 1 << 30, 4),
                    "allocate", "(1073741824, 1073741824, 4)", "more than the " + Long.MAX_VALUE + " bytes");
            assertMessage(IllegalArgumentException.class,
                    () -> b.allocate(arena, DType.I32, Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE),
                    "allocate", "overflows a long");
            assertEquals(0, b.allocate(arena, DType.F32, Integer.MAX_VALUE, Integer.MAX_VALUE, 4, 0).size(),
                    "a zero dimension makes any shape empty");
            // fits a long, but no platform addresses 2^59 bytes: was the arena's OutOfMemoryError (CoreApiFuzzTest)
            assertMessage(IllegalArgumentException.class, () -> b.allocate(arena, DType.F32, Integer.MAX_VALUE,
                    1 << 26), "allocate", "(2147483647, 67108864)", "more than the 2^57");
            assertMessage(IllegalArgumentException.class, () -> Tensor.allocateHost(arena, DType.F32,
                    Integer.MAX_VALUE, 1 << 26), "Tensor.allocateHost", "more than the 2^57");
            assertMessage(IllegalArgumentException.class, () -> b.packedMatrix(arena, 1 << 30, 1 << 30,
                    PackedMatrix.Precision.F32), "packedMatrix", "(1073741824, 1073741824)", "more than the 2^57");

            Tensor a = b.allocate(arena, DType.F32, 2, 3), m = b.allocate(arena, DType.F32, 3, 2);
            Tensor c = b.allocate(arena, DType.F32, 2, 2);
            b.fill(c, 7f);
            long stride = 1L << 62;
            assertMessage(IllegalArgumentException.class, () -> b.gemmStridedBatched(Transpose.NO, Transpose.NO, 2, 2, 3,
                    1f, a, 3, 0, m, 2, 0, 0f, c, 2, stride, 5), "gemmStridedBatched", "c as a (2, 2) matrix",
                    "stride " + stride + " and batch 5", "spans more than " + Long.MAX_VALUE, "has only 4");
            assertMessage(IllegalArgumentException.class, () -> b.gemmStridedBatched(Transpose.NO, Transpose.NO, 2, 2, 3,
                    1f, a, 3, stride, m, 2, 0, 0f, c, 2, 4, 1 << 20), "a as a (2, 3) matrix", "has only 6");
            float[] after = new float[4];
            b.copyOut(after, c);
            assertArrayEquals(new float[] {7, 7, 7, 7}, after, "no kernel wrote C");
            // batch C matrices that share elements: side by side closer than n (strideC 1 < n = 2), or past ldc
            Tensor c6 = b.allocate(arena, DType.F32, 6);
            assertMessage(IllegalArgumentException.class, () -> b.gemmStridedBatched(Transpose.NO, Transpose.NO, 2, 2,
                    3, 1f, a, 3, 0, m, 2, 0, 0f, c6, 3, 1, 2), "gemmStridedBatched: strideC 1 makes the 2 output "
                    + "matrices (2, 2) at row stride 3 overlap", "strideC >= 5", "side by side");
            Tensor c9 = b.allocate(arena, DType.F32, 9);
            assertMessage(IllegalArgumentException.class, () -> b.gemmStridedBatched(Transpose.NO, Transpose.NO, 2, 2,
                    3, 1f, a, 3, 0, m, 2, 0, 0f, c9, 3, 2, 3), "strideC 2 makes the 3 output matrices");

            // 4H gate columns and f1 + f2 concatenated columns must fit the int dimension the kernels take
            Tensor h = b.allocate(arena, DType.F32, 0, 1 << 30), gates = b.allocate(arena, DType.F32, 0, 0);
            assertMessage(IllegalArgumentException.class, () -> b.lstmCellForward(h, h, gates, h), "lstmCellForward",
                    "4H = 4294967296", "more than the " + Integer.MAX_VALUE);
            assertMessage(IllegalArgumentException.class, () -> b.gruCellForward(h, gates, h), "gruCellForward",
                    "3H = 3221225472", "more than the " + Integer.MAX_VALUE);
            Tensor wide = b.allocate(arena, DType.F32, 0, Integer.MAX_VALUE), one = b.allocate(arena, DType.F32, 0, 1);
            assertMessage(IllegalArgumentException.class, () -> b.concatColumns(gates, wide, one), "concatColumns",
                    "2147483647 + 1 columns", "more than the " + Integer.MAX_VALUE);
        }
    }

    /** The same arithmetic in Tensor itself: wrap, allocateHost, view and flatSlice, with and without a backend. */
    @Test
    void tensorSizesAreExact() {
        try (Arena arena = Arena.ofConfined()) {
            assertMessage(IllegalArgumentException.class,
                    () -> Tensor.allocateHost(arena, DType.F32, 1 << 30, 1 << 30, 4), "(1073741824, 1073741824, 4)");
            // a 0-byte segment: the wrapped byte count (2^64 = 0) must not make it fit
            assertMessage(IllegalArgumentException.class,
                    () -> Tensor.wrap(arena.allocate(0, 64), DType.F32, Device.CPU, 1 << 30, 1 << 30, 4), "bytes");
            Tensor x = Tensor.allocateHost(arena, DType.F32, 6);
            assertMessage(IllegalArgumentException.class, () -> x.view(Integer.MAX_VALUE, Integer.MAX_VALUE,
                    Integer.MAX_VALUE), "overflows a long");
            // offset + count would wrap to a negative number and pass a naive bound
            assertMessage(IndexOutOfBoundsException.class, () -> x.flatSlice(Long.MAX_VALUE, 1),
                    "1 elements from element " + Long.MAX_VALUE, "a tensor of 6 elements");
            assertEquals(2, x.flatSlice(4, 2).size());
            assertMessage(IndexOutOfBoundsException.class, () -> x.flatSlice(5, 2), "2 elements from element 5");
            // the public size helpers: two negative dimensions multiplied to a size (6), and -16 bytes
            assertMessage(IllegalArgumentException.class, () -> Tensor.sizeOf(-2, -3), "(-2, -3)", "negative dimension");
            assertMessage(IllegalArgumentException.class, () -> Tensor.byteSizeOf(DType.F32, -1, 4), "(-1, 4)",
                    "negative dimension");
            assertEquals(24, Tensor.byteSizeOf(DType.F32, 2, 3));
        }
    }

    @EveryBackend
    void copyAndItemBounds(String name) {
        Backend b = TestBackends.get(name);
        try (Arena arena = Arena.ofConfined()) {
            Tensor x = b.allocate(arena, DType.F32, 2, 3);
            assertMessage(IllegalArgumentException.class, () -> b.copyIn(x, new float[5]), "length 5", "6 elements");
            assertMessage(IllegalArgumentException.class, () -> b.copyIn(x, new int[6]), "must be I32");
            assertMessage(IndexOutOfBoundsException.class, () -> b.item(x, 6), "index 6");
            assertMessage(IllegalArgumentException.class, () -> b.dropoutMask(x, 1f, 0), "ratio", "[0, 1)");
            Tensor flat = x.view(6);
            assertMessage(IllegalArgumentException.class, () -> b.copy(flat.flatSlice(1, 3), flat.flatSlice(0, 3)),
                    "copy", "dst and src overlap");
        }
    }

    /**
     * Overlapping outputs and inputs that kernels used to take and compute wrongly (each read elements the kernel had
     * already written): refused like gemm's, while an elementwise output may still be its input itself.
     */
    @EveryBackend
    void partlyOverlappingArgumentsAreRefused(String name) {
        Backend b = TestBackends.get(name);
        try (Arena arena = Arena.ofConfined()) {
            Tensor flat = b.allocate(arena, DType.F32, 64);
            Tensor x = flat.flatSlice(0, 16), shifted = flat.flatSlice(1, 16);
            assertMessage(IllegalArgumentException.class, () -> b.mul(shifted, x, x), "mul",
                    "out and a overlap in memory without being the same elements");
            assertMessage(IllegalArgumentException.class, () -> b.tanhForward(shifted, x), "tanhForward", "y and x");
            assertMessage(IllegalArgumentException.class, () -> b.sigmoidBackward(shifted, x, x), "sigmoidBackward",
                    "dx and dy");
            assertMessage(IllegalArgumentException.class, () -> b.addScaled(shifted, x, 1f), "addScaled", "y and x");
            assertMessage(IllegalArgumentException.class, () -> b.softmaxForward(flat.flatSlice(4, 16).view(2, 8),
                    x.view(2, 8)), "softmaxForward", "y and x");
            b.tanhForward(x, x); // in place is still allowed
            b.mul(x, x, x);

            Tensor y = flat.view(8, 8);
            assertMessage(IllegalArgumentException.class, () -> b.addBias(y, y.get(2)), "addBias", "y and b overlap");
            Tensor w = b.allocate(arena, DType.F32, 10, 8), ids = b.allocate(arena, DType.I32, 4);
            assertMessage(IllegalArgumentException.class, () -> b.embeddingForward(w.slice(0, 4), w, ids),
                    "embeddingForward", "out and W overlap");
            assertMessage(IllegalArgumentException.class, () -> b.splitColumns(y.slice(0, 2).view(4, 4),
                    flat.flatSlice(8, 16).view(4, 4), b.allocate(arena, DType.F32, 4, 8)), "splitColumns",
                    "da and db overlap");
            assertMessage(IllegalArgumentException.class, () -> b.sumOfSquares(x.flatSlice(0, 1), x), "sumOfSquares",
                    "out and x overlap");

            // the LSTM cell's C kernels assume (restrict) that no two arguments share memory
            Tensor cells = b.allocate(arena, DType.F32, 3, 2, 5), gates = b.allocate(arena, DType.F32, 2, 20);
            Tensor hc = cells.view(6, 5);
            assertMessage(IllegalArgumentException.class, () -> b.lstmCellForward(hc.slice(0, 2), hc.slice(1, 3),
                    gates, cells.get(2)), "lstmCellForward", "hNext and cNext overlap");
            Tensor dA = b.allocate(arena, DType.F32, 2, 20);
            assertMessage(IllegalArgumentException.class, () -> b.lstmCellBackward(dA, cells.get(0), gates,
                    cells.get(1), cells.get(2), dA.view(8, 5).slice(0, 2), cells.get(2)), "lstmCellBackward",
                    "dA and dhNext overlap");

            // optimizers: param and its state are written, grad read after them
            Tensor p = flat.flatSlice(0, 10), state = flat.flatSlice(5, 10), g = flat.flatSlice(40, 10);
            assertMessage(IllegalArgumentException.class, () -> b.sgdUpdate(p, flat.flatSlice(1, 10), 0.1f),
                    "sgdUpdate", "param and grad overlap");
            assertMessage(IllegalArgumentException.class, () -> b.momentumUpdate(p, state, g, 0.1f, 0.9f),
                    "momentumUpdate", "param and v overlap");
            assertMessage(IllegalArgumentException.class, () -> b.adamUpdate(p, flat.flatSlice(20, 10), state, g,
                    1e-3f, 0.9f, 0.999f, 1e-7f), "adamUpdate", "v and param overlap");
        }
    }

    /** An output partly over its input gave wrong numbers before it was refused; in place it gives the right ones. */
    @EveryBackend
    void inPlaceElementwiseGivesTheSeparateBuffersResult(String name) {
        Backend b = TestBackends.get(name);
        try (Arena arena = Arena.ofConfined()) {
            float[] values = new float[16];
            for (int i = 0; i < values.length; i++) {
                values[i] = (i % 5) - 2.5f;
            }
            Tensor x = b.allocate(arena, DType.F32, 16), apart = b.allocate(arena, DType.F32, 16);
            b.copyIn(x, values);
            b.tanhForward(apart, x);
            b.tanhForward(x, x);
            assertArrayEquals(TestBackends.values(b, apart), TestBackends.values(b, x));
        }
    }

    @SuppressWarnings("removal")
    private static void deprecatedAxpy(Backend b, Tensor x, Tensor y) {
        b.axpy(1f, x, y);
    }
}
