// Gradient checks by central differences of the whole loss for the language models on the java backend,
// each forward from a reset state (truncated BPTT does not differentiate through the carried state).
package org.seq4j.models;

import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.seq4j.layers.Cell;
import org.seq4j.layers.GradientCheck;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class LanguageModelGradientTest {
    // Same reasoning as Seq2seqGradientTest: float32 loss near log V, eps 1e-2, noise ~1e-5.
    static final GradientCheck.Tolerance TOL = new GradientCheck.Tolerance(5e-5, 2e-2);
    static final int V = 7, D = 4, H = 4, N = 2, T = 5;

    private void check(AbstractRnnlm model, Runnable beforeForward) {
        try (Arena arena = Arena.ofConfined(); model) {
            Random rng = new Random(21);
            ModelTesting.scramble(model, rng, 0.5);
            Tensor xs = ModelTesting.randomIds(model.backend(), arena, rng, N, T, V);
            int[] t = new int[N * T];
            for (int i = 0; i < t.length; i++) {
                t[i] = i % 4 == 3 ? -1 : rng.nextInt(V);   // some ignored labels
            }
            Tensor ts = ModelTesting.ids(model.backend(), arena, t, N, T);
            GradientCheck gc = ModelTesting.checkModel(model, () -> {
                model.resetState();
                beforeForward.run();
                return model.forward(xs, ts);
            }, TOL, 60);
            gc.assertAllOk();
        }
    }

    @Test
    void simpleRnnlm() {
        check(new SimpleRnnlm(TestBackends.reference(), V, D, H, 1), () -> { });
    }

    @Test
    void rnnlm() {
        check(new Rnnlm(TestBackends.reference(), V, D, H, 2), () -> { });
    }

    @Test
    void rnnlmGru() {
        check(new Rnnlm(TestBackends.reference(), V, D, H, Cell.GRU, 4), () -> { });
    }

    @Test
    void betterRnnlmGruWithDropoutAndTiedWeights() {
        BetterRnnlm model = new BetterRnnlm(TestBackends.reference(), V, D, H, 0.3f, Cell.GRU, 5);
        check(model, () -> model.setDropoutSeed(17));
    }

    @Test
    void betterRnnlmWithDropoutAndTiedWeights() {
        BetterRnnlm model = new BetterRnnlm(TestBackends.reference(), V, D, H, 0.3f, 3);
        // the same masks in every forward, so the loss is a fixed function of the parameters
        check(model, () -> model.setDropoutSeed(17));
    }
}
