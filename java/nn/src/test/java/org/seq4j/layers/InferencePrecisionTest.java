// The bf16 inference weights of TimeLSTM and TimeGRU (setInferencePrecision): a BF16 forward equals an F32 forward
// over Wh rounded to bfloat16 on the host (PackedMatrix.roundToBf16), differs from the F32 forward over Wh itself
// (so the copy is really used), is packed again after every kind of write to the weights (copyIn, copyInAll, an
// optimizer step, valuesWritten), refuses backward, allocates nothing per forward once packed, and leaves the F32
// path bit-identical. Every available backend.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.backend.PackedMatrix;
import org.seq4j.backend.PackedMatrix.Precision;
import org.seq4j.optim.SGD;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class InferencePrecisionTest {
    static final int D = 5, H = 24, T = 7;
    /**
     * |bf16 - reference over rounded Wh| <= ATOL + RTOL |ref|: the same rounded weights, multiplied in float32,
     * possibly with another order of additions (a packed kernel's) than gemm's: float rounding of sums of H = 24
     * terms, carried through T = 7 steps of a contracting cell.
     */
    static final double ATOL = 2e-5, RTOL = 1e-4;

    static Stream<Arguments> cases() {
        return TestBackends.all().flatMap(b -> Stream.of(Cell.LSTM, Cell.GRU).flatMap(c -> Stream.of(1, 3)
                .map(n -> Arguments.of(b, Named.of(c.lower(), c), Named.of("N=" + n, n)))));
    }

    /** A store with cell.Wx, cell.Wh, cell.b (scaled so that the gates are not saturated) and a layer on it. */
    private record Net(ParameterStore store, TimeRecurrent layer, Workspace ws) implements AutoCloseable {
        static Net of(Backend backend, Cell cell, long seed) {
            int g = cell.columns(H);
            String c = cell.lower();
            ParameterStore s = ParameterStore.builder(backend).declare(c + ".Wx", Init.normal(0.5), D, g)
                    .declare(c + ".Wh", Init.normal(0.4), H, g).declare(c + ".b", Init.normal(0.1), g).build(seed);
            return new Net(s, cell.time(backend, s.get(c + ".Wx"), s.get(c + ".Wh"), s.get(c + ".b"), false),
                    new Workspace(backend));
        }

        Tensor xs(long seed, int n) {
            return GradientCheck.tensor(store.backend(), ws, GradientCheck.randn(new Random(seed), 1, T * n * D), T, n, D);
        }

        float[] forward(long seed, int n) {
            return TestBackends.values(store.backend(), layer.forward(xs(seed, n)));
        }

        String wh() {
            return layer instanceof TimeLSTM ? "lstm.Wh" : "gru.Wh";
        }

        @Override
        public void close() {
            layer.close();
            store.close();
            ws.close();
        }
    }

    /** An F32 reference: another store with the values of {@code from}, its Wh rounded to bfloat16. */
    private static Net rounded(Backend backend, Cell cell, Net from) {
        Net ref = Net.of(backend, cell, 99);
        Map<String, float[]> values = from.store().copyOutAll();
        float[] wh = values.get(from.wh());
        for (int i = 0; i < wh.length; i++) {
            wh[i] = PackedMatrix.roundToBf16(wh[i]);
        }
        ref.store().copyInAll(values);
        return ref;
    }

    private static void assertClose(float[] ref, float[] got, String what) {
        assertEquals(ref.length, got.length, what);
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < ref.length; i++) {
            double excess = Math.abs(got[i] - ref[i]) - (ATOL + RTOL * Math.abs(ref[i]));
            if (excess > worstExcess || Double.isNaN(got[i])) {
                worst = i;
                worstExcess = excess;
            }
        }
        if (worst >= 0) {
            throw new AssertionError(what + ": at " + worst + " got " + got[worst] + ", reference " + ref[worst]
                    + ", |diff| " + Math.abs(got[worst] - ref[worst]) + " > " + ATOL + " + " + RTOL + "|ref|");
        }
    }

    private static double maxDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void bf16ForwardMultipliesByTheRoundedWeights(String backendName, Cell cell, int n) {
        Backend backend = TestBackends.get(backendName);
        try (Net net = Net.of(backend, cell, 3); Net ref = rounded(backend, cell, net);
             Net untouched = Net.of(backend, cell, 3)) {
            float[] f32 = net.forward(11, n);
            assertEquals(Precision.F32, net.layer().inferencePrecision(), "F32 is the default");
            net.layer().setInferencePrecision(Precision.BF16);
            float[] bf16 = net.forward(11, n);
            assertClose(ref.forward(11, n), bf16, cell + " BF16 forward vs F32 over bf16-rounded Wh");
            double d = maxDiff(f32, bf16);
            assertTrue(d > 1e-5 && d < 0.05, "BF16 must differ from F32 by the rounding of Wh (1e-5 < max diff < 0.05),"
                    + " got " + d);
            TestBackends.assertSameRun(backend, bf16, net.forward(11, n), "the kept copy gives the same numbers again");

            net.layer().setInferencePrecision(Precision.F32);
            // a forward's path depends on its shape alone (KeptPack): back to F32, the layer's own first F32 answer
            TestBackends.assertSameRun(backend, f32, untouched.forward(11, n), "F32 is the plain path");
            TestBackends.assertSameRun(backend, f32, net.forward(11, n),
                    "back to F32: bit-identical to its first F32 forward and to a layer that never changed precision");
        }
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void everyWriteToTheWeightsIsSeenByTheNextBf16Forward(String backendName, Cell cell, int n) {
        Backend backend = TestBackends.get(backendName);
        try (Net net = Net.of(backend, cell, 3); Net other = Net.of(backend, cell, 4)) {
            net.layer().setInferencePrecision(Precision.BF16);
            net.forward(11, n);   // packs the first weights

            // copyIn of Wh alone (the other parameters stay)
            net.store().copyIn(net.wh(), other.store().copyOut(other.wh()));
            try (Net ref = rounded(backend, cell, net)) {
                assertClose(ref.forward(11, n), net.forward(11, n), "after copyIn(Wh)");
            }
            // copyInAll, as a checkpoint load does
            net.store().copyInAll(other.store().copyOutAll());
            try (Net ref = rounded(backend, cell, net)) {
                assertClose(ref.forward(11, n), net.forward(11, n), "after copyInAll");
            }
            // an optimizer step: gradients from an F32 twin layer on the same parameters, then SGD
            try (TimeRecurrent trainer = cell.time(backend, net.store().get(cell.lower() + ".Wx"),
                    net.store().get(net.wh()), net.store().get(cell.lower() + ".b"), false); SGD sgd = new SGD(0.5f)) {
                Tensor hs = trainer.forward(net.xs(12, n));
                trainer.backward(hs);   // dhs = hs: the gradient of sum(hs^2)/2
                float[] before = net.store().copyOut(net.wh());
                sgd.step(net.store());
                assertTrue(maxDiff(before, net.store().copyOut(net.wh())) > 1e-3, "the step must move Wh");
            }
            try (Net ref = rounded(backend, cell, net)) {
                assertClose(ref.forward(11, n), net.forward(11, n), "after an optimizer step");
            }
            // a direct write announced with valuesWritten
            backend.fill(net.store().get(net.wh()).value(), 0.01f);
            net.store().valuesWritten();
            try (Net ref = rounded(backend, cell, net)) {
                assertClose(ref.forward(11, n), net.forward(11, n), "after a direct write and valuesWritten()");
            }
        }
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void backwardAfterABf16ForwardIsRefused(String backendName, Cell cell, int n) {
        Backend backend = TestBackends.get(backendName);
        try (Net net = Net.of(backend, cell, 3)) {
            net.layer().setInferencePrecision(Precision.BF16);
            Tensor hs = net.layer().forward(net.xs(11, n));
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> net.layer().backward(hs));
            assertTrue(e.getMessage().contains("BF16") && e.getMessage().contains("setInferencePrecision(F32)"),
                    e.getMessage());
            net.layer().setInferencePrecision(Precision.F32);
            // still refused: the forward was BF16's, which the message names (it named the precision set since)
            e = assertThrows(IllegalStateException.class, () -> net.layer().backward(hs));
            assertTrue(e.getMessage().contains("with BF16 inference weights") && e.getMessage().contains("forward "
                    + "again"), e.getMessage());
            Tensor hs2 = net.layer().forward(net.xs(11, n));
            net.layer().backward(hs2);   // an F32 forward trains as before
            assertTrue(maxDiff(new float[(int) net.store().get(net.wh()).size()],
                    net.store().copyOutGrad(net.wh())) > 0, "the F32 backward adds a gradient");
        }
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void aBidirectionalBackwardAfterABf16ForwardIsRefusedInItsOwnName(String backendName, Cell cell, int n) {
        // it was refused by its forward direction's layer, in that layer's name ("TimeLSTM.backward after ..."), after
        // the forward was used up: a second try said a backward had already run
        Backend backend = TestBackends.get(backendName);
        try (Net net = Net.of(backend, cell, 3)) {
            String c = cell.lower();
            Parameter wx = net.store().get(c + ".Wx"), wh = net.store().get(c + ".Wh"), b = net.store().get(c + ".b");
            try (TimeBiRecurrent bi = new TimeBiRecurrent(backend, cell, wx, wh, b, wx, wh, b)) {
                bi.setInferencePrecision(Precision.BF16);
                Tensor xs = net.xs(11, n);
                Tensor dhs = GradientCheck.tensor(backend, net.ws(), new float[T * n * 2 * H], T, n, 2 * H);
                bi.forward(xs);
                for (int attempt = 0; attempt < 2; attempt++) {
                    IllegalStateException e = assertThrows(IllegalStateException.class, () -> bi.backward(dhs));
                    assertTrue(e.getMessage().startsWith("TimeBiRecurrent.backward after a forward with BF16 inference"
                            + " weights") && e.getMessage().contains("setInferencePrecision(F32)"), e.getMessage());
                    bi.setInferencePrecision(Precision.F32);   // the forward's precision is the one refused
                }
                bi.forward(xs);
                bi.backward(dhs);   // an F32 forward trains as before
            }
        }
    }

    @Test
    void aBf16ForwardAllocatesNothingOnceThePackedCopyIsMade() {
        var threads = ManagementFactory.getThreadMXBean();
        assumeTrue(threads instanceof com.sun.management.ThreadMXBean, "this JVM has no per-thread allocation counter");
        var counter = (com.sun.management.ThreadMXBean) threads;
        assumeTrue(counter.isThreadAllocatedMemorySupported(), "this JVM cannot count allocated bytes per thread");
        counter.setThreadAllocatedMemoryEnabled(true);
        Backend backend = TestBackends.reference();
        for (Cell cell : Cell.values()) {
            for (int n : new int[] {1, 3}) {
                try (Net net = Net.of(backend, cell, 3)) {
                    net.layer().setInferencePrecision(Precision.BF16);
                    Tensor xs = net.xs(11, n);
                    net.layer().forward(xs);   // sizes the workspace, packs Wh
                    net.layer().forward(xs);
                    long before = counter.getCurrentThreadAllocatedBytes();
                    net.layer().forward(xs);
                    long allocated = counter.getCurrentThreadAllocatedBytes() - before;
                    assertTrue(allocated < 4096, cell + " N=" + n + ": a steady-state BF16 forward allocated " + allocated
                            + " bytes on the heap; at most 4096 expected");
                }
            }
        }
    }
}
