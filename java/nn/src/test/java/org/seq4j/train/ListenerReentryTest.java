// A Listener that calls back into its own trainer inside fitEpoch: the trainer's guard lets the thread that holds it
// in again, and the inner call replaced the epoch's batch tensors and host buffers with its own sizes. An
// evalPerplexity of a larger batch from RnnlmTrainer's Listener (validation every few steps) left the epoch's next
// step training on its own rows followed by the validation rows the evaluation had left in the buffer, without a
// word; a nested fitEpoch of another batch size did the same to Trainer's epoch, whose steps then took the nested
// one's batch size from the outer one's order (or ran past it). Both are refused now in the trainer's words, as
// close() and distribute() are.
package org.seq4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.seq4j.backend.Backend;
import org.seq4j.data.SequencePairs;
import org.seq4j.models.Rnnlm;
import org.seq4j.models.Seq2seq;
import org.seq4j.optim.Adam;
import org.seq4j.optim.SGD;
import org.seq4j.testing.TestBackends;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ListenerReentryTest {
    static final int V = 13, D = 8, H = 16;

    @Test
    void rnnlmTrainersListenerCannotEvaluateOrFitInsideFitEpoch() {
        Backend b = TestBackends.reference();
        int[] corpus = new int[200];
        for (int i = 0; i < corpus.length; i++) {
            corpus[i] = (7 * i + i / 5) % V;
        }
        try (Rnnlm lm = new Rnnlm(b, V, D, H, 3); SGD sgd = new SGD(0.1f);
             RnnlmTrainer trainer = new RnnlmTrainer(lm, sgd, 0f)) {
            var e = assertThrows(IllegalStateException.class, () -> trainer.fitEpoch(1, corpus, 2, 4,
                    new Trainer.Listener() {
                        @Override
                        public void onStep(int epoch, int step, float loss) {
                            trainer.evalPerplexity(corpus, 4, 4);   // a larger batch than the epoch's
                        }
                    }));
            assertEquals("RnnlmTrainer.evalPerplexity: called inside this RnnlmTrainer's fitEpoch (from a Listener);"
                    + " call it between epochs", e.getMessage());
            var f = assertThrows(IllegalStateException.class, () -> trainer.fitEpoch(1, corpus, 2, 4,
                    new Trainer.Listener() {
                        @Override
                        public void onEpochStart(int epoch, int steps) {
                            trainer.fitEpoch(2, corpus, 4, 4, new Trainer.Listener() {
                            });
                        }
                    }));
            assertTrue(f.getMessage().startsWith("RnnlmTrainer.fitEpoch: called inside this RnnlmTrainer's fitEpoch"),
                    f.getMessage());
            assertTrue(Double.isFinite(trainer.fitEpoch(2, corpus, 2, 4, new Trainer.Listener() {
            })), "usable after");
            assertTrue(Double.isFinite(trainer.evalPerplexity(corpus, 4, 4)), "usable after");
        }
    }

    @Test
    void trainersListenerCannotFitInsideFitEpoch() {
        Backend b = TestBackends.reference();
        int[][] q = new int[16][5], a = new int[16][5];
        for (int i = 0; i < q.length; i++) {
            for (int j = 0; j < 5; j++) {
                q[i][j] = (i + 3 * j) % V;
                a[i][j] = (2 * i + j) % V;
            }
        }
        Batches data = Batches.of(new SequencePairs(q, a));
        try (Seq2seq model = new Seq2seq(b, V, D, H, 15); Adam adam = new Adam(0.01f);
             Trainer trainer = new Trainer(model, adam, 5f, 1)) {
            var e = assertThrows(IllegalStateException.class, () -> trainer.fitEpoch(1, data, 2,
                    new Trainer.Listener() {
                        @Override
                        public void onStep(int epoch, int step, float loss) {
                            trainer.fitEpoch(2, data, 4, new Trainer.Listener() {
                            });
                        }
                    }));
            assertEquals("Trainer.fitEpoch: called inside this Trainer's fitEpoch (from a Listener); call it between"
                    + " epochs", e.getMessage());
            assertEquals(1, trainer.steps());
            trainer.fitEpoch(2, data, 4, new Trainer.Listener() {
            });
            assertEquals(5, trainer.steps());
        }
    }
}
