// The trainers agree on the optimizer's settings (Optimizer.settings()) at every epoch's start, not on its class and
// learning rate alone: ranks whose Adam had other betas, whose Momentum another momentum, or one of whose optimizers
// had stepped alone before, took an epoch of updates that moved the replicas apart, and only the weights' check at the
// epoch's end refused them (a left-alone item of an earlier session). Now every rank is refused at the start, before
// any update. Ranks are threads here (ThreadRanks), whose collectives time out rather than hang.
package org.seq4j.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.seq4j.backend.Backend;
import org.seq4j.models.Rnnlm;
import org.seq4j.models.Seq2seq;
import org.seq4j.optim.Adam;
import org.seq4j.optim.Momentum;
import org.seq4j.optim.Optimizer;
import org.seq4j.optim.RMSprop;
import org.seq4j.testing.TestBackends;
import org.seq4j.train.Batches;
import org.seq4j.train.RnnlmTrainer;
import org.seq4j.train.Trainer;

class OptimizerAgreementTest {
    private static final int RANKS = 2;
    private final Backend b = TestBackends.reference();

    /** Rank 1's optimizer differs from rank 0's in one setting other than the class and the learning rate. */
    private static Optimizer optimizer(String differing, int rank) {
        boolean other = rank == 1;
        return switch (differing) {
            case "adam betas" -> new Adam(0.01f, other ? 0.8f : 0.9f, 0.999f);
            case "momentum" -> new Momentum(0.1f, other ? 0.5f : 0.9f);
            case "rmsprop decay" -> new RMSprop(0.01f, other ? 0.9f : 0.99f);
            case "steps taken" -> new Adam(0.01f);   // rank 1's steps once alone first, below: its bias correction moves
            default -> throw new IllegalArgumentException(differing);
        };
    }

    /**
     * Every rank throws ConfigurationMismatchException naming the optimizer and quoting its own settings, and no
     * weight moved on any.
     */
    private static void assertRefusedBeforeAnyUpdate(Throwable[] thrown, String[] settings, float[][] before,
            float[][] after) {
        for (int r = 0; r < RANKS; r++) {
            assertInstanceOf(ConfigurationMismatchException.class, thrown[r], "rank " + r + ": " + thrown[r]);
            assertTrue(thrown[r].getMessage().contains("optimizer"), thrown[r].getMessage());
            // each rank quotes its own configuration: side by side the lines show what differs
            assertTrue(thrown[r].getMessage().contains("(this is rank " + r + ", with \"")
                    && thrown[r].getMessage().contains(settings[r]), settings[r] + " in " + thrown[r].getMessage());
            assertArrayEquals(before[r], after[r], "rank " + r + "'s weights before the refusal and after");
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"adam betas", "momentum", "rmsprop decay", "steps taken"})
    void trainerRefusesOptimizersThatDifferOnEveryRank(String differing) throws Exception {
        ThreadRanks ranks = new ThreadRanks(RANKS, 10_000);
        float[][] before = new float[RANKS][], after = new float[RANKS][];
        String[] settings = new String[RANKS];
        Throwable[] thrown = ThreadRanks.onEveryRank(RANKS, r -> {
            try (Seq2seq m = new Seq2seq(b, 13, 4, 8, 3); Optimizer opt = optimizer(differing, r);
                 Trainer t = new Trainer(m, opt, 1f, 7)) {
                if (r == 1 && differing.equals("steps taken")) {
                    opt.step(m.store());   // zero gradients: the weights stay, the count moves
                }
                t.distribute(ranks.rank(r));
                before[r] = m.store().values().toFloatArray();
                settings[r] = opt.settings();
                try {
                    t.fitEpoch(1, Batches.of(DataParallelFailureTest.pairs()), 4, new Trainer.Listener() { });
                } finally {
                    after[r] = m.store().values().toFloatArray();
                }
            }
        });
        assertRefusedBeforeAnyUpdate(thrown, settings, before, after);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"adam betas", "steps taken"})
    void rnnlmTrainerRefusesOptimizersThatDifferOnEveryRank(String differing) throws Exception {
        ThreadRanks ranks = new ThreadRanks(RANKS, 10_000);
        int[] corpus = new int[50];
        for (int i = 0; i < corpus.length; i++) {
            corpus[i] = i % 20;
        }
        float[][] before = new float[RANKS][], after = new float[RANKS][];
        String[] settings = new String[RANKS];
        Throwable[] thrown = ThreadRanks.onEveryRank(RANKS, r -> {
            try (Rnnlm m = new Rnnlm(b, 20, 4, 8, 3); Optimizer opt = optimizer(differing, r);
                 RnnlmTrainer t = new RnnlmTrainer(m, opt, 1f)) {
                if (r == 1 && differing.equals("steps taken")) {
                    opt.step(m.store());
                }
                t.distribute(ranks.rank(r));
                before[r] = m.store().values().toFloatArray();
                settings[r] = opt.settings();
                try {
                    t.fitEpoch(1, corpus, 4, 5, new Trainer.Listener() { });
                } finally {
                    after[r] = m.store().values().toFloatArray();
                }
            }
        });
        assertRefusedBeforeAnyUpdate(thrown, settings, before, after);
    }
}
