// The gradient checker must catch a wrong backward: the same checks as the passing tests, on a backend whose
// backward kernel is slightly off, must report mismatches (and the unperturbed run must not).
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class GradientCheckSensitivityTest {

    /** Runs TimeLayersGradientTest's TimeLSTM check on {@code backend}; true if every gradient matched. */
    private static boolean timeLstmCheckPasses(Backend backend) {
        int D = 3, H = 4, T = 5, N = 2;
        Random rng = new Random(1234);
        try (Workspace ws = new Workspace(backend);
             ParameterStore store = ParameterStore.builder(backend)
                     .declare("lstm.Wx", Init.scaledNormal(D), D, 4 * H)
                     .declare("lstm.Wh", Init.scaledNormal(H), H, 4 * H)
                     .declare("lstm.b", Init.normal(0.3), 4 * H).build(3);
             TimeLSTM layer = new TimeLSTM(backend, store.get("lstm.Wx"), store.get("lstm.Wh"), store.get("lstm.b"),
                     false)) {
            Tensor x = GradientCheck.tensor(backend, ws, GradientCheck.randn(rng, 1, T * N * D), T, N, D);
            float[] r = GradientCheck.randn(rng, 1, T * N * H);
            DoubleSupplier loss = () -> GradientCheck.dot(layer.forward(x), r);
            loss.getAsDouble();
            float[] dx = layer.backward(GradientCheck.tensor(backend, ws, r, T, N, H)).toFloatArray();
            GradientCheck gc = new GradientCheck(TimeLayersGradientTest.TOL);
            boolean ok = gc.check("xs", x, dx, loss).ok();
            for (Parameter p : store.parameters()) {
                ok &= gc.check(p, loss).ok();
            }
            return ok;
        }
    }

    /** The attention check of LayersGradientTest on {@code backend}; true if every gradient matched. */
    private static boolean attentionCheckPasses(Backend backend) {
        int T = 4, N = 2, H = 3;
        Random rng = new Random(99);
        try (Workspace ws = new Workspace(backend); Attention att = new Attention(backend)) {
            Tensor hs = GradientCheck.tensor(backend, ws, GradientCheck.randn(rng, 1, T * N * H), T, N, H);
            Tensor h = GradientCheck.tensor(backend, ws, GradientCheck.randn(rng, 1, N * H), N, H);
            float[] rc = GradientCheck.randn(rng, 1, N * H);
            DoubleSupplier loss = () -> GradientCheck.dot(att.forward(hs, h), rc);
            loss.getAsDouble();
            float[] dhs = att.backward(GradientCheck.tensor(backend, ws, rc, N, H)).toFloatArray();
            float[] dh = att.dh().toFloatArray();   // read before the check's forwards end its backward
            GradientCheck gc = new GradientCheck(LayersGradientTest.TOL);
            boolean ok = gc.check("hs", hs, dhs, loss).ok();
            ok &= gc.check("h", h, dh, loss).ok();
            return ok;
        }
    }

    @Test
    void aTenPercentErrorInTheLstmBackwardIsCaught() {
        Backend reference = TestBackends.reference();
        assertTrue(timeLstmCheckPasses(reference), "the unperturbed TimeLSTM check must pass");
        // dA of every step 10% too large (the layer's backward is one lstmSequenceBackward over its packed Wh^T):
        // every weight gradient and dx is off
        assertFalse(timeLstmCheckPasses(PerturbedBackend.wrap(reference, "lstmSequenceBackward", 0, 1.1f)),
                "a TimeLSTM whose lstmSequenceBackward returns 1.1 * dA must fail the gradient check");
    }

    @Test
    void aFivePercentErrorInTheAttentionBackwardIsCaught() {
        Backend reference = TestBackends.reference();
        assertTrue(attentionCheckPasses(reference), "the unperturbed Attention check must pass");
        // dh of AttentionWeight 5% too small
        assertFalse(attentionCheckPasses(PerturbedBackend.wrap(reference, "attentionWeightBackward", 1, 0.95f)),
                "an Attention whose attentionWeightBackward returns 0.95 * dh must fail the gradient check");
    }
}
