// RnnlmTrainer.evalPerplexity runs the model's training forward over validation batches. Its last forward was left
// pending: a model.backward() after it (a caller's loop that ran forward, evaluated, then backward) was accepted and
// added the gradient of the last validation batch, in evaluation mode, as if it were a training step's, without a
// word. Now evalPerplexity forgets its forward (Model.discardForward): that backward is refused, naming why, and the
// trainer's next epoch, a second evaluation and an evaluation that throws midway leave the model as usable.
package org.seq4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.models.BetterRnnlm;
import org.seq4j.optim.NonFiniteLossException;
import org.seq4j.optim.SGD;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import java.lang.foreign.Arena;
import org.seq4j.testing.TestBackends;

class EvalPerplexityPendingForwardTest {
    private static final Trainer.Listener QUIET = new Trainer.Listener() {
    };

    private static int[] corpus() {
        int[] corpus = new int[201];
        for (int i = 0; i < corpus.length; i++) {
            corpus[i] = (i * 7) % 5;
        }
        return corpus;
    }

    @Test
    void aBackwardAfterEvalPerplexityIsRefused() {
        int[] corpus = corpus();
        Backend b = TestBackends.reference();
        try (BetterRnnlm m = new BetterRnnlm(b, 5, 4, 4, 0.5f, 1); SGD sgd = new SGD(1f);
             RnnlmTrainer t = new RnnlmTrainer(m, sgd, 0f); Arena arena = Arena.ofConfined()) {
            Tensor xs = b.allocate(arena, DType.I32, 2, 3);
            Tensor ts = b.allocate(arena, DType.I32, 2, 3);
            b.copyIn(xs, new int[] {0, 1, 2, 3, 4, 0});
            b.copyIn(ts, new int[] {1, 2, 3, 4, 0, 1});
            m.forward(xs, ts);
            t.evalPerplexity(corpus, 4, 5);
            IllegalStateException e = assertThrows(IllegalStateException.class, m::backward);
            assertEquals("BetterRnnlm.backward before forward: the last forward was RnnlmTrainer.evalPerplexity's, "
                    + "which discarded it (an evaluation's activations are not a training step's); run forward again",
                    e.getMessage());
            float[] grads = new float[Math.toIntExact(m.store().grads().size())];
            b.copyOut(grads, m.store().grads());
            for (float g : grads) {
                assertEquals(0f, g, "no gradient was added");
            }
            // the next forward and backward run as usual
            m.forward(xs, ts);
            m.backward();
            // twice in a row, then an epoch: same perplexity, and training runs
            double first = t.evalPerplexity(corpus, 4, 5);
            assertEquals(first, t.evalPerplexity(corpus, 4, 5));
            assertTrue(Double.isFinite(t.fitEpoch(1, corpus, 4, 5, QUIET)));
            assertThrows(IllegalStateException.class, m::backward, "after fitEpoch's step: its backward ran");
        }
    }

    @Test
    void anEvalPerplexityThatThrowsMidwayLeavesNoForwardEither() {
        int[] corpus = corpus();
        Backend b = TestBackends.reference();
        try (BetterRnnlm m = new BetterRnnlm(b, 5, 4, 4, 0.5f, 1); SGD sgd = new SGD(1f);
             RnnlmTrainer t = new RnnlmTrainer(m, sgd, 0f)) {
            float[] nan = new float[Math.toIntExact(m.parameter("affine.b").value().size())];
            Arrays.fill(nan, Float.NaN);
            m.store().copyIn("affine.b", nan);
            assertThrows(NonFiniteLossException.class, () -> t.evalPerplexity(corpus, 4, 5));
            IllegalStateException e = assertThrows(IllegalStateException.class, m::backward);
            assertTrue(e.getMessage().startsWith("BetterRnnlm.backward before forward: the last forward was "
                    + "RnnlmTrainer.evalPerplexity's"), e.getMessage());
            // bad ids are refused before any forward: a pending forward of the caller's is kept then
            int[] bad = corpus();
            bad[100] = 9;
            IllegalArgumentException ids = assertThrows(IllegalArgumentException.class,
                    () -> t.evalPerplexity(bad, 4, 5));
            assertTrue(ids.getMessage().startsWith("evalPerplexity: corpus[100] = 9 is outside"), ids.getMessage());
        }
    }

    /** discardForward names who discarded the forward: a blank name, which would read "was 's", is refused. */
    @Test
    void aBlankDiscarderIsRefused() {
        try (BetterRnnlm m = new BetterRnnlm(TestBackends.reference(), 5, 4, 4, 0.5f, 1)) {
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> m.discardForward(" "));
            org.junit.jupiter.api.Assertions.assertEquals("BetterRnnlm.discardForward: by is blank; expected the call"
                    + " that discards the forward, such as \"RnnlmTrainer.evalPerplexity\"", e.getMessage());
        }
    }
}
