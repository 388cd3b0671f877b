// backward(embed, dhs) of TimeLSTM and TimeGRU after forward(embed, ids), where the shapes fold the embedding into the
// input product and where they do not (V x D past FoldedInput.SMALL and more rows than tokens). Where they did not fold
// (a red-team find): an embedding shared with a decoder that ran its own forward in between (tied input embeddings) had
// this layer's gradient scattered into the decoder's ids' rows, and a backward given another embedding than the
// forward's added to that one, both without a word; the folded path got the first right and refused the second. Both
// paths now scatter by this layer's own ids and refuse another embedding. A later find: the unfolded path's dWx read
// the embedding's output buffer, which the decoder's forward had overwritten with its own tokens' vectors (or freed,
// re-sizing it); it now gathers the layer's own again. (After forward(embed.forward(ids)),
// backward(embed, dhs) is the layer's backward then the embedding's own, of its last forward, as before.)
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.seq4j.testing.TestBackends.values;

import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class EmbeddingThroughRecurrentTest {
    static final int D = 5, H = 4, T = 3, N = 2;

    /** Each backend and cell, with V = 7 (folds: a small E) and V = 1000 (does not: 5,000 values, 6 tokens). */
    static Stream<Arguments> cases() {
        return TestBackends.all().flatMap(b -> Stream.of(Cell.LSTM, Cell.GRU).flatMap(c -> Stream.of(7, 1000)
                .map(v -> Arguments.of(b, Named.of(c.lower(), c), Named.of("V=" + v, v)))));
    }

    /** An embedding (its own store) and a layer over it, the same numbers for the same seed. */
    private record Net(Backend backend, ParameterStore embedStore, ParameterStore store, TimeEmbedding embed,
                       TimeRecurrent layer, Workspace ws) implements AutoCloseable {
        static Net of(Backend backend, Cell cell, int v) {
            int g = cell.columns(H);
            ParameterStore e = ParameterStore.builder(backend).declare("E", Init.normal(1.0), v, D).build(5);
            ParameterStore s = ParameterStore.builder(backend).declare("Wx", Init.normal(0.5), D, g)
                    .declare("Wh", Init.normal(0.4), H, g).declare("b", Init.normal(0.3), g).build(6);
            return new Net(backend, e, s, new TimeEmbedding(backend, e.get("E")),
                    cell.time(backend, s.get("Wx"), s.get("Wh"), s.get("b"), false), new Workspace(backend));
        }

        Tensor ids(int... v) {
            return GradientCheck.ints(backend, ws, v, T, N);
        }

        @Override
        public void close() {
            layer.close();
            embed.close();
            ws.close();
            store.close();
            embedStore.close();
        }
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void theLayersGradientGoesToItsOwnIdsAndOnlyThroughItsOwnEmbedding(String backendName, Cell cell, int v) {
        Backend backend = TestBackends.get(backendName);
        int[] xs = {1, 2, 3, 4, 5, 6}, ts = {0, 0, 0, 0, 0, 0};   // the "decoder's" ids differ from every one of xs
        float[] dh = GradientCheck.randn(new Random(7), 1.0, T * N * H);
        float[] alone, aloneW;
        try (Net a = Net.of(backend, cell, v)) {
            a.layer.forward(a.embed, a.ids(xs));
            a.layer.backward(a.embed, GradientCheck.tensor(backend, a.ws, dh, T, N, H));
            alone = values(backend, a.embedStore.grads());
            aloneW = values(backend, a.store.grads());
        }
        // a decoder's forward through the same embedding before this backward: of the same (T, N), which overwrites
        // the embedding's output, and of another T, which re-sizes it (its old buffer freed)
        for (int tDec : new int[] {T, T + 1}) {
            try (Net tied = Net.of(backend, cell, v)) {
                tied.layer.forward(tied.embed, tied.ids(xs));
                tied.embed.forward(GradientCheck.ints(backend, tied.ws, new int[tDec * N], tDec, N));
                tied.layer.backward(tied.embed, GradientCheck.tensor(backend, tied.ws, dh, T, N, H));
                assertArrayEquals(alone, values(backend, tied.embedStore.grads()), "dE of the layer's own ids' rows, "
                        + "decoder T=" + tDec);
                // dWx = x^T dA over the layer's own tokens' vectors (it took the decoder's where the path did not fold)
                assertArrayEquals(aloneW, values(backend, tied.store.grads()), "dWx, dWh, db, decoder T=" + tDec);
                // the decoder's forward is still the embedding's to take back
                tied.embed.backward(GradientCheck.tensor(backend, tied.ws, new float[tDec * N * D], tDec, N, D));
            }
        }
        try (Net n = Net.of(backend, cell, v);
             ParameterStore otherStore = ParameterStore.builder(backend).declare("E", Init.normal(1.0), v, D).build(9);
             TimeEmbedding other = new TimeEmbedding(backend, otherStore.get("E"))) {
            n.layer.forward(n.embed, n.ids(xs));
            other.forward(n.ids(ts));
            Tensor dhs = GradientCheck.tensor(backend, n.ws, dh, T, N, H);
            var e = assertThrows(IllegalArgumentException.class, () -> n.layer.backward(other, dhs));
            assertTrue(e.getMessage().endsWith("with another embedding than the forward's"), e.getMessage());
            assertTrue(allZero(values(backend, otherStore.grads())), "nothing added to the other");
            assertTrue(allZero(values(backend, n.embedStore.grads())), "nor to the forward's");
        }
    }

    /**
     * backward(dhs), which adds nothing to the embedding, after forward(embed, ids): refused where the shapes fold
     * and where they do not alike (unfolded, it was taken, and E's gradient left out without a word, so that the same
     * code ran at one vocabulary size and was refused at another); the forward stays for backward(embed, dhs).
     */
    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void backwardWithoutTheEmbeddingIsRefusedFoldedOrNot(String backendName, Cell cell, int v) {
        Backend backend = TestBackends.get(backendName);
        float[] dh = GradientCheck.randn(new Random(7), 1.0, T * N * H);
        try (Net n = Net.of(backend, cell, v)) {
            n.layer.forward(n.embed, n.ids(1, 2, 3, 4, 5, 6));
            Tensor dhs = GradientCheck.tensor(backend, n.ws, dh, T, N, H);
            var e = assertThrows(IllegalStateException.class, () -> n.layer.backward(dhs));
            assertTrue(e.getMessage().endsWith("use backward(embed, dhs)"), e.getMessage());
            if (n.layer instanceof TimeLSTM lstm) {
                assertThrows(IllegalStateException.class, () -> lstm.backwardLast(dhs.get(T - 1), null));
            }
            assertTrue(allZero(values(backend, n.store.grads())), "nothing added to the layer's gradients");
            n.layer.backward(n.embed, dhs);
            assertTrue(!allZero(values(backend, n.embedStore.grads())), "the forward left for backward(embed, dhs)");
        }
    }

    /**
     * backward(embed, dhs) after forward(xs) whose xs was not the embedding's last output (the embedding ran over
     * ids of another (T, N) since): the embedding's backward would refuse its dout, and so the layer's backward is
     * refused before it adds anything, in the layer's words, and the forward stays for a backward that fits. It was
     * refused by the embedding ("TimeEmbedding.backward: dout has shape ...") after the layer had added its gradients
     * and handed out dh(), so the same forward could not be backed again and the store held half a step.
     */
    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void backwardThroughAnEmbeddingOfAnotherShapeIsRefusedBeforeTheLayerAdds(String backendName, Cell cell, int v) {
        Backend backend = TestBackends.get(backendName);
        float[] dh = GradientCheck.randn(new Random(7), 1.0, T * N * H);
        try (Net n = Net.of(backend, cell, v)) {
            n.embed.forward(GradientCheck.ints(backend, n.ws, new int[] {1, 2, 3}, 1, 3));   // (T=1, N=3)
            n.layer.forward(GradientCheck.tensor(backend, n.ws, GradientCheck.randn(new Random(8), 1.0, T * N * D),
                    T, N, D));
            Tensor dhs = GradientCheck.tensor(backend, n.ws, dh, T, N, H);
            var e = assertThrows(IllegalArgumentException.class, () -> n.layer.backward(n.embed, dhs));
            String layer = n.layer.getClass().getSimpleName();
            assertTrue(e.getMessage().startsWith(layer + ".backward(embed, dhs): "), e.getMessage());
            assertTrue(allZero(values(backend, n.store.grads())), "nothing added to the layer's gradients");
            assertTrue(allZero(values(backend, n.embedStore.grads())), "nothing added to the embedding's");
            assertThrows(IllegalStateException.class, n.layer::dh, "no backward returned");
            n.layer.backward(dhs);   // the forward is still there
            assertTrue(!allZero(values(backend, n.store.grads())), "the forward left for a backward that fits");
        }
    }

    private static boolean allZero(float[] v) {
        for (float f : v) {
            if (f != 0f) {
                return false;
            }
        }
        return true;
    }
}
