// The collectives that write a replica's store hold its claim (the model's guard) while they write: another thread
// of a rank inside its model is refused on every rank at once, before anything is written. Before, replicate's
// broadcast and reduce's all-reduce wrote the buffers unguarded (a checkpoint load or an optimizer step on another
// thread mixed with them silently); and a rank that refused alone would have left the others waiting in the
// collective. Ranks are threads here (ThreadRanks), whose collectives time out rather than hang.
package org.seq4j.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.layers.Init;
import org.seq4j.layers.ParameterStore;
import org.seq4j.models.Model;
import org.seq4j.models.SimpleRnnlm;
import org.seq4j.testing.TestBackends;

class DataParallelClaimTest {
    private static final int RANKS = 2;
    private final Backend b = TestBackends.reference();

    /** Runs body(rank) on a thread per rank; what each rank threw (null where it returned), within 30 s. */
    private static Throwable[] onEveryRank(IntConsumer body) throws Exception {
        return ThreadRanks.onEveryRank(RANKS, body);
    }

    /** A thread that holds the store's claim (as a model operation or an optimizer step would) until released. */
    private static final class Holder {
        private final CountDownLatch holding = new CountDownLatch(1);
        private final CountDownLatch done = new CountDownLatch(1);
        private final Thread thread;

        Holder(ParameterStore store) throws InterruptedException {
            thread = new Thread(() -> {
                store.claim("the test's holder");
                try {
                    holding.countDown();
                    done.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    store.release();
                }
            }, "holder");
            thread.start();
            assertTrue(holding.await(10, TimeUnit.SECONDS));
        }

        void close() {
            done.countDown();
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private ParameterStore store(long seed) {
        ParameterStore s = ParameterStore.builder(b).declare("w", Init.normal(1), 3, 4).declare("v", Init.normal(1), 5)
                .build(seed);
        b.copyIn(s.values(), new float[Math.toIntExact(s.values().size())]);   // the values are not what is reduced
        float[] g = new float[Math.toIntExact(s.grads().size())];
        for (int i = 0; i < g.length; i++) {
            g[i] = (seed + 1) * 0.25f + i * 0.125f;   // a different gradient on every rank, exact in float
        }
        b.copyIn(s.grads(), g);
        return s;
    }

    private float[] grads(ParameterStore s) {
        float[] g = new float[Math.toIntExact(s.grads().size())];
        b.copyOut(g, s.grads());
        return g;
    }

    /**
     * Stores of different sizes (reduce without replicate, a red-team find): the gradients' all-reduce took each rank's
     * count as it was, which MPI leaves undefined (here one rank read past the other's array). Refused on every rank
     * now, before any gradient is summed: 16 and 32 gradients, counts that differ only past 2^16 (65,552 and 16: equal
     * low halves), and three ranks where the middle one's count is the mean (a sum of the counts alone passes it).
     * The sizes are multiples of ParameterStore.ALIGN, so the stores hold exactly these counts.
     */
    @Test
    void storesOfDifferentSizesAreRefusedOnEveryRank() throws Exception {
        int[][] cases = {{16, 32}, {65_552, 16}, {16, 32, 48}};
        for (int[] sizes : cases) {
            int n = sizes.length;
            ThreadRanks ranks = new ThreadRanks(n, 20_000);
            ParameterStore[] stores = new ParameterStore[n];
            for (int r = 0; r < n; r++) {
                stores[r] = ParameterStore.builder(b).declare("w", Init.normal(1), sizes[r]).build(r);
            }
            float[][] before = new float[n][];
            for (int r = 0; r < n; r++) {
                before[r] = grads(stores[r]);
            }
            Throwable[] thrown = ThreadRanks.onEveryRank(n,
                    r -> DataParallel.reduce(ranks.rank(r), stores[r], Shard.of(n, r, n), 1f));
            for (int r = 0; r < n; r++) {
                assertInstanceOf(ConfigurationMismatchException.class, thrown[r], java.util.Arrays.toString(sizes)
                        + ", rank " + r + ": " + thrown[r]);
                assertTrue(thrown[r].getMessage().contains("different numbers of gradients (this one " + sizes[r] + ")"),
                        thrown[r].getMessage());
                assertArrayEquals(before[r], grads(stores[r]), 0f, "no gradient summed on rank " + r);
                stores[r].close();
            }
        }
    }

    @Test
    void reduceSumsTheWeightedGradientsAndTheLossOnEveryRank() throws Exception {
        ThreadRanks ranks = new ThreadRanks(RANKS, 20_000);
        ParameterStore[] stores = {store(0), store(1)};
        float[][] before = {grads(stores[0]), grads(stores[1])};
        float[] losses = new float[RANKS];
        Shard[] shards = {Shard.of(5, 0, RANKS), Shard.of(5, 1, RANKS)};   // rows 2 and 3: weights 0.4, 0.6
        Throwable[] thrown = onEveryRank(r -> losses[r] = DataParallel.reduce(ranks.rank(r), stores[r], shards[r],
                r == 0 ? 1f : 2f));
        assertArrayEquals(new Throwable[RANKS], thrown);
        for (int r = 0; r < RANKS; r++) {
            // float products and one float sum in rank order: the same operations as the reduction's
            float[] expected = new float[before[0].length];
            for (int i = 0; i < expected.length; i++) {
                expected[i] = before[0][i] * shards[0].weight() + before[1][i] * shards[1].weight();
            }
            assertArrayEquals(expected, grads(stores[r]), 0f, "rank " + r);
            assertEquals(1f * 2 / 5 + 2f * 3 / 5, losses[r], 1e-6f, "the global mean loss");
            stores[r].close();
        }
    }

    /**
     * Shards that do not split one batch (a red-team find): two ranks each given the whole batch of 8 returned twice
     * the loss and gradients, batches of 8 and 16 0.75x, silently (each rank weighted by its own rows / batch). The
     * global batch is now the ranks' rows summed: equal ranks give their own loss and gradients back; shards all empty
     * are refused on every rank.
     */
    @Test
    void shardsThatDoNotSplitOneBatchAreWeightedByTheRowsTheRanksHave() throws Exception {
        Shard[][] cases = {{new Shard(0, 8, 8), new Shard(0, 8, 8)}, {new Shard(0, 4, 8), new Shard(0, 4, 16)}};
        for (Shard[] shards : cases) {
            ThreadRanks ranks = new ThreadRanks(RANKS, 20_000);
            ParameterStore[] stores = {store(0), store(0)};   // the same seed: the same gradients on both ranks
            float[] before = grads(stores[0]);
            float[] losses = new float[RANKS];
            Throwable[] thrown = onEveryRank(r -> losses[r] = DataParallel.reduce(ranks.rank(r), stores[r], shards[r],
                    2f));
            assertArrayEquals(new Throwable[RANKS], thrown);
            for (int r = 0; r < RANKS; r++) {
                assertEquals(2f, losses[r], 0f, java.util.Arrays.toString(shards) + ": rank " + r + "'s loss");
                assertArrayEquals(before, grads(stores[r]), 0f, java.util.Arrays.toString(shards) + ": rank " + r);
                stores[r].close();
            }
        }
        ThreadRanks ranks = new ThreadRanks(RANKS, 20_000);
        ParameterStore[] stores = {store(0), store(1)};
        Throwable[] thrown = onEveryRank(r -> DataParallel.reduce(ranks.rank(r), stores[r], new Shard(0, 0, 4), 1f));
        for (int r = 0; r < RANKS; r++) {
            assertInstanceOf(IllegalArgumentException.class, thrown[r], "rank " + r);
            assertEquals("DataParallel.reduce: no rank has a row of the batch (every shard is empty)",
                    thrown[r].getMessage());
            stores[r].close();
        }
    }

    /**
     * Every rank drew rank 0's dropout masks (a red-team find: the same seed on every rank, no rank in the draws), so
     * row i of each rank's shard was masked alike. After replicate, the ranks' losses on the same rows differ (their
     * masks do), rank 0's is that of a model never replicated, and a model without dropout gives the same loss on
     * every rank.
     */
    @Test
    void replicatedRanksDrawDropoutMasksOfTheirOwn() throws Exception {
        int v = 11, n = 3, t = 4;
        int[] ids = new int[n * t];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = (i * 7) % v;
        }
        org.seq4j.models.BetterRnnlm alone = new org.seq4j.models.BetterRnnlm(b, v, 6, 6, 0.5f, 5);
        float single = alone.forward(org.seq4j.tensor.Tensor.wrap(ids, n, t), org.seq4j.tensor.Tensor.wrap(ids, n, t));
        alone.close();
        for (boolean dropout : new boolean[] {true, false}) {
            ThreadRanks ranks = new ThreadRanks(RANKS, 20_000);
            float[] losses = new float[RANKS];
            Throwable[] thrown = onEveryRank(r -> {
                try (org.seq4j.models.BetterRnnlm m = new org.seq4j.models.BetterRnnlm(b, v, 6, 6, dropout ? 0.5f : 0f,
                        5)) {
                    DataParallel.replicate(ranks.rank(r), m);
                    losses[r] = m.forward(org.seq4j.tensor.Tensor.wrap(ids, n, t),
                            org.seq4j.tensor.Tensor.wrap(ids, n, t));
                }
            });
            assertArrayEquals(new Throwable[RANKS], thrown);
            if (dropout) {
                assertEquals(single, losses[0], 0f, "rank 0 keeps its draws");
                assertTrue(losses[0] != losses[1], "both ranks drew the same masks: " + losses[0]);
            } else {
                assertEquals(losses[0], losses[1], 0f, "no dropout, no draws: the same loss");
            }
        }
    }

    /**
     * A distributed evaluation where one rank's thread is interrupted (a cancelled Future): that rank's generate threw
     * alone and the other waited in the final sum until the MPI watchdog ended the job (a red-team find). The sum now
     * carries the stop: both ranks throw, the interrupted one its own CancellationException, the other one that names
     * the stop; a second evaluation on both then runs and agrees with one process.
     */
    @Test
    void anInterruptedRankStopsADistributedEvaluationOnEveryRank() throws Exception {
        int v = 13, questions = 8;
        int[][] x = new int[questions][5], t = new int[questions][4];
        for (int i = 0; i < questions; i++) {
            for (int j = 0; j < 5; j++) {
                x[i][j] = (i + j) % 10;
            }
            t[i] = new int[] {12, i % 10, (i + 1) % 10, 11};
        }
        org.seq4j.data.SequencePairs test = new org.seq4j.data.SequencePairs(x, t);
        org.seq4j.data.CharVocabulary vocab = org.seq4j.data.CharVocabulary.of("0123456789+ _");
        int single;
        try (org.seq4j.models.Seq2seq m = new org.seq4j.models.Seq2seq(b, v, 4, 8, 3)) {
            single = org.seq4j.train.Seq2seqEval.evaluate(m, test, vocab, false, 0, 3, 0).correct();
        }
        ThreadRanks ranks = new ThreadRanks(RANKS, 20_000);
        int[] correct = new int[RANKS];
        Throwable[] thrown = onEveryRank(r -> {
            try (org.seq4j.models.Seq2seq m = new org.seq4j.models.Seq2seq(b, v, 4, 8, 3)) {
                if (r == 1) {
                    Thread.currentThread().interrupt();
                }
                try {
                    org.seq4j.train.Seq2seqEval.evaluate(m, test, vocab, false, 0, 3, 0, 0, ranks.rank(r));
                } finally {
                    Thread.interrupted();
                }
            }
        });
        for (int r = 0; r < RANKS; r++) {
            assertInstanceOf(java.util.concurrent.CancellationException.class, thrown[r], "rank " + r);
        }
        assertTrue(thrown[0].getMessage().startsWith("Seq2seqEval.evaluate: stopped on rank 0 of 2: 1 other rank(s) "
                + "stopped or failed"), thrown[0].getMessage());
        assertTrue(thrown[1].getMessage().contains("interrupted"), thrown[1].getMessage());
        ThreadRanks again = new ThreadRanks(RANKS, 20_000);
        thrown = onEveryRank(r -> {
            try (org.seq4j.models.Seq2seq m = new org.seq4j.models.Seq2seq(b, v, 4, 8, 3)) {
                correct[r] = org.seq4j.train.Seq2seqEval.evaluate(m, test, vocab, false, 0, 3, 0, 0, again.rank(r))
                        .correct();
            }
        });
        assertArrayEquals(new Throwable[RANKS], thrown);
        assertArrayEquals(new int[] {single, single}, correct);
    }

    @Test
    void aRankWhoseStoreAnotherThreadHoldsStopsEveryRankBeforeAGradientMoves() throws Exception {
        ThreadRanks ranks = new ThreadRanks(RANKS, 20_000);
        ParameterStore[] stores = {store(0), store(1)};
        float[][] before = {grads(stores[0]), grads(stores[1])};
        Shard[] shards = {Shard.of(4, 0, RANKS), Shard.of(4, 1, RANKS)};
        Throwable[] thrown;
        Holder holder = new Holder(stores[1]);
        try {
            thrown = onEveryRank(r -> DataParallel.reduce(ranks.rank(r), stores[r], shards[r], 1f));
        } finally {
            holder.close();
        }
        IllegalStateException held = assertInstanceOf(IllegalStateException.class, thrown[1]);
        assertTrue(held.getMessage().startsWith("DataParallel.reduce") && held.getMessage().contains("\"holder\"")
                && held.getMessage().contains("rank 1; 1 of 2 ranks refused"), held.getMessage());
        IllegalStateException other = assertInstanceOf(IllegalStateException.class, thrown[0]);
        assertEquals("DataParallel.reduce on rank 0: the model of 1 of 2 ranks was in use by another thread or closed,"
                + " and every rank stopped before its gradients were summed", other.getMessage());
        for (int r = 0; r < RANKS; r++) {
            assertArrayEquals(before[r], grads(stores[r]), 0f, "rank " + r + "'s gradients are untouched");
            stores[r].close();
        }
    }

    @Test
    void aClosedStoreOnOneRankStopsEveryRankInsteadOfLeavingThemWaiting() throws Exception {
        ThreadRanks ranks = new ThreadRanks(RANKS, 20_000);
        ParameterStore[] stores = {store(0), store(1)};
        float[] before = grads(stores[0]);
        stores[1].close();
        Throwable[] thrown = onEveryRank(r -> DataParallel.reduce(ranks.rank(r), stores[r], Shard.of(4, r, RANKS), 1f));
        assertInstanceOf(IllegalStateException.class, thrown[1]);
        IllegalStateException other = assertInstanceOf(IllegalStateException.class, thrown[0]);
        assertTrue(other.getMessage().contains("the model of 1 of 2 ranks was in use by another thread or closed"),
                other.getMessage());
        assertArrayEquals(before, grads(stores[0]), 0f);
        stores[0].close();
    }

    @Test
    void replicateCopiesRankZerosWeightsOrStopsEveryRankWhenOneIsHeld() throws Exception {
        ThreadRanks ranks = new ThreadRanks(RANKS, 20_000);
        Model[] models = {new SimpleRnnlm(b, 7, 3, 4, 1), new SimpleRnnlm(b, 7, 3, 4, 2)};
        try {
            float[] rank0 = models[0].store().copyOutAll().get("rnn.Wh");
            float[] rank1 = models[1].store().copyOutAll().get("rnn.Wh");
            Throwable[] thrown;
            Holder holder = new Holder(models[1].store());
            try {
                thrown = onEveryRank(r -> DataParallel.replicate(ranks.rank(r), models[r]));
            } finally {
                holder.close();
            }
            assertInstanceOf(IllegalStateException.class, thrown[1]);
            IllegalStateException other = assertInstanceOf(IllegalStateException.class, thrown[0]);
            assertEquals("DataParallel.replicate on rank 0: the model of 1 of 2 ranks was in use by another thread or"
                    + " closed, and every rank stopped before any weight was copied", other.getMessage());
            assertArrayEquals(rank1, models[1].store().copyOutAll().get("rnn.Wh"), 0f, "rank 1's weights are its own");

            thrown = onEveryRank(r -> DataParallel.replicate(ranks.rank(r), models[r]));   // released: it goes ahead
            assertNull(thrown[0]);
            assertNull(thrown[1]);
            assertArrayEquals(rank0, models[1].store().copyOutAll().get("rnn.Wh"), 0f, "rank 0's weights everywhere");
        } finally {
            models[0].close();
            models[1].close();
        }
    }

    /**
     * RnnlmTrainer.evalPerplexity on a rank whose thread is interrupted: it ran on to its last batch, as every rank did,
     * and each returned a perplexity. The request now travels in the evaluation's one sum, which every rank reaches
     * (a rank that left alone would leave the others waiting in it), and every rank throws.
     */
    @Test
    void anInterruptedRankStopsEveryRanksEvaluation() throws Exception {
        ThreadRanks ranks = new ThreadRanks(RANKS, 20_000);
        int[] corpus = new int[201];
        for (int i = 0; i < corpus.length; i++) {
            corpus[i] = i % 5;
        }
        SimpleRnnlm[] models = {new SimpleRnnlm(b, 5, 4, 4, 1), new SimpleRnnlm(b, 5, 4, 4, 1)};
        org.seq4j.optim.SGD[] sgds = {new org.seq4j.optim.SGD(1f), new org.seq4j.optim.SGD(1f)};
        org.seq4j.train.RnnlmTrainer[] trainers = new org.seq4j.train.RnnlmTrainer[RANKS];
        try {
            Throwable[] thrown = onEveryRank(r -> {
                trainers[r] = new org.seq4j.train.RnnlmTrainer(models[r], sgds[r], 0f).distribute(ranks.rank(r));
                if (r == 1) {
                    Thread.currentThread().interrupt();
                }
                try {
                    trainers[r].evalPerplexity(corpus, 4, 5);
                } finally {
                    Thread.interrupted();   // the pool's thread is reused
                }
            });
            for (int r = 0; r < RANKS; r++) {
                assertInstanceOf(java.util.concurrent.CancellationException.class, thrown[r], "rank " + r);
                assertEquals("evalPerplexity: stopped on request (1 of 2 ranks interrupted); no perplexity is returned",
                        thrown[r].getMessage());
            }
        } finally {
            for (int r = 0; r < RANKS; r++) {
                if (trainers[r] != null) {
                    trainers[r].close();
                }
                sgds[r].close();
                models[r].close();
            }
        }
    }
}
