// What fails on one rank alone in data-parallel training (a batch that does not fill, a forward or a closed model, a
// listener that throws at the epoch's start, after a step or after its last step) is told to the other ranks in the
// next collective, and every rank throws: the failed one its own exception, the others a DistributedException naming
// it. Before (a red-team find), the failed rank threw alone and the others waited in the next collective until the
// MPI watchdog ended the job (here: ThreadRanks' timeout). Ranks are threads here, whose collectives time out rather
// than hang.
package org.seq4j.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.function.IntConsumer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.data.SequencePairs;
import org.seq4j.models.Rnnlm;
import org.seq4j.models.Seq2seq;
import org.seq4j.optim.SGD;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;
import org.seq4j.train.Batches;
import org.seq4j.train.RnnlmTrainer;
import org.seq4j.train.Trainer;

class DataParallelFailureTest {
    private static final int RANKS = 2;
    private final Backend b = TestBackends.reference();

    /** Runs body(rank) on a thread per rank; what each rank threw (null where it returned), within 30 s. */
    private static Throwable[] onEveryRank(IntConsumer body) throws Exception {
        return ThreadRanks.onEveryRank(RANKS, body);
    }

    /** Sixteen pairs of a 13-id vocabulary: questions of 5 ids, answers of 4 (start id 12, end id 11). */
    static SequencePairs pairs() {
        int n = 16;
        int[][] x = new int[n][5], t = new int[n][4];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < 5; j++) {
                x[i][j] = (i + j) % 10;
            }
            t[i] = new int[] {12, i % 10, (i + 1) % 10, 11};
        }
        return new SequencePairs(x, t);
    }

    /** Batches whose second fill throws where {@code fail}. */
    private static Batches failingFill(Batches inner, boolean fail) {
        return new Batches() {
            private int calls;

            @Override
            public int size() {
                return inner.size();
            }

            @Override
            public Tensor[] allocate(Backend backend, Arena arena, int n) {
                return inner.allocate(backend, arena, n);
            }

            @Override
            public void fill(Backend backend, int[] order, int from, Tensor xs, Tensor ts) {
                if (fail && ++calls == 2) {
                    throw new IllegalArgumentException("the test's batch that does not fill");
                }
                inner.fill(backend, order, from, xs, ts);
            }
        };
    }

    /** Rank 1 fails where {@code where} says; every rank throws, and the replicas keep equal weights. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"fill", "forward", "start", "step", "last"})
    void aRankThatFailsAloneInAnEpochStopsEveryRank(String where) throws Exception {
        ThreadRanks ranks = new ThreadRanks(RANKS, 10_000);
        float[][] weights = new float[RANKS][];
        Throwable[] thrown = onEveryRank(r -> {
            boolean me = r == 1;
            try (Seq2seq m = new Seq2seq(b, 13, 4, 8, 3 + r); SGD opt = new SGD(0.1f);
                 Trainer t = new Trainer(m, opt, 1f, 7)) {
                t.distribute(ranks.rank(r));
                try {
                    t.fitEpoch(1, failingFill(Batches.of(pairs()), me && where.equals("fill")), 4, new Trainer.Listener() {
                        @Override
                        public void onEpochStart(int epoch, int steps) {
                            if (me && where.equals("start")) {
                                throw new IllegalStateException("the test's listener at the start");
                            }
                        }

                        @Override
                        public void onStep(int epoch, int step, float loss) {
                            if (me && step == 1 && where.equals("forward")) {
                                m.close();   // the next step's forward refuses the closed model on this rank alone
                            }
                            if (me && ((step == 2 && where.equals("step")) || (step == 4 && where.equals("last")))) {
                                throw new IllegalStateException("the test's listener at step " + step);
                            }
                        }
                    });
                } finally {
                    if (!(me && where.equals("forward"))) {
                        weights[r] = m.store().values().toFloatArray();
                    }
                }
            }
        });
        assertInstanceOf(DistributedException.class, thrown[0], "rank 0: " + thrown[0]);
        assertTrue(thrown[0].getMessage().contains("1 other rank(s) failed"), thrown[0].getMessage());
        assertTrue(thrown[1] != null && !(thrown[1] instanceof DistributedException)
                && thrown[1].getMessage().contains(where.equals("forward") ? "closed" : "the test's"), "rank 1: " + thrown[1]);
        if (!where.equals("forward")) {
            assertArrayEquals(weights[0], weights[1], "the replicas' weights");
        }
    }

    @Test
    void aRankThatFailsAloneInEvalPerplexityStopsEveryRank() throws Exception {
        ThreadRanks ranks = new ThreadRanks(RANKS, 10_000);
        int[] corpus = new int[50];
        for (int i = 0; i < corpus.length; i++) {
            corpus[i] = i % 20;
        }
        Throwable[] thrown = onEveryRank(r -> {
            try (Rnnlm m = new Rnnlm(b, 20, 4, 8, 3); SGD opt = new SGD(0.1f); RnnlmTrainer t = new RnnlmTrainer(m, opt, 1f)) {
                t.distribute(ranks.rank(r));
                if (r == 1) {
                    m.close();
                }
                t.evalPerplexity(corpus, 4, 5);
            }
        });
        assertInstanceOf(DistributedException.class, thrown[0], "rank 0: " + thrown[0]);
        assertInstanceOf(IllegalStateException.class, thrown[1], "rank 1: " + thrown[1]);
        // and with every rank whole, the same perplexity on each as before
        ThreadRanks again = new ThreadRanks(RANKS, 10_000);
        double[] ppl = new double[RANKS];
        thrown = onEveryRank(r -> {
            try (Rnnlm m = new Rnnlm(b, 20, 4, 8, 3); SGD opt = new SGD(0.1f); RnnlmTrainer t = new RnnlmTrainer(m, opt, 1f)) {
                t.distribute(again.rank(r));
                ppl[r] = t.evalPerplexity(corpus, 4, 5);
            }
        });
        assertArrayEquals(new Throwable[RANKS], thrown);
        assertEquals(ppl[0], ppl[1]);
        assertTrue(ppl[0] > 1 && Double.isFinite(ppl[0]), "perplexity " + ppl[0]);
    }
}
