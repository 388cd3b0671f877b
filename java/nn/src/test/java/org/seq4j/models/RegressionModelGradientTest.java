// Gradient checks by central differences of the whole MSE loss for the wave models on the java backend.
package org.seq4j.models;

import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.seq4j.layers.GradientCheck;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class RegressionModelGradientTest {
    // Losses of order 1 rounded to float32 (~1e-7), eps 1e-2: numeric noise ~1e-5, as for the seq2seq models.
    static final GradientCheck.Tolerance TOL = new GradientCheck.Tolerance(5e-5, 2e-2);

    @Test
    void waveSeq2seqThroughBothStatesOfTheEncoder() {
        int n = 3, tin = 5, tout = 4, fin = 2, fout = 1, h = 4;
        try (Arena arena = Arena.ofConfined();
             WaveSeq2seq model = new WaveSeq2seq(TestBackends.reference(), fin, fout, h, 1)) {
            Random rng = new Random(31);
            ModelTesting.scramble(model, rng, 0.5);
            Tensor xs = ModelTesting.floats(model.backend(), arena, GradientCheck.randn(rng, 1, n * tin * fin), n, tin, fin);
            Tensor ts = ModelTesting.floats(model.backend(), arena, GradientCheck.randn(rng, 1, n * tout * fout), n, tout,
                    fout);
            ModelTesting.checkModel(model, () -> model.forward(xs, ts), TOL, 60).assertAllOk();
        }
    }

    @Test
    void wavePredictorOnTheLastStep() {
        int n = 3, t = 6, f = 1, h = 5;
        try (Arena arena = Arena.ofConfined(); WavePredictor model = new WavePredictor(TestBackends.reference(), f, h, 2)) {
            Random rng = new Random(32);
            ModelTesting.scramble(model, rng, 0.5);
            Tensor xs = ModelTesting.floats(model.backend(), arena, GradientCheck.randn(rng, 1, n * t * f), n, t, f);
            Tensor ts = ModelTesting.floats(model.backend(), arena, GradientCheck.randn(rng, 1, n * f), n, f);
            ModelTesting.checkModel(model, () -> model.forward(xs, ts), TOL, 60).assertAllOk();
        }
    }
}
