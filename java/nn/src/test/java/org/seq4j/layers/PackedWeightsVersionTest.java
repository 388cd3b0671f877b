// The F32 packed Wh that TimeLSTM and TimeGRU keep between forwards (packed again only when Wh.version() moved):
// after every kind of write to the weights (copyIn, copyInAll, an optimizer step, a write through a Backend kernel, a
// direct write followed by Version.advance()) the next forward equals a fresh layer's over the same values, bit for
// bit; repeated forwards over unchanged weights give identical outputs and pack nothing. Every available backend. Forwards of one product
// each (generation) and TimeAffine's forwards of few rows pack at the first of them and read the kept pack after.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.optim.SGD;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class PackedWeightsVersionTest {
    static final int D = 5, H = 24;

    /** Both cells, N = 1 over T = 12 (11 products: packed) and N = 3 over T = 7 (6 products: packed). */
    static Stream<Arguments> cases() {
        return TestBackends.all().flatMap(b -> Stream.of(Cell.LSTM, Cell.GRU).flatMap(c -> Stream.of(1, 3)
                .map(n -> Arguments.of(b, Named.of(c.lower(), c), Named.of("N=" + n, n)))));
    }

    private static int steps(int n) {
        return n == 1 ? 12 : 7;
    }

    /** A store with Wx, Wh, b and a stateless layer on it. */
    private record Net(ParameterStore store, TimeRecurrent layer, Workspace ws) implements AutoCloseable {
        static Net of(Backend backend, Cell cell, long seed) {
            int g = cell.columns(H);
            ParameterStore s = ParameterStore.builder(backend).declare("Wx", Init.normal(0.5), D, g)
                    .declare("Wh", Init.normal(0.4), H, g).declare("b", Init.normal(0.1), g).build(seed);
            return new Net(s, cell.time(backend, s.get("Wx"), s.get("Wh"), s.get("b"), false), new Workspace(backend));
        }

        /** A new store and layer with this one's values. */
        Net fresh(Cell cell) {
            Net copy = of(store.backend(), cell, 99);
            copy.store().copyInAll(store.copyOutAll());
            return copy;
        }

        Tensor xs(long seed, int n) {
            return GradientCheck.tensor(store.backend(), ws,
                    GradientCheck.randn(new Random(seed), 1, steps(n) * n * D), steps(n), n, D);
        }

        float[] forward(long seed, int n) {
            return TestBackends.values(store.backend(), layer.forward(xs(seed, n)));
        }

        @Override
        public void close() {
            layer.close();
            store.close();
            ws.close();
        }
    }

    private static void assertSameAsFresh(Net net, Cell cell, int n, String after) {
        try (Net ref = net.fresh(cell)) {
            TestBackends.assertSameRun(net.store().backend(), ref.forward(11, n), net.forward(11, n), "after " + after
                    + ": the forward must equal a fresh layer's over the same values");
        }
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void everyWriteToTheWeightsIsSeenByTheNextForward(String backendName, Cell cell, int n) {
        Backend backend = TestBackends.get(backendName);
        try (Net net = Net.of(backend, cell, 3); Net other = Net.of(backend, cell, 4)) {
            float[] first = net.forward(11, n);   // packs the first Wh
            TestBackends.assertSameRun(backend, first, net.forward(11, n), "unchanged weights: the same output again");

            net.store().copyIn("Wh", other.store().copyOut("Wh"));
            assertSameAsFresh(net, cell, n, "copyIn(Wh)");
            net.store().copyInAll(other.store().copyOutAll());
            assertSameAsFresh(net, cell, n, "copyInAll");

            // an optimizer step after a forward and backward of the layer itself
            try (SGD sgd = new SGD(0.5f)) {
                Tensor hs = net.layer().forward(net.xs(12, n));
                net.layer().backward(hs);   // dhs = hs: the gradient of sum(hs^2)/2
                float[] before = net.store().copyOut("Wh");
                sgd.step(net.store());
                assertTrue(maxDiff(before, net.store().copyOut("Wh")) > 1e-3, "the step must move Wh");
            }
            assertSameAsFresh(net, cell, n, "an optimizer step");

            // a write through a Backend kernel, with no word to the Version (an Optimizer of one's own): seen, since
            // it counts on the value's Tensor.writes
            Parameter wh = net.store().get("Wh");
            float[] before = net.forward(11, n);
            float[] written = net.store().copyOut("Wh");
            for (int i = 0; i < written.length; i++) {
                written[i] = -0.5f * written[i] + 0.01f * (i % 7);
            }
            backend.copyIn(wh.value(), written);
            float[] after = net.forward(11, n);
            assertFalse(Arrays.equals(before, after), "the Backend's write must change the output");
            assertSameAsFresh(net, cell, n, "a write through the Backend");

            // a write seq4j cannot see (host memory written in place, here the store's own on a host backend): seen
            // once announced with the parameter's Version.advance()
            if (backend.device().isHost()) {
                float[] again = net.store().copyOut("Wh");
                for (int i = 0; i < again.length; i++) {
                    again[i] = 0.7f * again[i] - 0.02f * (i % 5);
                }
                java.lang.foreign.MemorySegment.copy(again, 0, wh.value().segment(),
                        java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, again.length);
                // not announced: the layer still multiplies by its packed copy (which is why such a writer must
                // advance); this also shows that the checks above could fail
                TestBackends.assertSameRun(backend, after, net.forward(11, n),
                        "a write not announced is not seen: the packed copy is kept");
                wh.version().advance();
                assertFalse(Arrays.equals(after, net.forward(11, n)), "the announced write must change the output");
                assertSameAsFresh(net, cell, n, "a direct write and Version.advance()");
            }
        }
    }

    /**
     * Forwards of one product each over unchanged weights (generation: a decoder step a call) pack at the first and
     * read the kept pack after, so every forward gives the first one's bits (which path a forward takes depends on
     * its shape alone: KeptPack); a write to the weights makes the next forward pack again, so none reads a stale pack.
     */
    @Test
    void forwardsOfOneProductPackAtTheFirstAndReadTheKeptPack() {
        for (Cell cell : Cell.values()) {
            for (int n : new int[] {1, 3}) {
                Map<String, Integer> counts = new TreeMap<>();
                Backend backend = RecurrentCalls.counting(counts);
                int perPack = cell == Cell.LSTM ? 1 : 2;
                String what = cell + " N=" + n;
                try (Net net = Net.of(backend, cell, 3)) {
                    Tensor xs = GradientCheck.tensor(backend, net.ws(),
                            GradientCheck.randn(new Random(5), 1, 2 * n * D), 2, n, D);   // from h_0 = 0: one product
                    float[] first = net.layer().forward(xs).toFloatArray();
                    assertEquals(perPack, counts.getOrDefault("pack", 0), what + ": the first forward packs");
                    for (int forwards = 2; forwards <= 10; forwards++) {
                        assertArrayEquals(first, net.layer().forward(xs).toFloatArray(), what + ", forward " + forwards);
                    }
                    assertEquals(perPack, counts.getOrDefault("pack", 0), what + ": later forwards read the kept pack");
                    net.store().valuesWritten();   // the weights as they were, announced as written
                    assertArrayEquals(first, net.layer().forward(xs).toFloatArray(), what + ": after a write");
                    assertEquals(2 * perPack, counts.getOrDefault("pack", 0), what + ": a write makes the next forward pack");
                }
            }
        }
    }

    /**
     * TimeAffine the same way (generation: a decoder step's few rows a call): the first forward of at most
     * PACKED_ROWS rows packs W, the later ones read the kept pack and give its bits; a write to W makes the next one
     * pack again; more than PACKED_ROWS rows, or a transposed (tied) W, never pack.
     */
    @Test
    void affineForwardsOfFewRowsPackAtTheFirstAndReadTheKeptPack() {
        int d = 6, v = 9;
        for (int n : new int[] {1, 3}) {
            Map<String, Integer> counts = new TreeMap<>();
            Backend backend = RecurrentCalls.counting(counts);
            try (ParameterStore s = ParameterStore.builder(backend).declare("W", Init.normal(0.5), d, v)
                    .declare("b", Init.normal(0.1), v).declare("Wt", Init.normal(0.5), v, d).build(3);
                 TimeAffine affine = new TimeAffine(backend, s.get("W"), s.get("b"));
                 TimeAffine tied = new TimeAffine(backend, s.get("Wt"), s.get("b"), true);
                 Workspace ws = new Workspace(backend)) {
                Tensor x = GradientCheck.tensor(backend, ws, GradientCheck.randn(new Random(6), 1, n * d), 1, n, d);
                float[] first = affine.forward(x).toFloatArray();
                assertEquals(1, counts.getOrDefault("pack", 0), "N=" + n + ": the first forward packs");
                for (int calls = 2; calls <= 10; calls++) {
                    assertArrayEquals(first, affine.forward(x).toFloatArray(), "N=" + n + ", call " + calls);
                    tied.forward(x);
                }
                assertEquals(1, counts.getOrDefault("pack", 0), "N=" + n + ": later forwards read the kept pack");
                s.valuesWritten();
                assertArrayEquals(first, affine.forward(x).toFloatArray(), "N=" + n + ": after a write");
                assertEquals(2, counts.getOrDefault("pack", 0), "N=" + n + ": a write makes the next forward pack");
                Tensor many = ws.floats(1, TimeAffine.PACKED_ROWS + 1, d);
                for (int calls = 0; calls < 10; calls++) {
                    affine.forward(many);
                }
                assertEquals(2, counts.getOrDefault("pack", 0), "N=" + n + ": more than PACKED_ROWS rows never pack");
            }
        }
    }

    /**
     * A pack that throws (here an injected failure; the weights' memory closed, say) leaves no pack current: the next
     * forward packs again and gives a fresh layer's bits. Before, a failure in the first pack of a layer left the
     * unfilled blocks current (their version read as the weights' own) and every later forward multiplied by them.
     */
    @Test
    void aPackThatThrowsLeavesNoPackCurrent() {
        Backend real = TestBackends.reference();
        boolean[] failNext = {true};
        Backend failing = (Backend) java.lang.reflect.Proxy.newProxyInstance(Backend.class.getClassLoader(),
                new Class<?>[] {Backend.class}, (proxy, method, args) -> {
                    if (method.getName().equals("pack") && failNext[0]) {
                        failNext[0] = false;
                        throw new IllegalStateException("injected: this pack failed");
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        int d = 6, v = 9, n = 2;
        try (ParameterStore s = ParameterStore.builder(failing).declare("W", Init.normal(0.5), d, v)
                .declare("b", Init.normal(0.1), v).build(3);
             TimeAffine affine = new TimeAffine(failing, s.get("W"), s.get("b"));
             TimeAffine fresh = new TimeAffine(failing, s.get("W"), s.get("b"));
             Workspace ws = new Workspace(failing)) {
            Tensor x = GradientCheck.tensor(failing, ws, GradientCheck.randn(new Random(6), 1, n * d), 1, n, d);
            var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> affine.forward(x));
            assertEquals("injected: this pack failed", e.getMessage());
            float[] again = affine.forward(x).toFloatArray();
            assertArrayEquals(fresh.forward(x).toFloatArray(), again, "the forward after the failed pack");
        }
    }

    /**
     * A forward of no rows (T = 0 or N = 0) now goes to the packed product too (every forward of at most PACKED_ROWS
     * rows does): an empty output of the right shape, and a backward that leaves the gradients as they were.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    void affineForwardsOfNoRowsGiveEmptyOutputs(String backendName) {
        Backend backend = TestBackends.get(backendName);
        int d = 4, v = 6;
        for (int[] tn : new int[][] {{0, 3}, {2, 0}}) {
            try (ParameterStore s = ParameterStore.builder(backend).declare("W", Init.normal(0.5), d, v)
                    .declare("b", Init.normal(0.1), v).build(3);
                 TimeAffine affine = new TimeAffine(backend, s.get("W"), s.get("b")); Workspace ws = new Workspace(backend)) {
                String what = "T=" + tn[0] + ", N=" + tn[1];
                Tensor out = affine.forward(ws.floats(tn[0], tn[1], d));
                assertArrayEquals(new int[] {tn[0], tn[1], v}, out.shape(), what + ": the output's shape");
                float[] dW = s.copyOutGrad("W"), db = s.copyOutGrad("b");
                Tensor dx = affine.backward(ws.floats(tn[0], tn[1], v));
                assertArrayEquals(new int[] {tn[0], tn[1], d}, dx.shape(), what + ": dx's shape");
                assertArrayEquals(dW, s.copyOutGrad("W"), what + ": dW unchanged");
                assertArrayEquals(db, s.copyOutGrad("b"), what + ": db unchanged");
            }
        }
    }

    private static double maxDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    @Test
    void repeatedForwardsOverUnchangedWeightsPackOnce() {
        for (Cell cell : Cell.values()) {
            for (int n : new int[] {1, 3}) {
                Map<String, Integer> counts = new TreeMap<>();
                Backend backend = RecurrentCalls.counting(counts);
                try (Net net = Net.of(backend, cell, 3)) {
                    float[] first = net.forward(11, n);
                    int packs = counts.getOrDefault("pack", 0);
                    assertEquals(cell == Cell.LSTM ? 1 : 2, packs, cell + " N=" + n + ": the first forward packs Wh");
                    for (int i = 0; i < 3; i++) {
                        assertArrayEquals(first, net.forward(11, n), cell + " N=" + n + ": forward " + (i + 2));
                    }
                    assertEquals(packs, counts.getOrDefault("pack", 0), cell + " N=" + n
                            + ": forwards over unchanged weights pack nothing more");
                    net.store().valuesWritten();
                    net.forward(11, n);
                    assertEquals(2 * packs, counts.getOrDefault("pack", 0), cell + " N=" + n
                            + ": a forward after valuesWritten() packs again");
                }
            }
        }
    }
}
