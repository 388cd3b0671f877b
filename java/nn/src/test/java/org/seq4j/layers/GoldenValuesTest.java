// Golden values: layers and optimizers on fixed tiny inputs against numbers computed from the book's formulas.
// The numbers were obtained with a numpy 2.4 script (float64) that writes out the book's LSTM, TimeSoftmaxWithLoss,
// AttentionWeight/WeightSum, Adam and clip_grads equations for the inputs pat(...) below; they are pasted here.
// The script is src/test/resources/org/seq4j/layers/golden_values.py.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.optim.Adam;
import org.seq4j.optim.ClipGrads;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class GoldenValuesTest {
    // float32 results against a float64 reference of values of order 0.01-1 from a handful of operations:
    // a few float32 roundings each, so 2e-6 absolute + 1e-5 relative.
    static final double ATOL = 2e-6, RTOL = 1e-5;

    Backend backend;
    Workspace ws;

    @BeforeEach
    void setUp() {
        backend = TestBackends.reference();
        ws = new Workspace(backend);
    }

    @AfterEach
    void tearDown() {
        ws.close();
    }

    /** pat(n, scale, mul, mod, off)[i] = scale * ((i * mul) % mod - off), the script's input pattern. */
    static float[] pat(int n, float scale, int mul, int mod, float off) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = scale * ((i * mul) % mod - off);
        }
        return a;
    }

    static void assertClose(String what, float[] expected, Tensor actual) {
        assertClose(what, expected, actual.toFloatArray());
    }

    static void assertClose(String what, float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, what + ": length");
        double maxDiff = 0;
        int worst = -1;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs(actual[i] - expected[i]);
            if (d > ATOL + RTOL * Math.abs(expected[i]) && (worst < 0 || d > maxDiff)) {
                worst = i;
            }
            maxDiff = Math.max(maxDiff, d);
        }
        final int w = worst;
        final double md = maxDiff;
        assertTrue(w < 0, () -> what + ": index " + w + " expected " + expected[w] + " got " + actual[w]
                + ", max diff " + md);
    }

    private Tensor t(float[] v, int... shape) {
        return GradientCheck.tensor(backend, ws, v, shape);
    }

    @Test
    void lstmCellAndTimeLSTMOfOneStep() {
        int N = 2, D = 3, H = 2;
        float[] x = pat(N * D, 0.1f, 7, 11, 5), wx = pat(D * 4 * H, 0.05f, 5, 13, 6), wh = pat(H * 4 * H, 0.07f, 3, 7, 3);
        float[] b = pat(4 * H, 0.02f, 1, 100, 4), hp = pat(N * H, 0.3f, 2, 5, 2), cp = pat(N * H, 0.25f, 3, 5, 2);
        float[] dhn = pat(N * H, 0.5f, 3, 4, 1.5f), dcn = pat(N * H, 0.4f, 1, 3, 1);
        float[] hNext = {-0.193489154f, 0.0916980364f, -0.01592847f, 0.063701285f};
        float[] cNext = {-0.399783459f, 0.176393922f, -0.0304954452f, 0.131148041f};
        float[] dx = {-0.124897634f, -0.124646309f, -0.117478488f, 0.128042535f, 0.109616058f, 0.106926433f};
        float[] dhPrev = {-0.0948860808f, 0.0318427081f, 0.0838737687f, -0.0703933394f};
        float[] dcPrev = {-0.397216047f, 0.186661418f, 0.223039128f, -0.238879221f};
        float[] dWx = {-0.0612059266f, -0.0442168978f, 0.296080366f, -0.224022115f, -0.0150553319f, 0.00678488257f,
                -0.0365407549f, -0.0203987381f, 0.0147873962f, -0.00168610743f, -0.0359219432f, 0.01018643f, 0.0116154486f,
                0.00454920767f, 0.0140458457f, 0.00571576446f, -0.00832407947f, 0.0146013525f, -0.0190848621f,
                0.0427618503f, -0.015344326f, -0.00939131502f, -0.0136655414f, -0.00408661046f};
        float[] dWh = {-0.0734471149f, -0.0530602795f, 0.355296453f, -0.268826549f, -0.018066399f, 0.00814185941f,
                -0.0438489077f, -0.0244784867f, 0.00969497503f, 0.0193728673f, -0.0825102069f, 0.0794224194f,
                -0.00559331593f, -0.00726316092f, 0.000570456483f, 0.00244373097f};
        float[] db = {0.057778689f, -0.0407186479f, -0.0420927073f, -0.0814385445f, 0.0673994352f, 0.0348513058f,
                0.0692784668f, 0.0245059371f};

        try (ParameterStore store = ParameterStore.builder(backend).declare("Wx", Init.zeros(), D, 4 * H)
                .declare("Wh", Init.zeros(), H, 4 * H).declare("b", Init.zeros(), 4 * H).build(0);
             LSTM cell = new LSTM(backend, store.get("Wx"), store.get("Wh"), store.get("b"));
             TimeLSTM time = new TimeLSTM(backend, store.get("Wx"), store.get("Wh"), store.get("b"), true)) {
            store.copyIn("Wx", wx);
            store.copyIn("Wh", wh);
            store.copyIn("b", b);

            assertClose("LSTM h_next", hNext, cell.forward(t(x, N, D), t(hp, N, H), t(cp, N, H)));
            assertClose("LSTM c_next", cNext, cell.cNext());
            assertClose("LSTM dx", dx, cell.backward(t(dhn, N, H), t(dcn, N, H)));
            assertClose("LSTM dh_prev", dhPrev, cell.dhPrev());
            assertClose("LSTM dc_prev", dcPrev, cell.dcPrev());
            assertClose("LSTM dWx", dWx, store.get("Wx").grad());
            assertClose("LSTM dWh", dWh, store.get("Wh").grad());
            assertClose("LSTM db", db, store.get("b").grad());

            // TimeLSTM with T = 1 is the same step through the fast structure
            store.zeroGrads();
            time.setState(t(hp, N, H), t(cp, N, H));
            assertClose("TimeLSTM hs", hNext, time.forward(t(x, 1, N, D)));
            assertClose("TimeLSTM c", cNext, time.c());
            assertClose("TimeLSTM dxs", dx, time.backward(t(dhn, 1, N, H), t(dcn, N, H)));
            assertClose("TimeLSTM dh", dhPrev, time.dh());
            assertClose("TimeLSTM dc", dcPrev, time.dc());
            assertClose("TimeLSTM dWx", dWx, store.get("Wx").grad());
            assertClose("TimeLSTM dWh", dWh, store.get("Wh").grad());
            assertClose("TimeLSTM db", db, store.get("b").grad());
        }
    }

    /** The book's appendix GRU (gates z, r, h), one step; numbers from golden_gru.py (same resource folder). */
    @Test
    void gruCellAndTimeGRUOfOneStep() {
        int N = 2, D = 3, H = 2;
        float[] x = pat(N * D, 0.1f, 7, 11, 5), wx = pat(D * 3 * H, 0.05f, 5, 13, 6), wh = pat(H * 3 * H, 0.07f, 3, 7, 3);
        float[] b = pat(3 * H, 0.02f, 1, 100, 4), hp = pat(N * H, 0.3f, 2, 5, 2), dhn = pat(N * H, 0.5f, 3, 4, 1.5f);
        float[] hNext = {-0.260820382f, -0.0686228297f, 0.426498577f, -0.104130473f};
        float[] dx = {0.132987046f, -0.153762913f, 0.0946664268f, -0.0244024013f, 0.0414966259f, -0.0212478602f};
        float[] dhPrev = {-0.364253645f, 0.404024808f, 0.174258755f, -0.127015228f};
        float[] dWx = {0.0455731375f, 0.000778932246f, -0.00566891239f, 0.000914549494f, 0.250252523f, -0.253932554f,
                -0.0260728024f, -0.00735203359f, 0.00368097511f, 0.000182909902f, -0.0711021634f, 0.0627440706f,
                0.031301834f, 0.0120456742f, -0.00462324856f, -0.000548729718f, 0.051769598f, -0.0368581012f};
        float[] dWh = {0.0546877672f, 0.000934718732f, -0.00680269513f, 0.00109745944f, 0.13430379f, -0.138531796f,
                0.00784354729f, 0.00704046086f, -0.00141341016f, -0.000548729718f, -0.0124471287f, 0.0166664891f};
        float[] db = {-0.143436588f, -0.0484942684f, 0.0207605588f, 0.00182909899f, -0.307179401f, 0.249005428f};

        try (ParameterStore store = ParameterStore.builder(backend).declare("Wx", Init.zeros(), D, 3 * H)
                .declare("Wh", Init.zeros(), H, 3 * H).declare("b", Init.zeros(), 3 * H).build(0);
             GRU cell = new GRU(backend, store.get("Wx"), store.get("Wh"), store.get("b"));
             TimeGRU time = new TimeGRU(backend, store.get("Wx"), store.get("Wh"), store.get("b"), true)) {
            store.copyIn("Wx", wx);
            store.copyIn("Wh", wh);
            store.copyIn("b", b);

            assertClose("GRU h_next", hNext, cell.forward(t(x, N, D), t(hp, N, H)));
            assertClose("GRU dx", dx, cell.backward(t(dhn, N, H)));
            assertClose("GRU dh_prev", dhPrev, cell.dhPrev());
            assertClose("GRU dWx", dWx, store.get("Wx").grad());
            assertClose("GRU dWh", dWh, store.get("Wh").grad());
            assertClose("GRU db", db, store.get("b").grad());

            // TimeGRU with T = 1 is the same step through the fast structure
            store.zeroGrads();
            time.setState(t(hp, N, H));
            assertClose("TimeGRU hs", hNext, time.forward(t(x, 1, N, D)));
            assertClose("TimeGRU dxs", dx, time.backward(t(dhn, 1, N, H)));
            assertClose("TimeGRU dh", dhPrev, time.dh());
            assertClose("TimeGRU dWx", dWx, store.get("Wx").grad());
            assertClose("TimeGRU dWh", dWh, store.get("Wh").grad());
            assertClose("TimeGRU db", db, store.get("b").grad());
        }
    }

    @Test
    void timeSoftmaxWithLossWithIgnoredLabels() {
        int T = 2, N = 3, V = 4;
        try (TimeSoftmaxWithLoss layer = new TimeSoftmaxWithLoss(backend)) {
            Tensor xs = t(pat(T * N * V, 0.3f, 5, 9, 4), T, N, V);
            Tensor ts = GradientCheck.ints(backend, ws, new int[] {3, -1, 0, 2, 1, -1}, T, N);
            assertEquals(1.1194967, backend.item(layer.forward(xs, ts), 0), 1e-6, "loss");
            float[] dx = {0.0194081356f, 0.0869812345f, 0.0261982431f, -0.132587613f, 0f, 0f, 0f, 0f, -0.168237131f,
                    0.0246265016f, 0.110368329f, 0.0332423004f, 0.0817628685f, 0.0246265016f, -0.139631671f,
                    0.0332423004f, 0.139006134f, -0.208132159f, 0.0126103508f, 0.0565156745f, 0f, 0f, 0f, 0f};
            assertClose("dxs", dx, layer.backward(1f));
        }
    }

    /**
     * Every label -1: the book's -np.sum(ls) / mask.sum() is 0/0 = nan (and so is its gradient); seq4j takes the count
     * as 1, so loss 0 and gradient 0, as TimeSoftmaxWithLoss documents. A label below -1 is not another ignore label.
     */
    @Test
    void timeSoftmaxWithLossWithEveryLabelIgnored() {
        int T = 2, N = 3, V = 4;
        try (TimeSoftmaxWithLoss layer = new TimeSoftmaxWithLoss(backend)) {
            Tensor xs = t(pat(T * N * V, 0.3f, 5, 9, 4), T, N, V);
            Tensor ts = GradientCheck.ints(backend, ws, new int[] {-1, -1, -1, -1, -1, -1}, T, N);
            assertEquals(0f, backend.item(layer.forward(xs, ts), 0), "loss of a batch whose labels are all -1");
            assertClose("dxs of a batch whose labels are all -1", new float[T * N * V], layer.backward(1f));
            Tensor below = GradientCheck.ints(backend, ws, new int[] {-2, -1, -1, -1, -1, -1}, T, N);
            assertThrows(IndexOutOfBoundsException.class, () -> layer.forward(xs, below), "label -2");
        }
    }

    @Test
    void attentionAndTimeAttentionOfOneStep() {
        int T = 3, N = 2, H = 2;
        float[] a = {0.667907066f, 0.00698768098f, 0.325105253f, 0.259833095f, 0.678605237f, 0.0615616679f};
        float[] c = {-0.795898367f, 0.384536174f, 0.558617158f, -0.869010221f};
        float[] dhs = {-1.15373135f, 0.323882855f, 0.259833095f, -0.256780929f, 0.0130852516f, -0.013381955f,
                0.678605237f, -0.344903361f, 0.140646097f, -0.3105009f, 0.0615616679f, 0.101684289f};
        float[] dh = {-0.332804158f, -0.301579597f, 0.172886335f, -0.136198948f};
        Tensor hs = t(pat(T * N * H, 0.4f, 3, 7, 3), T, N, H);
        float[] h = pat(N * H, 0.6f, 5, 7, 3), dc = pat(N * H, 0.5f, 2, 5, 2);
        try (Attention att = new Attention(backend); TimeAttention time = new TimeAttention(backend)) {
            assertClose("context", c, att.forward(hs, t(h, N, H)));
            assertClose("attention weights", a, att.attentionWeight());
            assertClose("dhs", dhs, att.backward(t(dc, N, H)));
            assertClose("dh", dh, att.dh());

            assertClose("TimeAttention context", c, time.forward(hs, t(h, 1, N, H)));
            assertClose("TimeAttention weights", a, time.attentionWeights());
            assertClose("TimeAttention dhsEnc", dhs, time.backward(t(dc, 1, N, H)));
            assertClose("TimeAttention dhsDec", dh, time.dhsDec());
        }
    }

    @Test
    void adamTwoStepsWithTheBooksBiasCorrection() {
        try (ParameterStore store = ParameterStore.builder(backend).declare("p", Init.zeros(), 5).build(0);
             Adam adam = new Adam(0.01f)) {
            Parameter p = store.get("p");
            store.copyIn("p", pat(5, 0.2f, 3, 5, 2));
            backend.copyIn(p.grad(), pat(5, 0.1f, 2, 7, 3));
            adam.step(store);
            backend.copyIn(p.grad(), pat(5, 0.3f, 4, 5, 2));
            adam.step(store);
            assertClose("p after two Adam steps",
                    new float[] {-0.380348337f, 0.203760533f, -0.219177406f, 0.383299599f, 0.0199078276f}, p.value());
            assertClose("grads are zeroed by the step", new float[5], p.grad());
        }
    }

    @Test
    void clipGradsByTheGlobalNorm() {
        try (ParameterStore store = ParameterStore.builder(backend).declare("a", Init.zeros(), 4)
                .declare("b", Init.zeros(), 3).build(0)) {
            backend.copyIn(store.get("a").grad(), pat(4, 0.3f, 3, 5, 2));
            backend.copyIn(store.get("b").grad(), pat(3, 0.2f, 1, 4, 1.5f));
            assertEquals(1.0049876, ClipGrads.clip(store, 0.5f), 1e-6, "norm before clipping");
            assertClose("a", new float[] {-0.29851086f, 0.14925543f, -0.14925543f, 0.29851086f}, store.get("a").grad());
            assertClose("b", new float[] {-0.14925543f, -0.0497518088f, 0.0497518088f}, store.get("b").grad());
            // below the threshold nothing changes
            float norm = ClipGrads.clip(store, 10f);
            assertEquals(0.5, norm, 1e-6, "norm after clipping");
            assertClose("a unchanged", new float[] {-0.29851086f, 0.14925543f, -0.14925543f, 0.29851086f},
                    store.get("a").grad());
        }
    }
}
