// Gradient checks by central differences for the time layers (TimeEmbedding, TimeAffine, TimeLSTM,
// TimeBiRecurrent of either cell, TimeSoftmaxWithLoss) on the java reference backend, with small seeded sizes.
package org.seq4j.layers;

import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class TimeLayersGradientTest {
    // Losses here are sum(out * R) with R ~ N(0, 1), evaluated in double, of order 1-10; with eps = 1e-2 the
    // numeric derivative is good to about 1e-4 absolute (float32 activations), so 1e-3 + 1e-2 relative
    // separates real errors (which are relative, >= several percent) from rounding.
    static final GradientCheck.Tolerance TOL = new GradientCheck.Tolerance(1e-3, 1e-2);

    Backend backend;
    Workspace ws;
    Random rng;

    @BeforeEach
    void setUp() {
        backend = TestBackends.reference();
        ws = new Workspace(backend);
        rng = new Random(1234);
    }

    @AfterEach
    void tearDown() {
        ws.close();
    }

    @Test
    void timeEmbedding() {
        int V = 5, D = 3, T = 4, N = 3;
        try (ParameterStore store = ParameterStore.builder(backend).declare("embed.W", Init.normal(1), V, D).build(1);
             TimeEmbedding layer = new TimeEmbedding(backend, store.get("embed.W"))) {
            // ids with repeats, so the scatter-add must sum duplicates
            int[] ids = {0, 1, 1, 4, 2, 2, 0, 3, 1, 1, 1, 4};
            Tensor xs = GradientCheck.ints(backend, ws, ids, T, N);
            float[] r = GradientCheck.randn(rng, 1, T * N * D);
            layer.forward(xs);
            layer.backward(GradientCheck.tensor(backend, ws, r, T, N, D));
            GradientCheck gc = new GradientCheck(TOL);
            gc.check(store.get("embed.W"), () -> GradientCheck.dot(layer.forward(xs), r));
            gc.assertAllOk();
        }
    }

    @Test
    void timeAffine() {
        checkAffine(false);
    }

    @Test
    void timeAffineTransposedWeight() {
        checkAffine(true);
    }

    private void checkAffine(boolean transposed) {
        int D = 4, V = 6, T = 3, N = 2;
        try (ParameterStore store = ParameterStore.builder(backend)
                .declare("affine.W", Init.normal(0.5), transposed ? V : D, transposed ? D : V)
                .declare("affine.b", Init.normal(0.5), V).build(2);
             TimeAffine layer = new TimeAffine(backend, store.get("affine.W"), store.get("affine.b"), transposed)) {
            Tensor x = GradientCheck.tensor(backend, ws, GradientCheck.randn(rng, 1, T * N * D), T, N, D);
            float[] r = GradientCheck.randn(rng, 1, T * N * V);
            layer.forward(x);
            float[] dx = layer.backward(GradientCheck.tensor(backend, ws, r, T, N, V)).toFloatArray();
            GradientCheck gc = new GradientCheck(TOL);
            gc.check("x", x, dx, () -> GradientCheck.dot(layer.forward(x), r));
            for (Parameter p : store.parameters()) {
                gc.check(p, () -> GradientCheck.dot(layer.forward(x), r));
            }
            gc.assertAllOk();
        }
    }

    @Test
    void timeSoftmaxWithLossIgnoresLabelMinusOne() {
        int V = 5, T = 3, N = 4;
        try (TimeSoftmaxWithLoss layer = new TimeSoftmaxWithLoss(backend)) {
            Tensor xs = GradientCheck.tensor(backend, ws, GradientCheck.randn(rng, 2, T * N * V), T, N, V);
            int[] labels = {0, 4, -1, 2, 3, -1, 1, 1, 0, 2, 4, -1};
            Tensor ts = GradientCheck.ints(backend, ws, labels, T, N);
            layer.forward(xs, ts);
            float[] dxs = layer.backward(1f).toFloatArray();
            // the loss itself is rounded to float32 (about 1e-7 relative on a loss near 2): noise ~1e-5 at eps 1e-2
            GradientCheck gc = new GradientCheck(new GradientCheck.Tolerance(2e-4, 1e-2));
            gc.check("xs", xs, dxs, () -> backend.item(layer.forward(xs, ts), 0));
            gc.assertAllOk();
            for (int row = 0; row < T * N; row++) {
                if (labels[row] == -1) {
                    for (int v = 0; v < V; v++) {
                        org.junit.jupiter.api.Assertions.assertEquals(0f, dxs[row * V + v],
                                "row " + row + " has label -1, so its gradient must be 0");
                    }
                }
            }
        }
    }

    private ParameterStore lstmStore(int D, int H, long seed) {
        return ParameterStore.builder(backend)
                .declare("lstm.Wx", Init.scaledNormal(D), D, 4 * H)
                .declare("lstm.Wh", Init.scaledNormal(H), H, 4 * H)
                .declare("lstm.b", Init.normal(0.3), 4 * H)
                .build(seed);
    }

    @Test
    void timeLSTMFromZeroState() {
        int D = 3, H = 4, T = 5, N = 2;
        try (ParameterStore store = lstmStore(D, H, 3);
             TimeLSTM layer = new TimeLSTM(backend, store.get("lstm.Wx"), store.get("lstm.Wh"), store.get("lstm.b"),
                     false)) {
            Tensor x = GradientCheck.tensor(backend, ws, GradientCheck.randn(rng, 1, T * N * D), T, N, D);
            float[] r = GradientCheck.randn(rng, 1, T * N * H);
            layer.forward(x);
            float[] dx = layer.backward(GradientCheck.tensor(backend, ws, r, T, N, H)).toFloatArray();
            GradientCheck gc = new GradientCheck(TOL);
            gc.check("xs", x, dx, () -> GradientCheck.dot(layer.forward(x), r));
            for (Parameter p : store.parameters()) {
                gc.check(p, () -> GradientCheck.dot(layer.forward(x), r));
            }
            gc.assertAllOk();
        }
    }

    @ParameterizedTest
    @EnumSource(Cell.class)
    void timeBiRecurrent(Cell cell) {
        // loss = sum(hs * R) over both halves of hs (T, N, 2H): checks the reversal both ways, the concatenation
        // and that dxs sums both directions; LSTM: the book's TimeBiLSTM, GRU: its GRU equivalent
        int D = 3, H = 4, T = 5, N = 2, G = cell.columns(H);
        String f = cell.lower() + ".forward_" + cell.lower() + ".", r0 = cell.lower() + ".backward_" + cell.lower() + ".";
        try (ParameterStore store = ParameterStore.builder(backend)
                .declare(f + "Wx", Init.scaledNormal(D), D, G)
                .declare(f + "Wh", Init.scaledNormal(H), H, G)
                .declare(f + "b", Init.normal(0.5), G)
                .declare(r0 + "Wx", Init.scaledNormal(D), D, G)
                .declare(r0 + "Wh", Init.scaledNormal(H), H, G)
                .declare(r0 + "b", Init.normal(0.5), G)
                .build(7);
             TimeBiRecurrent layer = new TimeBiRecurrent(backend, cell, store.get(f + "Wx"), store.get(f + "Wh"),
                     store.get(f + "b"), store.get(r0 + "Wx"), store.get(r0 + "Wh"), store.get(r0 + "b"))) {
            org.junit.jupiter.api.Assertions.assertEquals(cell == Cell.LSTM ? TimeLSTM.class : TimeGRU.class,
                    layer.backwardLayer().getClass());
            Tensor x = GradientCheck.tensor(backend, ws, GradientCheck.randn(rng, 1, T * N * D), T, N, D);
            float[] r = GradientCheck.randn(rng, 1, T * N * 2 * H);
            layer.forward(x);
            float[] dx = layer.backward(GradientCheck.tensor(backend, ws, r, T, N, 2 * H)).toFloatArray();
            GradientCheck gc = new GradientCheck(TOL);
            gc.check("xs", x, dx, () -> GradientCheck.dot(layer.forward(x), r));
            for (Parameter p : store.parameters()) {
                gc.check(p, () -> GradientCheck.dot(layer.forward(x), r));
            }
            gc.assertAllOk();

            // the backward half of hs[t] is the backward layer run alone over x reversed, at step T-1-t
            float[] hs = layer.forward(x).toFloatArray();
            float[] xv = x.toFloatArray(), xr = new float[xv.length];
            for (int t = 0; t < T; t++) {
                System.arraycopy(xv, (T - 1 - t) * N * D, xr, t * N * D, N * D);
            }
            float[] alone = layer.backwardLayer().forward(GradientCheck.tensor(backend, ws, xr, T, N, D)).toFloatArray();
            for (int t = 0; t < T; t++) {
                for (int n = 0; n < N; n++) {
                    for (int h = 0; h < H; h++) {
                        org.junit.jupiter.api.Assertions.assertEquals(alone[((T - 1 - t) * N + n) * H + h],
                                hs[(t * N + n) * 2 * H + H + h], 0f, "t " + t + ", n " + n + ", h " + h);
                    }
                }
            }
        }
    }

    @Test
    void timeLSTMWithInitialStateAndGradientIntoLastCell() {
        // loss = sum(hs * R) + sum(c_T * Rc): checks dh and dc w.r.t. (h0, c0) and the dcLast path
        int D = 2, H = 3, T = 4, N = 3;
        try (ParameterStore store = lstmStore(D, H, 4);
             TimeLSTM layer = new TimeLSTM(backend, store.get("lstm.Wx"), store.get("lstm.Wh"), store.get("lstm.b"),
                     true)) {
            Tensor x = GradientCheck.tensor(backend, ws, GradientCheck.randn(rng, 1, T * N * D), T, N, D);
            Tensor h0 = GradientCheck.tensor(backend, ws, GradientCheck.randn(rng, 0.5, N * H), N, H);
            Tensor c0 = GradientCheck.tensor(backend, ws, GradientCheck.randn(rng, 0.5, N * H), N, H);
            float[] r = GradientCheck.randn(rng, 1, T * N * H);
            float[] rc = GradientCheck.randn(rng, 1, N * H);
            java.util.function.DoubleSupplier loss = () -> {
                layer.setState(h0, c0);
                double l = GradientCheck.dot(layer.forward(x), r);
                return l + GradientCheck.dot(layer.c(), rc);
            };
            loss.getAsDouble();
            float[] dx = layer.backward(GradientCheck.tensor(backend, ws, r, T, N, H),
                    GradientCheck.tensor(backend, ws, rc, N, H)).toFloatArray();
            float[] dh0 = layer.dh().toFloatArray();
            float[] dc0 = layer.dc().toFloatArray();
            GradientCheck gc = new GradientCheck(TOL);
            gc.check("xs", x, dx, loss);
            gc.check("h0", h0, dh0, loss);
            gc.check("c0", c0, dc0, loss);
            for (Parameter p : store.parameters()) {
                gc.check(p, loss);
            }
            gc.assertAllOk();
        }
    }

    private ParameterStore embeddedLstmStore(int V, int D, int H, long seed) {
        return ParameterStore.builder(backend)
                .declare("embed.W", Init.normal(1.0), V, D)
                .declare("lstm.Wx", Init.scaledNormal(D), D, 4 * H)
                .declare("lstm.Wh", Init.scaledNormal(H), H, 4 * H)
                .declare("lstm.b", Init.normal(0.3), 4 * H)
                .build(seed);
    }

    private Tensor randomIds(int v, int t, int n) {
        int[] ids = new int[t * n];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = rng.nextInt(v);
        }
        Tensor x = ws.ints(t, n);
        backend.copyIn(x, ids);
        return x;
    }

    @Test
    void timeLSTMFedByAnEmbeddingWithTheProjectionFolded() {
        // V = 4 < T*N = 15: forward(embed, ids) gathers (E Wx + b)[ids]; backward scatters dA into S
        int V = 4, D = 3, H = 4, T = 5, N = 3;
        try (ParameterStore store = embeddedLstmStore(V, D, H, 5);
             TimeEmbedding embed = new TimeEmbedding(backend, store.get("embed.W"));
             TimeLSTM layer = new TimeLSTM(backend, store.get("lstm.Wx"), store.get("lstm.Wh"), store.get("lstm.b"),
                     false)) {
            Tensor ids = randomIds(V, T, N);
            float[] r = GradientCheck.randn(rng, 1, T * N * H);
            layer.forward(embed, ids);
            layer.backward(embed, GradientCheck.tensor(backend, ws, r, T, N, H));
            GradientCheck gc = new GradientCheck(TOL);
            for (Parameter p : store.parameters()) {
                gc.check(p, () -> GradientCheck.dot(layer.forward(embed, ids), r));
            }
            gc.assertAllOk();
        }
    }

    @Test
    void foldedAndUnfoldedInputProjectionsAgree() {
        int D = 3, H = 5, T = 6, N = 4;
        for (int V : new int[] {7, 40}) { // folded (V < T*N = 24) and not (V >= T*N)
            try (ParameterStore store = embeddedLstmStore(V, D, H, 6);
                 TimeEmbedding embed = new TimeEmbedding(backend, store.get("embed.W"));
                 TimeLSTM layer = new TimeLSTM(backend, store.get("lstm.Wx"), store.get("lstm.Wh"), store.get("lstm.b"),
                         false)) {
                Tensor ids = randomIds(V, T, N);
                Tensor dhs = GradientCheck.tensor(backend, ws, GradientCheck.randn(rng, 1, T * N * H), T, N, H);
                float[] hsFused = layer.forward(embed, ids).toFloatArray();
                layer.backward(embed, dhs);
                var gradsFused = new java.util.LinkedHashMap<String, float[]>();
                for (Parameter p : store.parameters()) {
                    gradsFused.put(p.name(), p.grad().toFloatArray());
                }
                store.zeroGrads();
                float[] hsPlain = layer.forward(embed.forward(ids)).toFloatArray();
                embed.backward(layer.backward(dhs));
                assertClose("hs (V=" + V + ")", hsPlain, hsFused);
                for (Parameter p : store.parameters()) {
                    assertClose(p.name() + " grad (V=" + V + ")", p.grad().toFloatArray(), gradsFused.get(p.name()));
                }
            }
        }
    }

    /** Same products summed in another grouping: float rounding only (1e-5 relative, 1e-6 absolute). */
    private static void assertClose(String what, float[] expected, float[] actual) {
        org.junit.jupiter.api.Assertions.assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            double tol = 1e-6 + 1e-5 * Math.abs(expected[i]);
            int k = i;
            org.junit.jupiter.api.Assertions.assertTrue(Math.abs(expected[i] - actual[i]) <= tol,
                    () -> what + "[" + k + "]: folded " + actual[k] + ", unfolded " + expected[k]);
        }
    }
}
