// Gradient checks by central differences of the whole loss for the seq2seq models on the java backend.
package org.seq4j.models;

import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.layers.Cell;
import org.seq4j.layers.GradientCheck;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class Seq2seqGradientTest {
    // The loss (mean cross-entropy near log V ~ 2) is rounded to float32, ~2e-7 absolute, so at eps = 1e-2 the
    // numeric derivative carries ~1e-5 of noise (observed max |diff| ~7e-6): 5e-5 absolute and
    // 2e-2 relative leave an order of magnitude of margin while a wrong backward is off by far more.
    static final GradientCheck.Tolerance TOL = new GradientCheck.Tolerance(5e-5, 2e-2);
    static final int V = 6, D = 3, H = 4, N = 3, TIN = 4, TOUT = 3;

    private void check(Seq2seqModel model) {
        Backend backend = model.backend();
        try (Arena arena = Arena.ofConfined(); model) {
            Random rng = new Random(11);
            ModelTesting.scramble(model, rng, 0.5);
            Tensor xs = ModelTesting.randomIds(backend, arena, rng, N, TIN, V);
            Tensor ts = ModelTesting.randomIds(backend, arena, rng, N, TOUT + 1, V);
            GradientCheck gc = ModelTesting.checkModel(model, () -> model.forward(xs, ts), TOL, 60);
            gc.assertAllOk();
        }
    }

    @Test
    void seq2seq() {
        check(new Seq2seq(TestBackends.reference(), V, D, H, 1));
    }

    @Test
    void peekySeq2seq() {
        check(new PeekySeq2seq(TestBackends.reference(), V, D, H, 2));
    }

    @Test
    void attentionSeq2seq() {
        check(new AttentionSeq2seq(TestBackends.reference(), V, D, H, 3));
    }

    // the same models with the book's appendix GRU in encoder and decoder

    @Test
    void seq2seqGru() {
        check(new Seq2seq(TestBackends.reference(), V, D, H, Cell.GRU, 4));
    }

    @Test
    void peekySeq2seqGru() {
        check(new PeekySeq2seq(TestBackends.reference(), V, D, H, Cell.GRU, 5));
    }

    @Test
    void attentionSeq2seqGru() {
        check(new AttentionSeq2seq(TestBackends.reference(), V, D, H, Cell.GRU, 6));
    }

    @Test
    void bidirectionalAttentionSeq2seq() {
        check(new AttentionSeq2seq(TestBackends.reference(), V, D, H, 4, true));
    }

    @Test
    void bidirectionalAttentionSeq2seqGru() {
        // encoder.gru.forward_gru.* and backward_gru.* (TimeBiRecurrent of GRUs), a GRU decoder
        check(new AttentionSeq2seq(TestBackends.reference(), V, D, H, Cell.GRU, 8, true));
    }
}
