// A layer's backward follows only a forward that returned: after a forward that throws (a bad id, a wrong shape),
// backward is refused, where it used to run on the earlier forward's record over buffers the failed one had
// resized or half written (a silent wrong gradient). For every kind of layer: a good forward, a failing forward,
// backward refused; then a good forward and its backward run again.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class FailedForwardTest {
    static final int V = 7, D = 3, H = 4, N = 2, T = 3;
    Backend backend;
    Workspace ws;
    ParameterStore store;
    Random rng;

    @BeforeEach
    void setUp() {
        backend = TestBackends.reference();
        ws = new Workspace(backend);
        store = ParameterStore.builder(backend)
                .declare("embed.W", Init.normal(0.1), V, D)
                .declare("lstm.Wx", Init.scaledNormal(D), D, 4 * H).declare("lstm.Wh", Init.scaledNormal(H), H, 4 * H)
                .declare("lstm.b", Init.zeros(), 4 * H)
                .declare("gru.Wx", Init.scaledNormal(D), D, 3 * H).declare("gru.Wh", Init.scaledNormal(H), H, 3 * H)
                .declare("gru.b", Init.zeros(), 3 * H)
                .declare("affine.W", Init.scaledNormal(D), D, V).declare("affine.b", Init.zeros(), V).build(5);
        rng = new Random(11);
    }

    @AfterEach
    void tearDown() {
        store.close();
        ws.close();
    }

    private Tensor floats(int... shape) {
        Tensor t = ws.floats(shape);
        float[] v = new float[(int) t.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rng.nextGaussian();
        }
        backend.copyIn(t, v);
        return t;
    }

    private Tensor ids(int bad, int... shape) {
        Tensor t = ws.ints(shape);
        int[] v = new int[(int) t.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = rng.nextInt(V);
        }
        if (bad >= 0) {
            v[v.length - 1] = bad;
        }
        backend.copyIn(t, v);
        return t;
    }

    /** good forward, failing forward (throws), backward refused; good forward, backward runs. */
    private static void check(String layer, Runnable good, Class<? extends RuntimeException> failure, Runnable bad,
                              Runnable backward) {
        good.run();
        assertThrows(failure, bad::run, layer + ": the failing forward");
        IllegalStateException e = assertThrows(IllegalStateException.class, backward::run, layer + ": backward");
        assertTrue(e.getMessage().contains(layer + ".backward before forward"), e.getMessage());
        good.run();
        backward.run();
    }

    @Test
    void recurrentLayersFoldedOverABadId() {
        try (TimeEmbedding embed = new TimeEmbedding(backend, store.get("embed.W"));
             TimeLSTM lstm = new TimeLSTM(backend, store.get("lstm.Wx"), store.get("lstm.Wh"), store.get("lstm.b"), false);
             TimeGRU gru = new TimeGRU(backend, store.get("gru.Wx"), store.get("gru.Wh"), store.get("gru.b"), false)) {
            Tensor good = ids(-1, T, N), bad = ids(V, T + 1, N), dhs = floats(T, N, H);
            Consumer<TimeRecurrent> run = r -> check(r.getClass().getSimpleName(), () -> r.forward(embed, good),
                    IndexOutOfBoundsException.class, () -> r.forward(embed, bad), () -> r.backward(embed, dhs));
            run.accept(lstm);
            run.accept(gru);
        }
    }

    /**
     * A forward of token ids folded into the embedding, then a forward of vectors that throws: backward(dhs) said "the
     * last forward took token ids" (the folded one's mark outlived the failed forward) where no forward had returned.
     */
    @Test
    void recurrentLayersFoldedThenAFailedForwardOfVectors() {
        try (TimeEmbedding embed = new TimeEmbedding(backend, store.get("embed.W"));
             TimeLSTM lstm = new TimeLSTM(backend, store.get("lstm.Wx"), store.get("lstm.Wh"), store.get("lstm.b"), false);
             TimeGRU gru = new TimeGRU(backend, store.get("gru.Wx"), store.get("gru.Wh"), store.get("gru.b"), false)) {
            int t = V + 1;   // more tokens than the vocabulary has rows: the input projection is folded
            Tensor ids = ids(-1, t, N), wide = floats(t, N, D + 1), dhs = floats(t, N, H);
            for (TimeRecurrent r : new TimeRecurrent[] {lstm, gru}) {
                String layer = r.getClass().getSimpleName();
                r.forward(embed, ids);
                assertThrows(IllegalArgumentException.class, () -> r.forward(wide), layer);
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> r.backward(dhs), layer);
                assertTrue(e.getMessage().contains(layer + ".backward before forward"), e.getMessage());
                e = assertThrows(IllegalStateException.class, () -> r.backward(embed, dhs), layer);
                assertTrue(e.getMessage().contains(layer + ".backward before forward"), e.getMessage());
            }
        }
    }

    @Test
    void recurrentLayersOverAWrongShape() {
        try (TimeLSTM lstm = new TimeLSTM(backend, store.get("lstm.Wx"), store.get("lstm.Wh"), store.get("lstm.b"), false);
             TimeGRU gru = new TimeGRU(backend, store.get("gru.Wx"), store.get("gru.Wh"), store.get("gru.b"), false)) {
            Tensor xs = floats(T, N, D), wide = floats(T, N, D + 1), dhs = floats(T, N, H);
            check("TimeLSTM", () -> lstm.forward(xs), IllegalArgumentException.class, () -> lstm.forward(wide),
                    () -> lstm.backward(dhs));
            check("TimeGRU", () -> gru.forward(xs), IllegalArgumentException.class, () -> gru.forward(wide),
                    () -> gru.backward(dhs));
            // the initial state's gradients belong to the backward of the forward before: a failed forward ends them
            assertThrows(IllegalArgumentException.class, () -> lstm.forward(wide));
            assertThrows(IllegalStateException.class, lstm::dh, "TimeLSTM.dh after a failed forward");
            assertThrows(IllegalArgumentException.class, () -> gru.forward(wide));
            assertThrows(IllegalStateException.class, gru::dh, "TimeGRU.dh after a failed forward");
            // a backward refused for its dhs leaves no dh (the earlier backward's ended with the forward after it),
            // and leaves its forward: the corrected backward runs, once
            lstm.forward(xs);
            lstm.backward(dhs);
            lstm.forward(xs);
            assertThrows(IllegalArgumentException.class, () -> lstm.backward(floats(T, N, H + 1)));
            assertThrows(IllegalStateException.class, lstm::dh, "TimeLSTM.dh after a refused backward");
            lstm.backward(dhs);
            lstm.dh();
            assertThrows(IllegalStateException.class, () -> lstm.backward(dhs), "a second backward of one forward");
        }
    }

    @Test
    void feedForwardLayers() {
        try (TimeEmbedding embed = new TimeEmbedding(backend, store.get("embed.W"));
             TimeAffine timeAffine = new TimeAffine(backend, store.get("affine.W"), store.get("affine.b"));
             Affine affine = new Affine(backend, store.get("affine.W"), store.get("affine.b"));
             Softmax softmax = new Softmax(backend);
             Sigmoid sigmoid = new Sigmoid(backend);
             TimeSoftmaxWithLoss loss = new TimeSoftmaxWithLoss(backend)) {
            Tensor good = ids(-1, T, N), bad = ids(V, T, N);
            check("TimeEmbedding", () -> embed.forward(good), IndexOutOfBoundsException.class, () -> embed.forward(bad),
                    () -> embed.backward(floats(T, N, D)));
            check("TimeAffine", () -> timeAffine.forward(floats(T, N, D)), IllegalArgumentException.class,
                    () -> timeAffine.forward(floats(T, N, D + 1)), () -> timeAffine.backward(floats(T, N, V)));
            check("Affine", () -> affine.forward(floats(N, D)), IllegalArgumentException.class,
                    () -> affine.forward(floats(N, D + 1)), () -> affine.backward(floats(N, V)));
            check("Softmax", () -> softmax.forward(floats(N, V)), IllegalArgumentException.class,
                    () -> softmax.forward(floats(N)), () -> softmax.backward(floats(N, V)));
            check("Sigmoid", () -> sigmoid.forward(floats(N, V)), IllegalArgumentException.class,
                    () -> sigmoid.forward(ws.ints(N, V)), () -> sigmoid.backward(floats(N, V)));
            Tensor scores = floats(T, N, V);
            check("TimeSoftmaxWithLoss", () -> loss.forward(scores, ids(-1, T, N)), IndexOutOfBoundsException.class,
                    () -> loss.forward(scores, ids(V, T, N)), () -> loss.backward(1f));
            // one backward per forward: the first turns the probabilities into the gradient
            IllegalStateException twice = assertThrows(IllegalStateException.class, () -> loss.backward(1f));
            assertTrue(twice.getMessage().contains("TimeSoftmaxWithLoss.backward: already ran for this forward"),
                    twice.getMessage());
        }
    }

    @Test
    void timeAttention() {
        try (TimeAttention attention = new TimeAttention(backend)) {
            Tensor enc = floats(T, N, H), dec = floats(T + 1, N, H);
            check("TimeAttention", () -> attention.forward(enc, dec), IllegalArgumentException.class,
                    () -> attention.forward(enc, floats(T + 1, N, H + 1)), () -> attention.backward(floats(T + 1, N, H)));
            assertThrows(IllegalArgumentException.class, () -> attention.forward(enc, floats(T + 1, N + 1, H)));
            IllegalStateException e = assertThrows(IllegalStateException.class, attention::attentionWeights);
            assertTrue(e.getMessage().contains("before forward"), e.getMessage());
        }
    }

    @Test
    void dropout() {
        try (TimeDropout drop = new TimeDropout(backend, 0.5f, 3)) {
            IllegalStateException none = assertThrows(IllegalStateException.class, () -> drop.backward(floats(T, N, D)));
            assertTrue(none.getMessage().contains("TimeDropout.backward before forward"), none.getMessage());
            check("TimeDropout", () -> drop.forward(floats(T, N, D)), IllegalArgumentException.class,
                    () -> drop.forward(ws.ints(T, N, D)), () -> drop.backward(floats(T, N, D)));
        }
    }
}
