// Gradient checks by central differences for the single-step layers, TimeRNN, TimeDropout, TimeMSE and the
// attention layers, on the java reference backend. Each loss is sum(out * R) with R ~ N(0, 1) in double
// (its gradient w.r.t. out is R), or the layer's own loss for the loss layers.
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

class LayersGradientTest {
    // Same reasoning as TimeLayersGradientTest: observed max |diff| is ~1e-4 on gradients of order 1.
    static final GradientCheck.Tolerance TOL = new GradientCheck.Tolerance(1e-3, 1e-2);

    Backend backend;
    Workspace ws;
    Random rng;

    @BeforeEach
    void setUp() {
        backend = TestBackends.reference();
        ws = new Workspace(backend);
        rng = new Random(99);
    }

    @AfterEach
    void tearDown() {
        ws.close();
    }

    private Tensor randn(double scale, int... shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        return GradientCheck.tensor(backend, ws, GradientCheck.randn(rng, scale, n), shape);
    }

    private static float[] r(Random rng, Tensor like) {
        return GradientCheck.randn(rng, 1, (int) like.size());
    }

    @Test
    void matMulAndAffine() {
        int N = 3, D = 4, H = 5;
        try (ParameterStore store = ParameterStore.builder(backend).declare("W", Init.normal(1), D, H)
                .declare("b", Init.normal(1), H).build(5);
             MatMul mm = new MatMul(backend, store.get("W"));
             Affine af = new Affine(backend, store.get("W"), store.get("b"))) {
            Tensor x = randn(1, N, D);
            float[] r1 = GradientCheck.randn(rng, 1, N * H);
            float[] r2 = GradientCheck.randn(rng, 1, N * H);
            Tensor dout1 = GradientCheck.tensor(backend, ws, r1, N, H);
            Tensor dout2 = GradientCheck.tensor(backend, ws, r2, N, H);
            // both layers share W: its gradient is the sum of both contributions
            DoubleSupplier loss = () -> GradientCheck.dot(mm.forward(x), r1) + GradientCheck.dot(af.forward(x), r2);
            loss.getAsDouble();
            float[] dx1 = mm.backward(dout1).toFloatArray();
            float[] dx2 = af.backward(dout2).toFloatArray();
            float[] dx = new float[dx1.length];
            for (int i = 0; i < dx.length; i++) {
                dx[i] = dx1[i] + dx2[i];
            }
            GradientCheck gc = new GradientCheck(TOL);
            gc.check("x", x, dx, loss);
            gc.check(store.get("W"), loss);
            gc.check(store.get("b"), loss);
            gc.assertAllOk();
        }
    }

    @Test
    void embedding() {
        try (ParameterStore store = ParameterStore.builder(backend).declare("W", Init.normal(1), 4, 3).build(6);
             Embedding layer = new Embedding(backend, store.get("W"))) {
            Tensor ids = GradientCheck.ints(backend, ws, new int[] {2, 0, 2, 3, 2}, 5);
            float[] r = GradientCheck.randn(rng, 1, 15);
            layer.forward(ids);
            layer.backward(GradientCheck.tensor(backend, ws, r, 5, 3));
            GradientCheck gc = new GradientCheck(TOL);
            gc.check(store.get("W"), () -> GradientCheck.dot(layer.forward(ids), r));
            gc.assertAllOk();
        }
    }

    @Test
    void sigmoidAndSoftmax() {
        try (Sigmoid sig = new Sigmoid(backend); Softmax sm = new Softmax(backend)) {
            Tensor x = randn(2, 3, 5);
            float[] r = r(rng, x);
            Tensor dout = GradientCheck.tensor(backend, ws, r, 3, 5);
            GradientCheck gc = new GradientCheck(TOL);
            sig.forward(x);
            gc.check("sigmoid x", x, sig.backward(dout).toFloatArray(), () -> GradientCheck.dot(sig.forward(x), r));
            sm.forward(x);
            gc.check("softmax x", x, sm.backward(dout).toFloatArray(), () -> GradientCheck.dot(sm.forward(x), r));
            gc.assertAllOk();
        }
    }

    @Test
    void softmaxWithLoss() {
        try (SoftmaxWithLoss layer = new SoftmaxWithLoss(backend)) {
            Tensor x = randn(2, 4, 6);
            Tensor t = GradientCheck.ints(backend, ws, new int[] {5, 0, -1, 3}, 4);
            layer.forward(x, t);
            float[] dx = layer.backward(1f).toFloatArray();
            // float32 loss: 2e-4 absolute (see TimeLayersGradientTest)
            GradientCheck gc = new GradientCheck(new GradientCheck.Tolerance(2e-4, 1e-2));
            gc.check("x", x, dx, () -> backend.item(layer.forward(x, t), 0));
            gc.assertAllOk();
        }
    }

    @Test
    void rnnCell() {
        int N = 2, D = 3, H = 4;
        try (ParameterStore store = ParameterStore.builder(backend).declare("Wx", Init.normal(0.7), D, H)
                .declare("Wh", Init.normal(0.7), H, H).declare("b", Init.normal(0.3), H).build(7);
             RNN layer = new RNN(backend, store.get("Wx"), store.get("Wh"), store.get("b"))) {
            Tensor x = randn(1, N, D);
            Tensor h = randn(1, N, H);
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
    void lstmCell() {
        int N = 2, D = 3, H = 4;
        try (ParameterStore store = ParameterStore.builder(backend).declare("Wx", Init.normal(0.7), D, 4 * H)
                .declare("Wh", Init.normal(0.7), H, 4 * H).declare("b", Init.normal(0.3), 4 * H).build(8);
             LSTM layer = new LSTM(backend, store.get("Wx"), store.get("Wh"), store.get("b"))) {
            Tensor x = randn(1, N, D);
            Tensor h = randn(1, N, H);
            Tensor c = randn(1, N, H);
            float[] rh = GradientCheck.randn(rng, 1, N * H);
            float[] rc = GradientCheck.randn(rng, 1, N * H);
            DoubleSupplier loss = () -> GradientCheck.dot(layer.forward(x, h, c), rh)
                    + GradientCheck.dot(layer.cNext(), rc);
            loss.getAsDouble();
            float[] dx = layer.backward(GradientCheck.tensor(backend, ws, rh, N, H),
                    GradientCheck.tensor(backend, ws, rc, N, H)).toFloatArray();
            float[] dh = layer.dhPrev().toFloatArray();   // read before the check's forwards end its backward
            float[] dc = layer.dcPrev().toFloatArray();
            GradientCheck gc = new GradientCheck(TOL);
            gc.check("x", x, dx, loss);
            gc.check("h_prev", h, dh, loss);
            gc.check("c_prev", c, dc, loss);
            for (Parameter p : store.parameters()) {
                gc.check(p, loss);
            }
            gc.assertAllOk();
        }
    }

    @Test
    void timeRNNStatefulFromAGivenState() {
        int T = 4, N = 2, D = 3, H = 3;
        try (ParameterStore store = ParameterStore.builder(backend).declare("Wx", Init.normal(0.7), D, H)
                .declare("Wh", Init.normal(0.7), H, H).declare("b", Init.normal(0.3), H).build(9);
             TimeRNN layer = new TimeRNN(backend, store.get("Wx"), store.get("Wh"), store.get("b"), true)) {
            Tensor x = randn(1, T, N, D);
            Tensor h0 = randn(1, N, H);
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

    @Test
    void timeDropoutWithAFixedMask() {
        try (TimeDropout layer = new TimeDropout(backend, 0.4f, 77)) {
            Tensor x = randn(1, 3, 2, 5);
            float[] r = r(rng, x);
            DoubleSupplier loss = () -> {
                layer.setSeed(123);
                return GradientCheck.dot(layer.forward(x), r);
            };
            loss.getAsDouble();
            float[] dx = layer.backward(GradientCheck.tensor(backend, ws, r, 3, 2, 5)).toFloatArray();
            GradientCheck gc = new GradientCheck(TOL);
            gc.check("xs", x, dx, loss);
            gc.assertAllOk();
            // dropped elements get no gradient, kept ones get r / (1 - ratio)
            int dropped = 0;
            for (int i = 0; i < dx.length; i++) {
                if (dx[i] == 0f) {
                    dropped++;
                } else {
                    assertEquals(r[i] / 0.6f, dx[i], 1e-6f * Math.abs(r[i]) + 1e-7f, "kept element " + i);
                }
            }
            org.junit.jupiter.api.Assertions.assertTrue(dropped > 0 && dropped < dx.length,
                    "a 40% dropout of 30 elements should drop some but not all, dropped " + dropped);
        }
    }

    @Test
    void timeMSEAllStepsAndLastStep() {
        int T = 3, N = 4, F = 2;
        try (TimeMSE all = new TimeMSE(backend, TimeMSE.Steps.ALL);
             TimeMSE last = new TimeMSE(backend, TimeMSE.Steps.LAST)) {
            Tensor ys = randn(1, T, N, F);
            Tensor ts = randn(1, T, N, F);
            Tensor tLast = randn(1, N, F);
            // float32 loss of order 1: 2e-4 absolute
            GradientCheck gc = new GradientCheck(new GradientCheck.Tolerance(2e-4, 1e-2));
            all.forward(ys, ts);
            gc.check("ys (all steps)", ys, all.backward(1f).toFloatArray(), () -> backend.item(all.forward(ys, ts), 0));
            last.forward(ys, tLast);
            float[] dLast = last.backward(1f).toFloatArray();
            gc.check("ys (last step)", ys, dLast, () -> backend.item(last.forward(ys, tLast), 0));
            gc.assertAllOk();
            for (int i = 0; i < (T - 1) * N * F; i++) {
                assertEquals(0f, dLast[i], "steps before the last get no gradient in LAST mode, index " + i);
            }
        }
    }

    @Test
    void attentionWeightWeightSumAndAttention() {
        int T = 4, N = 2, H = 3;
        try (AttentionWeight aw = new AttentionWeight(backend); WeightSum wsum = new WeightSum(backend);
             Attention att = new Attention(backend)) {
            Tensor hs = randn(1, T, N, H);
            Tensor h = randn(1, N, H);
            Tensor a = randn(1, N, T);
            float[] ra = GradientCheck.randn(rng, 1, N * T);
            float[] rc = GradientCheck.randn(rng, 1, N * H);
            Tensor da = GradientCheck.tensor(backend, ws, ra, N, T);
            Tensor dc = GradientCheck.tensor(backend, ws, rc, N, H);
            GradientCheck gc = new GradientCheck(TOL);

            DoubleSupplier lw = () -> GradientCheck.dot(aw.forward(hs, h), ra);
            // each layer's second gradient is read before the check's forwards end its backward
            lw.getAsDouble();
            float[] awHs = aw.backward(da).toFloatArray(), awH = aw.dh().toFloatArray();
            gc.check("AttentionWeight hs", hs, awHs, lw);
            gc.check("AttentionWeight h", h, awH, lw);

            DoubleSupplier ls = () -> GradientCheck.dot(wsum.forward(hs, a), rc);
            ls.getAsDouble();
            float[] wsHs = wsum.backward(dc).toFloatArray(), wsA = wsum.da().toFloatArray();
            gc.check("WeightSum hs", hs, wsHs, ls);
            gc.check("WeightSum a", a, wsA, ls);

            DoubleSupplier la = () -> GradientCheck.dot(att.forward(hs, h), rc);
            la.getAsDouble();
            float[] attHs = att.backward(dc).toFloatArray(), attH = att.dh().toFloatArray();
            gc.check("Attention hs", hs, attHs, la);
            gc.check("Attention h", h, attH, la);
            gc.assertAllOk();
        }
    }

    @Test
    void timeAttention() {
        int Tenc = 4, Tdec = 3, N = 2, H = 3;
        try (TimeAttention layer = new TimeAttention(backend)) {
            Tensor enc = randn(1, Tenc, N, H);
            Tensor dec = randn(1, Tdec, N, H);
            float[] r = GradientCheck.randn(rng, 1, Tdec * N * H);
            DoubleSupplier loss = () -> GradientCheck.dot(layer.forward(enc, dec), r);
            loss.getAsDouble();
            float[] dEnc = layer.backward(GradientCheck.tensor(backend, ws, r, Tdec, N, H)).toFloatArray();
            float[] dDec = layer.dhsDec().toFloatArray();   // read before the check's forwards end its backward
            GradientCheck gc = new GradientCheck(TOL);
            gc.check("hsEnc", enc, dEnc, loss);
            gc.check("hsDec", dec, dDec, loss);
            gc.assertAllOk();
        }
    }
}
