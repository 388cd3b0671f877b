// The kept table E Wx + b of forward(embed, ids) (FoldedInput) with more vocabulary rows V than tokens T*N: for a
// small E (V x D <= FoldedInput.SMALL) built by the first forward, then only gathered from, and for a large one used
// only by forwards of more tokens than V, whatever forwards came before (a rule of the shape: the same forward gives
// the same bits at every call); every write to E, Wx or b (each
// with its own or a shared version) is seen by the next forward; outputs and the backward's gradients agree with the
// plain path forward(embed.forward(ids)) up to float summation order, also with T = 1, N = 1, ids at the
// vocabulary's edges and steps of many rows; a bad id (at the last step too) or ids of the wrong type throw before any
// step ran, leaving a carried state alone; a write during the table's product leaves it stale. TimeLSTM and TimeGRU,
// every backend.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.seq4j.testing.TestBackends.assertSameRun;
import static org.seq4j.testing.TestBackends.values;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class FoldedInputTest {
    /** T*N = 10 tokens a forward, V = 23 rows of D = 5 (a small E): the first forward builds the table. */
    static final int V = 23, D = 5, H = 24, T = 10, N = 1;

    static Stream<Arguments> cases() {
        return TestBackends.all().flatMap(b -> Stream.of(Cell.LSTM, Cell.GRU).map(c -> Arguments.of(b,
                Named.of(c.lower(), c))));
    }

    /** The embedding in a store of its own (its own version), the layer's Wx, Wh, b in another. */
    private record Net(ParameterStore embedStore, ParameterStore store, TimeEmbedding embed, TimeRecurrent layer,
                       Workspace ws, int v, boolean stateful) implements AutoCloseable {
        static Net of(Backend backend, Cell cell, long seed) {
            return of(backend, cell, seed, V, false);
        }

        /** A net over a vocabulary of v rows, its layer stateful or not. */
        static Net of(Backend backend, Cell cell, long seed, int v, boolean stateful) {
            int g = cell.columns(H);
            ParameterStore e = ParameterStore.builder(backend).declare("E", Init.normal(1.0), v, D).build(seed);
            ParameterStore s = ParameterStore.builder(backend).declare("Wx", Init.normal(0.5), D, g)
                    .declare("Wh", Init.normal(0.4), H, g).declare("b", Init.normal(0.3), g).build(seed + 1);
            return new Net(e, s, new TimeEmbedding(backend, e.get("E")),
                    cell.time(backend, s.get("Wx"), s.get("Wh"), s.get("b"), stateful), new Workspace(backend), v,
                    stateful);
        }

        /** A new net with this one's values. */
        Net copy(Cell cell) {
            Net c = of(store.backend(), cell, 99, v, stateful);
            c.embedStore().copyInAll(embedStore.copyOutAll());
            c.store().copyInAll(store.copyOutAll());
            return c;
        }

        Tensor ids(long seed) {
            Random r = new Random(seed);
            int[] v = new int[T * N];
            for (int i = 0; i < v.length; i++) {
                v[i] = r.nextInt(V);
            }
            Tensor x = ws.ints(T, N);
            store.backend().copyIn(x, v);
            return x;
        }

        /** (t, n) ids, random in [0, v) but the first 0 and the last v - 1: the vocabulary's two edges. */
        Tensor ids(long seed, int t, int n) {
            return ids(idValues(seed, t * n), t, n);
        }

        int[] idValues(long seed, int count) {
            Random r = new Random(seed);
            int[] ids = new int[count];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = r.nextInt(v);
            }
            ids[0] = 0;
            ids[ids.length - 1] = v - 1;
            return ids;
        }

        Tensor ids(int[] values, int t, int n) {
            Tensor x = ws.ints(t, n);
            store.backend().copyIn(x, values);
            return x;
        }

        float[] forward(Tensor ids) {
            return values(store.backend(), layer.forward(embed, ids));
        }

        /** The plain path: the embedding's rows, then the layer's own input projection. */
        float[] plain(Tensor ids) {
            return values(store.backend(), layer.forward(embed.forward(ids)));
        }

        @Override
        public void close() {
            layer.close();
            embed.close();
            store.close();
            embedStore.close();
            ws.close();
        }
    }

    /** Same products summed in another order: float rounding only (1e-6 absolute + 1e-5 relative). */
    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            double tol = 1e-6 + 1e-5 * Math.abs(expected[i]);
            int k = i;
            assertTrue(Math.abs(expected[i] - actual[i]) <= tol,
                    () -> what + "[" + k + "]: got " + actual[k] + ", plain path " + expected[k]);
        }
    }

    /**
     * Float rounding of sums of up to T*N products in another order, where the sums cancel (a gradient summed over
     * hundreds of rows): 1e-6 absolute + 1e-5 relative to the largest value of the array, not to each element.
     */
    private static void assertCloseToScale(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        double scale = 0;
        for (float e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        double tol = 1e-6 + 1e-5 * scale;
        for (int i = 0; i < expected.length; i++) {
            int k = i;
            assertTrue(Math.abs(expected[i] - actual[i]) <= tol,
                    () -> what + "[" + k + "]: got " + actual[k] + ", plain path " + expected[k] + ", tolerance "
                            + tol);
        }
    }

    /** Forwards enough to build the table and checks each against a copy's plain path. */
    private static void assertFoldsAgree(Net net, Cell cell, Tensor ids, String after) {
        try (Net ref = net.copy(cell)) {
            float[] expected = ref.plain(ids);
            float[] last = null;
            for (int i = 1; i <= 3; i++) {   // forward 1 builds the table; 2 and 3 gather from it
                last = net.forward(ids);
                assertClose(expected, last, after + ", forward " + i);
            }
            assertSameRun(net.store().backend(), last, net.forward(ids),
                    after + ": the kept table gives the same output again");
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void everyWriteToETheInputWeightsOrTheBiasIsSeen(String backendName, Cell cell) {
        Backend backend = TestBackends.get(backendName);
        try (Net net = Net.of(backend, cell, 3); Net other = Net.of(backend, cell, 5)) {
            Tensor ids = net.ids(7);
            assertFoldsAgree(net, cell, ids, "start");
            net.embedStore().copyIn("E", other.embedStore().copyOut("E"));   // E's own version moves
            assertFoldsAgree(net, cell, ids, "copyIn(E)");
            net.store().copyIn("Wx", other.store().copyOut("Wx"));
            assertFoldsAgree(net, cell, ids, "copyIn(Wx)");
            net.store().copyIn("b", other.store().copyOut("b"));
            assertFoldsAgree(net, cell, ids, "copyIn(b)");
            // a direct write announced with the parameter's Version.advance()
            float[] e = net.embedStore().copyOut("E");
            for (int i = 0; i < e.length; i++) {
                e[i] = -e[i] + 0.01f * (i % 5);
            }
            backend.copyIn(net.embedStore().get("E").value(), e);
            net.embedStore().get("E").version().advance();
            assertFoldsAgree(net, cell, ids, "a direct write to E and Version.advance()");
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void theBackwardOfAForwardThroughTheKeptTableGivesThePlainGradients(String backendName, Cell cell) {
        Backend backend = TestBackends.get(backendName);
        try (Net net = Net.of(backend, cell, 3); Net ref = net.copy(cell)) {
            Tensor ids = net.ids(7);
            Tensor dhs = GradientCheck.tensor(backend, net.ws(), GradientCheck.randn(new Random(9), 1, T * N * H),
                    T, N, H);
            for (int i = 0; i < 3; i++) {
                net.forward(ids);   // the first builds the table (a small E, V = 23 > T*N = 10), the last gathers
            }
            net.layer().backward(net.embed(), dhs);
            ref.plain(ids);
            ref.embed().backward(ref.layer().backward(dhs));
            Map<String, float[]> got = grads(net), expected = grads(ref);
            for (String name : expected.keySet()) {
                assertClose(expected.get(name), got.get(name), name + " grad");
            }
        }
    }

    private static Map<String, float[]> grads(Net net) {
        Map<String, float[]> g = new LinkedHashMap<>();
        g.put("E", net.embedStore().copyOutGrad("E"));
        for (String name : List.of("Wx", "Wh", "b")) {
            g.put(name, net.store().copyOutGrad(name));
        }
        return g;
    }

    private static boolean nonZeroRow(float[] m, int row) {
        for (int j = row * D; j < (row + 1) * D; j++) {
            if (m[j] != 0f) {
                return true;
            }
        }
        return false;
    }

    /** Many rows a step: a step's block of the gate pre-activations (N, G) of 90 KB (LSTM) or 68 KB (GRU). */
    static final int MANY = 240;

    /**
     * (T, N, V) with V < T*N, so that the first forward folds: one step, one row, a vocabulary of two, and steps of
     * MANY rows, where the gradients sum hundreds of rows per token.
     */
    static Stream<Arguments> shapes() {
        int[][] tnv = {{1, 5, 3}, {6, 1, 4}, {3, 4, 5}, {2, 3, 2}, {3, MANY, 7}, {1, MANY, 5}};
        return cases().flatMap(a -> Stream.of(tnv).map(s -> Arguments.of(a.get()[0], a.get()[1], s[0], s[1], s[2])));
    }

    @ParameterizedTest(name = "{0} {1} T={2} N={3} V={4}")
    @MethodSource("shapes")
    void aFoldOfOneStepOneRowOrTheVocabularysEdgesGivesThePlainOutputsAndGradients(String backendName, Cell cell,
                                                                                  int t, int n, int v) {
        Backend backend = TestBackends.get(backendName);
        try (Net net = Net.of(backend, cell, 3, v, false); Net ref = net.copy(cell)) {
            Tensor ids = net.ids(11, t, n);
            Tensor dhs = GradientCheck.tensor(backend, net.ws(), GradientCheck.randn(new Random(9), 1, t * n * H),
                    t, n, H);
            float[] got = net.forward(ids);   // V < T*N: folded at once
            assertClose(ref.plain(ids), got, "hs");
            net.layer().backward(net.embed(), dhs);
            ref.embed().backward(ref.layer().backward(dhs));
            Map<String, float[]> g = grads(net), expected = grads(ref);
            for (String name : expected.keySet()) {
                assertCloseToScale(expected.get(name), g.get(name), name + " grad");
            }
            // both edge rows of E got a gradient (the first and the last id are 0 and V - 1)
            assertTrue(nonZeroRow(g.get("E"), 0), "dE[0] is zero");
            assertTrue(nonZeroRow(g.get("E"), v - 1), "dE[V-1] is zero");
        }
    }

    static Stream<Arguments> fewAndMany() {
        return cases().flatMap(a -> Stream.of(2, MANY).map(n -> Arguments.of(a.get()[0], a.get()[1], n)));
    }

    @ParameterizedTest(name = "{0} {1} N={2}")
    @MethodSource("fewAndMany")
    void badIdsThrowBeforeAnyStepRanAndLeaveTheCarriedStateAlone(String backendName, Cell cell, int n) {
        Backend backend = TestBackends.get(backendName);
        int t = 4, v = 3;   // V < T*N: folded
        try (Net net = Net.of(backend, cell, 3, v, true); Net ref = net.copy(cell)) {
            Tensor ids = net.ids(5, t, n), next = net.ids(6, t, n);
            assertSameRun(backend, ref.forward(ids), net.forward(ids), "the same first forward");
            int[] bad = net.idValues(5, t * n);
            bad[bad.length - 1] = v;   // the last step's last row: every step before it would have run
            Tensor badIds = net.ids(bad, t, n);
            if (!backend.device().isHost()) {
                // a device's kernels check their ids and report at the next synchronising call, after the steps
                // ran (the results since the previous one are wrong, as CudaBackend documents): the message only
                IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> {
                    net.layer().forward(net.embed(), badIds);
                    backend.synchronize();
                });
                assertTrue(e.getMessage().contains("] = 3 is outside [0, 3)"), e.getMessage());
                return;
            }
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                    () -> net.layer().forward(net.embed(), badIds));
            assertTrue(e.getMessage().contains("] = 3 is outside [0, 3)"), e.getMessage());
            bad[bad.length - 1] = 0;
            bad[n] = -1;               // step 1, row 0
            backend.copyIn(badIds, bad);
            e = assertThrows(IndexOutOfBoundsException.class, () -> net.layer().forward(net.embed(), badIds));
            assertTrue(e.getMessage().contains("] = -1 is outside [0, 3)"), e.getMessage());
            Tensor floats = net.ws().floats(t, n);
            IllegalArgumentException f = assertThrows(IllegalArgumentException.class,
                    () -> net.layer().forward(net.embed(), floats));
            assertTrue(f.getMessage().contains("ids must be I32"), f.getMessage());
            // the state carried from the first forward is where it was: the next forward is bit for bit the copy's
            assertSameRun(backend, ref.forward(next), net.forward(next), "the forward after the refused ones");
        }
    }

    /**
     * The reference backend, counting the calls named matmul, gemm and embeddingForward into counts, and TimeLSTM's
     * lstmSequenceForward with a table (the gather inside the recurrence) as "lstmSequenceForward(table)".
     */
    private static Backend counting(Map<String, Integer> counts) {
        Backend real = TestBackends.reference();
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> {
                    if (List.of("matmul", "gemm", "embeddingForward").contains(method.getName())) {
                        counts.merge(method.getName(), 1, Integer::sum);
                    } else if (method.getName().equals("lstmSequenceForward") && args.length == 7) {
                        counts.merge("lstmSequenceForward(table)", 1, Integer::sum);
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    @Test
    void aSmallEmbeddingsTableIsBuiltByTheFirstForwardAndThenOnlyGathered() {
        for (Cell cell : Cell.values()) {
            Map<String, Integer> counts = new TreeMap<>();
            try (Net net = Net.of(counting(counts), cell, 3)) {
                Tensor ids = net.ids(7);
                String[] calls = new String[4];
                for (int i = 0; i < calls.length; i++) {
                    counts.clear();
                    net.forward(ids);
                    calls[i] = counts.toString();
                }
                // T - 1 = 9 recurrent products on one row: packed, so gemm and matmul here are the input projection's;
                // the LSTM gathers the table's rows inside its sequence call, the GRU first
                String gather = cell == Cell.LSTM ? "lstmSequenceForward(table)=1" : "embeddingForward=1";
                String table = gather + ", matmul=1";
                assertEquals("[{" + table + "}, {" + gather + "}, {" + gather + "}, {" + gather + "}]",
                        java.util.Arrays.toString(calls), cell + ": the table once (V x D = 115), then gathers only");
                net.store().valuesWritten();
                counts.clear();
                net.forward(ids);
                assertEquals("{" + table + "}", counts.toString(), cell + ": a write makes the next forward fold anew");
            }
        }
    }

    /**
     * A large E (1000 x 5, past FoldedInput.SMALL) folds only a forward of more tokens than it has rows; a forward of
     * fewer takes the plain path every time, also right after a forward that made the table, so that it gives the
     * same bits as before that forward.
     */
    @Test
    void aLargeEmbeddingFoldsOnlyForwardsOfMoreTokensThanRows() {
        int v = 1000;
        for (Cell cell : Cell.values()) {
            Map<String, Integer> counts = new TreeMap<>();
            try (Net net = Net.of(counting(counts), cell, 3, v, false)) {
                Tensor few = net.ids(7, T, N), many = net.ids(8, T, 101);   // 10 and 1010 tokens
                String plain = "{embeddingForward=1, gemm=1}";
                float[] first = net.forward(few);
                for (int i = 0; i < 3; i++) {
                    counts.clear();
                    net.forward(few);
                    assertEquals(plain, counts.toString(), cell + ": 10 tokens of 1000 rows, forward " + (i + 2));
                }
                counts.clear();
                net.forward(many);
                assertEquals(1, counts.getOrDefault("matmul", 0), cell + ": 1010 tokens fold, making the table: " + counts);
                counts.clear();
                assertArrayEquals(first, net.forward(few), cell + ": 10 tokens after the table was made");
                assertEquals(plain, counts.toString(), cell + ": 10 tokens after the table was made take the plain path");
            }
        }
    }

    /** The reference backend, running {@code hook} (once, then clearing it) right after a matmul returns. */
    private static Backend afterMatmul(AtomicReference<Runnable> hook) {
        Backend real = TestBackends.reference();
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> {
                    Object result;
                    try {
                        result = method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                    Runnable h = method.getName().equals("matmul") ? hook.getAndSet(null) : null;
                    if (h != null) {
                        h.run();
                    }
                    return result;
                });
    }

    /**
     * A write to Wx that lands while the table's product runs (here: right after it, before the table is marked) leaves
     * the table stale: the next forwards see Wx's new values. The table's versions were read after the product, so
     * the write's version was marked current and every later forward gathered the old product.
     */
    @Test
    void aWriteDuringTheTablesProductLeavesTheTableStale() {
        for (Cell cell : Cell.values()) {
            AtomicReference<Runnable> hook = new AtomicReference<>();
            try (Net net = Net.of(afterMatmul(hook), cell, 3); Net other = Net.of(TestBackends.reference(), cell, 5)) {
                Tensor ids = net.ids(7);
                float[] newWx = other.store().copyOut("Wx");
                hook.set(() -> net.store().copyIn("Wx", newWx));
                net.forward(ids);   // a small E (V = 23 rows of D = 5): the first forward builds the table
                assertEquals(null, hook.get(), cell + ": the first forward should have built the table");
                try (Net ref = net.copy(cell)) {   // the values as they are now, Wx the new one
                    float[] expected = ref.plain(ids);
                    for (int i = 2; i <= 4; i++) {
                        assertClose(expected, net.forward(ids), cell + ", forward " + i + " after the write");
                    }
                }
            }
        }
    }
}
