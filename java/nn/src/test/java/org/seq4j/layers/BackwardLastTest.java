// TimeRecurrent.backwardLast(embed, dh) against backward(embed, dhs) with dhs zero but for dh at the last step,
// on every backend, both cells, the input projection folded (V < T*N) and not: the same gradients bit for bit;
// and TimeLSTM.backwardLast(dh, dc) (an encoder handing its last h and c on) against backward(dhs, dc).
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.seq4j.testing.TestBackends.assertSameRun;
import static org.seq4j.testing.TestBackends.values;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class BackwardLastTest {

    static Stream<Arguments> cases() {
        return TestBackends.all().flatMap(b -> Stream.of(Cell.values()).flatMap(c -> Stream.of(
                Arguments.of(b, c, 7, 6),     // folded: V = 7 < T*N = 24
                Arguments.of(b, c, 40, 6),    // not folded: V >= T*N
                Arguments.of(b, c, 3, 1))));  // T = 1: the last step is the only one (folded: V = 3 < T*N = 4)
    }

    @ParameterizedTest(name = "{0} {1} V={2} T={3}")
    @MethodSource("cases")
    void sameGradientsAsAZeroPaddedDhs(String name, Cell cell, int V, int T) {
        Backend backend = TestBackends.get(name);
        int D = 3, H = 5, N = 4, g = cell.columns(H);
        Random rng = new Random(99);
        try (ParameterStore store = ParameterStore.builder(backend)
                     .declare("embed.W", Init.normal(1.0), V, D)
                     .declare("rnn.Wx", Init.scaledNormal(D), D, g)
                     .declare("rnn.Wh", Init.scaledNormal(H), H, g)
                     .declare("rnn.b", Init.normal(0.3), g)
                     .build(7);
             TimeEmbedding embed = new TimeEmbedding(backend, store.get("embed.W"));
             TimeRecurrent layer = cell.time(backend, store.get("rnn.Wx"), store.get("rnn.Wh"), store.get("rnn.b"), false);
             Workspace ws = new Workspace(backend)) {
            int[] idValues = new int[T * N];
            for (int i = 0; i < idValues.length; i++) {
                idValues[i] = rng.nextInt(V);
            }
            Tensor ids = GradientCheck.ints(backend, ws, idValues, T, N);
            float[] dhValues = GradientCheck.randn(rng, 1, N * H);
            float[] padded = new float[T * N * H];
            System.arraycopy(dhValues, 0, padded, (T - 1) * N * H, N * H);
            Tensor dh = GradientCheck.tensor(backend, ws, dhValues, N, H);
            Tensor dhs = GradientCheck.tensor(backend, ws, padded, T, N, H);

            layer.forward(embed, ids);
            layer.backward(embed, dhs);
            Map<String, float[]> expected = new LinkedHashMap<>();
            for (Parameter p : store.parameters()) {
                expected.put(p.name(), values(backend, p.grad()));
            }
            float[] expectedDh0 = values(backend, layer.dh());

            store.zeroGrads();
            // the weights count as written, so this forward takes the first one's path (over unchanged weights,
            // forwards of V tokens in all would move V = 40 >= T*N to the kept table E Wx + b: FoldedInput)
            store.valuesWritten();
            layer.forward(embed, ids);
            layer.backwardLast(embed, dh);
            for (Parameter p : store.parameters()) {
                assertSameRun(backend, expected.get(p.name()), values(backend, p.grad()), p.name() + " grad");
            }
            assertSameRun(backend, expectedDh0, values(backend, layer.dh()), "dh0");

            Tensor wrong = ws.floats(N, H + 1);
            layer.forward(embed, ids);   // a forward of its own: the backward above used the last one up
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> layer.backwardLast(embed, wrong));
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("dhLast"), e.getMessage());
        }
    }

    static Stream<Arguments> backends() {
        return TestBackends.all().flatMap(b -> Stream.of(Arguments.of(b, 6), Arguments.of(b, 1)));
    }

    @ParameterizedTest(name = "{0} T={1}")
    @MethodSource("backends")
    void lstmWithACellGradientSameAsAZeroPaddedDhs(String name, int T) {
        Backend backend = TestBackends.get(name);
        int D = 3, H = 5, N = 4;
        Random rng = new Random(98);
        try (ParameterStore store = ParameterStore.builder(backend)
                     .declare("lstm.Wx", Init.scaledNormal(D), D, 4 * H)
                     .declare("lstm.Wh", Init.scaledNormal(H), H, 4 * H)
                     .declare("lstm.b", Init.normal(0.3), 4 * H)
                     .build(8);
             TimeLSTM layer = new TimeLSTM(backend, store.get("lstm.Wx"), store.get("lstm.Wh"), store.get("lstm.b"), false);
             Workspace ws = new Workspace(backend)) {
            Tensor xs = GradientCheck.tensor(backend, ws, GradientCheck.randn(rng, 1, T * N * D), T, N, D);
            float[] dhValues = GradientCheck.randn(rng, 1, N * H);
            float[] padded = new float[T * N * H];
            System.arraycopy(dhValues, 0, padded, (T - 1) * N * H, N * H);
            Tensor dh = GradientCheck.tensor(backend, ws, dhValues, N, H);
            Tensor dc = GradientCheck.tensor(backend, ws, GradientCheck.randn(rng, 1, N * H), N, H);
            Tensor dhs = GradientCheck.tensor(backend, ws, padded, T, N, H);

            layer.forward(xs);
            float[] expectedDxs = values(backend, layer.backward(dhs, dc));
            float[] expectedGrads = values(backend, store.grads());
            float[] expectedDh0 = values(backend, layer.dh());
            float[] expectedDc0 = values(backend, layer.dc());

            store.zeroGrads();
            layer.forward(xs);
            assertSameRun(backend, expectedDxs, values(backend, layer.backwardLast(dh, dc)), "dxs");
            assertSameRun(backend, expectedGrads, values(backend, store.grads()), "grads");
            assertSameRun(backend, expectedDh0, values(backend, layer.dh()), "dh0");
            assertSameRun(backend, expectedDc0, values(backend, layer.dc()), "dc0");
        }
    }

    /** Misuse of TimeLSTM.backwardLast(dh, dc) throws, naming what was wrong: before any forward, a null dh, after close. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    void backwardLastMisuseThrows(String name) {
        Backend backend = TestBackends.get(name);
        int D = 3, H = 5, N = 2, T = 3;
        try (ParameterStore store = ParameterStore.builder(backend).declare("Wx", Init.scaledNormal(D), D, 4 * H)
                     .declare("Wh", Init.scaledNormal(H), H, 4 * H).declare("b", Init.zeros(), 4 * H).build(1);
             Workspace ws = new Workspace(backend)) {
            Tensor xs = ws.floats(T, N, D), dh = ws.floats(N, H);
            TimeLSTM lstm = new TimeLSTM(backend, store.get("Wx"), store.get("Wh"), store.get("b"), false);
            IllegalStateException early = assertThrows(IllegalStateException.class, () -> lstm.backwardLast(dh, null));
            assertTrue(early.getMessage().contains("forward"), early.getMessage());
            lstm.forward(xs);
            NullPointerException none = assertThrows(NullPointerException.class, () -> lstm.backwardLast((Tensor) null, null));
            assertTrue(none.getMessage().contains("dhLast"), none.getMessage());
            lstm.close();
            assertThrows(IllegalStateException.class, () -> lstm.backwardLast(dh, null));
        }
    }
}
