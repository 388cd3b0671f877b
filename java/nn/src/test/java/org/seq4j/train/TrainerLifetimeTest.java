// What a red-team pass over the trainers found, each checked here:
// - the batch tensors of a re-size stayed allocated until the trainer closed: the command line passes a new Batches
//   every epoch, and a trainer's native memory grew with each (129 -> 432 MB over 400 epochs of N = 4000, T = 50);
//   RnnlmTrainer's alternating fit and validation sizes likewise (66 -> 1247 MB over 30,000 evaluations). A re-size
//   now frees the pair it replaces.
// - distribute took no claim: accepted after close, from another thread during an epoch, or from a Listener, where the
//   running epoch all-reduced over the new communicator with the old one's shard.
// - RnnlmTrainer over an empty corpus with N T = 1 scored a perplexity of 1.0 ((0 - 1) / 1 = -1 batches passed the
//   check for 0), and a null listener was found after the model was reset and set to train.
package org.seq4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.data.SequencePairs;
import org.seq4j.dist.Communicator;
import org.seq4j.models.Rnnlm;
import org.seq4j.models.Seq2seq;
import org.seq4j.optim.Adam;
import org.seq4j.optim.SGD;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class TrainerLifetimeTest {
    private static final Trainer.Listener QUIET = new Trainer.Listener() {
    };
    private static final int V = 13;

    private static Batches pairs(int rows) {
        int[][] x = new int[rows][3], t = new int[rows][3];
        Random r = new Random(5);
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < 3; j++) {
                x[i][j] = r.nextInt(V);
                t[i][j] = r.nextInt(V);
            }
        }
        return Batches.of(new SequencePairs(x, t));
    }

    private static boolean alive(Tensor t) {
        return t.segment().scope().isAlive();
    }

    @Test
    void aNewBatchesEachEpochFreesTheLastEpochsBatch() {
        Backend b = TestBackends.reference();
        Tensor first, second;
        try (Seq2seq m = new Seq2seq(b, V, 4, 4, 1); Adam adam = new Adam(0.01f);
             Trainer tr = new Trainer(m, adam, 5f, 7)) {
            tr.fitEpoch(1, pairs(8), 2, QUIET);
            first = tr.batchInputs();
            tr.fitEpoch(2, pairs(8), 2, QUIET);   // what the command line does: Batches.of(trainSet) an epoch
            second = tr.batchInputs();
            assertFalse(alive(first), "epoch 1's batch tensors outlived the epoch that replaced them");
            assertTrue(alive(second));
            Batches same = pairs(8);
            tr.fitEpoch(3, same, 2, QUIET);
            Tensor third = tr.batchInputs();
            tr.fitEpoch(4, same, 2, QUIET);
            assertTrue(tr.batchInputs() == third && alive(third), "the same Batches again re-sized");
            second = third;
        }
        assertFalse(alive(second), "the trainer's close left its batch tensors");
    }

    @Test
    void alternatingFitAndValidationSizesFreeTheSetTheyReplace() {
        Backend b = TestBackends.reference();
        int[] corpus = new Random(2).ints(200, 0, V).toArray();
        Tensor fit, eval;
        try (Rnnlm m = new Rnnlm(b, V, 4, 4, 1); SGD sgd = new SGD(0.1f); RnnlmTrainer tr = new RnnlmTrainer(m, sgd, 0)) {
            tr.fitEpoch(1, corpus, 2, 3, QUIET);
            fit = tr.batchInputs();
            tr.evalPerplexity(corpus, 1, 5);
            eval = tr.batchInputs();
            assertFalse(alive(fit), "the fit's batch tensors outlived the evaluation that replaced them");
            tr.fitEpoch(2, corpus, 2, 3, QUIET);
            assertFalse(alive(eval), "the evaluation's batch tensors outlived the fit that replaced them");
            eval = tr.batchInputs();
        }
        assertFalse(alive(eval), "the trainer's close left its batch tensors");
    }

    @Test
    void distributeIsRefusedAfterCloseAndInsideAnEpoch() {
        Backend b = TestBackends.reference();
        try (Seq2seq m = new Seq2seq(b, V, 4, 4, 1); Adam adam = new Adam(0.01f)) {
            Trainer tr = new Trainer(m, adam, 5f, 7);
            assertEquals("Trainer.distribute: comm is null",
                    assertThrows(NullPointerException.class, () -> tr.distribute(null)).getMessage());
            IllegalStateException[] inside = new IllegalStateException[1];
            tr.fitEpoch(1, pairs(8), 2, new Trainer.Listener() {
                @Override
                public void onStep(int epoch, int step, float loss) {
                    if (step == 1) {
                        inside[0] = assertThrows(IllegalStateException.class,
                                () -> tr.distribute(Communicator.single()));
                    }
                }
            });
            assertTrue(inside[0].getMessage().startsWith("Trainer.distribute: called inside this Trainer's fitEpoch"),
                    inside[0].getMessage());
            tr.distribute(Communicator.single());   // between epochs
            tr.close();
            String closed = assertThrows(IllegalStateException.class, () -> tr.distribute(Communicator.single()))
                    .getMessage();
            assertTrue(closed.contains("closed"), closed);
        }
        try (Rnnlm m = new Rnnlm(b, V, 4, 4, 1); SGD sgd = new SGD(0.1f)) {
            RnnlmTrainer tr = new RnnlmTrainer(m, sgd, 0);
            tr.close();
            String closed = assertThrows(IllegalStateException.class, () -> tr.distribute(Communicator.single()))
                    .getMessage();
            assertTrue(closed.contains("closed"), closed);
        }
    }

    @Test
    void anEmptyCorpusIsRefusedNotScoredOne() {
        Backend b = TestBackends.reference();
        try (Rnnlm m = new Rnnlm(b, V, 4, 4, 1); SGD sgd = new SGD(0.1f); RnnlmTrainer tr = new RnnlmTrainer(m, sgd, 0)) {
            for (int[] corpus : new int[][] {{}, {3}}) {
                String fit = assertThrows(IllegalArgumentException.class,
                        () -> tr.fitEpoch(1, corpus, 1, 1, QUIET)).getMessage();
                assertTrue(fit.startsWith("RnnlmTrainer.fitEpoch: the corpus has " + corpus.length + " words, too few for one batch"), fit);
                assertThrows(IllegalArgumentException.class, () -> tr.evalPerplexity(corpus, 1, 1));
            }
            m.setTraining(false);
            assertEquals("fitEpoch: listener is null; expected a Listener (an empty one for none)",
                    assertThrows(NullPointerException.class, () -> tr.fitEpoch(1, new int[] {1, 2, 3}, 1, 1, null))
                            .getMessage());
            assertFalse(m.isTraining(), "a fitEpoch refused for its listener set training mode");
        }
    }
}
