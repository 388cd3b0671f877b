// Gradient checks by central differences for the book's appendix GRU: the one-step GRU layer and TimeGRU
// (from zero, from a given state with dh0, fed by an embedding with the projection folded), on the java
// reference backend with small seeded sizes; the folded and plain input projections agree; and TimeGRU's
// forward over several steps is the one-step GRU applied step by step.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class GruGradientTest {
    static final GradientCheck.Tolerance TOL = TimeLayersGradientTest.TOL;

    Backend backend;
    Workspace ws;
    Random rng;

    @BeforeEach
    void setUp() {
        backend = TestBackends.reference();
        ws = new Workspace(backend);
        rng = new Random(4321);
    }

    @AfterEach
    void tearDown() {
        ws.close();
    }

    private ParameterStore store(int V, int D, int H, long seed) {
        ParameterStore.Builder b = ParameterStore.builder(backend);
        if (V > 0) {
            b.declare("embed.W", Init.normal(1.0), V, D);
        }
        return b.declare("gru.Wx", Init.normal(0.7), D, 3 * H)
                .declare("gru.Wh", Init.normal(0.7), H, 3 * H)
                .declare("gru.b", Init.normal(0.3), 3 * H)
                .build(seed);
    }

    private Tensor randn(double scale, int... shape) {
        return GradientCheck.tensor(backend, ws, GradientCheck.randn(rng, scale, (int) Tensor.sizeOf(shape)), shape);
    }

    @Test
    void gruCell() {
        int N = 2, D = 3, H = 4;
        try (ParameterStore store = store(0, D, H, 8);
             GRU layer = new GRU(backend, store.get("gru.Wx"), store.get("gru.Wh"), store.get("gru.b"))) {
            Tensor x = randn(1, N, D), h = randn(1, N, H);
            float[] r = GradientCheck.randn(rng, 1, N * H);
            DoubleSupplier loss = () -> GradientCheck.dot(layer.forward(x, h), r);
            loss.getAsDouble();
            float[] dx = layer.backward(GradientCheck.tensor(backend, ws, r, N, H)).toFloatArray();
            float[] dh = layer.dhPrev().toFloatArray();   // read before the check's forwards end its backward
            GradientCheck gc = new GradientCheck(TOL);
            gc.check("x", x, dx, loss);
            gc.check("h_prev", h, dh, loss);
            for (Parameter p : store.parameters()) {
                gc.check(p, loss);
            }
            gc.assertAllOk();
        }
    }

    @Test
    void timeGRUFromZeroState() {
        int D = 3, H = 4, T = 5, N = 2;
        try (ParameterStore store = store(0, D, H, 3);
             TimeGRU layer = new TimeGRU(backend, store.get("gru.Wx"), store.get("gru.Wh"), store.get("gru.b"),
                     false)) {
            Tensor x = randn(1, T, N, D);
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

    @Test
    void timeGRUFromAGivenState() {
        // stateful, every forward from h0: checks dh() w.r.t. h0 and the first step's recurrent GEMMs
        int D = 2, H = 3, T = 4, N = 3;
        try (ParameterStore store = store(0, D, H, 4);
             TimeGRU layer = new TimeGRU(backend, store.get("gru.Wx"), store.get("gru.Wh"), store.get("gru.b"),
                     true)) {
            Tensor x = randn(1, T, N, D), h0 = randn(0.5, N, H);
            float[] r = GradientCheck.randn(rng, 1, T * N * H);
            DoubleSupplier loss = () -> {
                layer.setState(h0);
                return GradientCheck.dot(layer.forward(x), r);
            };
            loss.getAsDouble();
            float[] dx = layer.backward(GradientCheck.tensor(backend, ws, r, T, N, H)).toFloatArray();
            float[] dh0 = layer.dh().toFloatArray();
            GradientCheck gc = new GradientCheck(TOL);
            gc.check("xs", x, dx, loss);
            gc.check("h0", h0, dh0, loss);
            for (Parameter p : store.parameters()) {
                gc.check(p, loss);
            }
            gc.assertAllOk();
        }
    }

    private Tensor randomIds(int v, int t, int n) {
        int[] ids = new int[t * n];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = rng.nextInt(v);
        }
        return GradientCheck.ints(backend, ws, ids, t, n);
    }

    @Test
    void timeGRUFedByAnEmbeddingWithTheProjectionFolded() {
        int V = 4, D = 3, H = 4, T = 5, N = 3;   // V < T*N: folded
        try (ParameterStore store = store(V, D, H, 5);
             TimeEmbedding embed = new TimeEmbedding(backend, store.get("embed.W"));
             TimeGRU layer = new TimeGRU(backend, store.get("gru.Wx"), store.get("gru.Wh"), store.get("gru.b"),
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
    void foldedAndPlainInputProjectionsAgree() {
        int D = 3, H = 5, T = 6, N = 4;
        for (int V : new int[] {7, 40}) { // folded (V < T*N = 24) and not
            try (ParameterStore store = store(V, D, H, 6);
                 TimeEmbedding embed = new TimeEmbedding(backend, store.get("embed.W"));
                 TimeGRU layer = new TimeGRU(backend, store.get("gru.Wx"), store.get("gru.Wh"), store.get("gru.b"),
                         false)) {
                Tensor ids = randomIds(V, T, N);
                Tensor dhs = randn(1, T, N, H);
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

    @Test
    void timeGRUIsTheCellSteppedTTimes() {
        // the fast structure (one x Wx GEMM for all steps, sliced recurrent GEMMs) against the one-step GRU layer
        // applied step by step: same hs for T > 1, from a given state and from zero
        int D = 3, H = 5, T = 4, N = 2;
        try (ParameterStore store = store(0, D, H, 9);
             TimeGRU time = new TimeGRU(backend, store.get("gru.Wx"), store.get("gru.Wh"), store.get("gru.b"), true);
             GRU cell = new GRU(backend, store.get("gru.Wx"), store.get("gru.Wh"), store.get("gru.b"))) {
            Tensor xs = randn(1, T, N, D);
            for (boolean fromZero : new boolean[] {false, true}) {
                float[] h0v = fromZero ? new float[N * H] : GradientCheck.randn(rng, 0.5, N * H);
                Tensor h = GradientCheck.tensor(backend, ws, h0v, N, H);
                if (fromZero) {
                    time.resetState();
                } else {
                    time.setState(h);
                }
                float[] hs = time.forward(xs).toFloatArray();
                for (int t = 0; t < T; t++) {
                    float[] next = cell.forward(xs.get(t), h).toFloatArray();
                    float[] got = java.util.Arrays.copyOfRange(hs, t * N * H, (t + 1) * N * H);
                    assertClose("h_" + (t + 1) + (fromZero ? " from zero" : " from h0"), next, got);
                    h = GradientCheck.tensor(backend, ws, next, N, H);
                }
            }
        }
    }

    private static void assertClose(String what, float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-5 + 1e-4 * Math.abs(expected[i]), what + " [" + i + "]");
        }
    }
}
