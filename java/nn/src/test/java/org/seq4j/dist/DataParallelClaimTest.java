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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
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
        ExecutorService pool = Executors.newFixedThreadPool(RANKS);
        try {
            Future<?>[] runs = new Future<?>[RANKS];
            for (int r = 0; r < RANKS; r++) {
                int rank = r;
                runs[r] = pool.submit(() -> body.accept(rank));
            }
            Throwable[] thrown = new Throwable[RANKS];
            for (int r = 0; r < RANKS; r++) {
                try {
                    runs[r].get(30, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    thrown[r] = e.getCause();
                }
            }
            return thrown;
        } finally {
            pool.shutdownNow();
        }
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
}
