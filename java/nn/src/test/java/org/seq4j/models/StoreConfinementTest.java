// A model's parameter store is confined with the model: while one thread is inside the model (a long generate),
// another thread's writes to the store (copyIn, copyInAll, which Checkpoint.load calls, zeroGrads, an optimizer's
// step, ClipGrads.clip), its reads and its close are refused with an IllegalStateException naming the thread that
// holds the model, and nothing is written; the holder's answers are then its own weights'. Before, a copyInAll during
// a generate went through, and 38 of 40 such generates answered with neither the old weights nor the new ones.
// The model's own operations and the optimizer's step still call the store from inside their claim (re-entrant).
package org.seq4j.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.seq4j.backend.Backend;
import org.seq4j.layers.Init;
import org.seq4j.layers.ParameterStore;
import org.seq4j.models.LanguageModel.Sampling;
import org.seq4j.optim.Adam;
import org.seq4j.optim.ClipGrads;
import org.seq4j.optim.SGD;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class StoreConfinementTest {
    static final int V = 11, D = 4, H = 5;
    final Backend backend = TestBackends.reference();

    private static void assertRefused(String caller, Thread holder, Executable call) {
        IllegalStateException e = assertThrows(IllegalStateException.class, call, caller + " should be refused");
        String m = e.getMessage();
        assertTrue(m.startsWith(caller + ": in use by thread \"" + holder.getName() + "\""), m);
        assertTrue(m.contains("which holds the Rnnlm"), m);
    }

    @Test
    void storeOperationsOfAnotherThreadAreRefusedWhileTheModelGenerates() throws Exception {
        try (Rnnlm m = new Rnnlm(backend, V, D, H, 1); Rnnlm other = new Rnnlm(backend, V, D, H, 2);
             Adam adam = new Adam(0.01f)) {
            int[][] prompts = {{1}, {2}, {3}};
            int[][] mine = m.generate(prompts, 8, Sampling.ARGMAX, 1);
            Map<String, float[]> w0 = m.store().copyOutAll(), w1 = other.store().copyOutAll();
            int[][] theirs = other.generate(prompts, 8, Sampling.ARGMAX, 1);

            CountDownLatch inside = new CountDownLatch(1);
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            Thread holder = new Thread(() -> {
                inside.countDown();
                try {
                    m.generate(prompts, 20_000_000, Sampling.ARGMAX, 1);
                } catch (Throwable e) {
                    thrown.set(e);
                }
            }, "generating");
            holder.setDaemon(true);
            holder.start();
            inside.await();
            Thread.sleep(200);   // well inside its generate by now
            assertTrue(holder.isAlive(), "the generate should still run");

            assertRefused("ParameterStore.copyInAll", holder, () -> m.store().copyInAll(w1));
            assertRefused("ParameterStore.copyIn", holder, () -> m.store().copyIn("lstm.b", w1.get("lstm.b")));
            assertRefused("ParameterStore.copyOutAll", holder, () -> m.store().copyOutAll());
            assertRefused("ParameterStore.zeroGrads", holder, () -> m.store().zeroGrads());
            assertRefused("ParameterStore.scaleGrads", holder, () -> m.store().scaleGrads(2f));
            assertRefused("ParameterStore.gradNorm", holder, () -> m.store().gradNorm());
            assertRefused("ParameterStore.valuesWritten", holder, () -> m.store().valuesWritten());
            assertRefused("ParameterStore.close", holder, () -> m.store().close());
            assertRefused("Adam.step", holder, () -> adam.step(m.store()));
            assertRefused("ClipGrads.clip", holder, () -> ClipGrads.clip(m.store(), 1f));

            holder.interrupt();
            holder.join(20_000);
            assertInstanceOf(CancellationException.class, thrown.get());
            // nothing of the refused calls was written: the model answers with its own weights, then with w1's
            Map<String, float[]> after = m.store().copyOutAll();
            for (String name : w0.keySet()) {
                assertArrayEquals(w0.get(name), after.get(name), name);
            }
            assertArrayEquals(mine, m.generate(prompts, 8, Sampling.ARGMAX, 1));
            m.store().copyInAll(w1);
            assertArrayEquals(theirs, m.generate(prompts, 8, Sampling.ARGMAX, 1));
        }
    }

    @Test
    void theModelsOwnOperationsAndAStepStillReachTheStore() {
        try (Arena arena = Arena.ofConfined(); Rnnlm m = new Rnnlm(backend, V, D, H, 1); SGD sgd = new SGD(0.1f)) {
            Random rng = new Random(4);
            Tensor xs = ModelTesting.randomIds(backend, arena, rng, 2, 3, V);
            Tensor ts = ModelTesting.randomIds(backend, arena, rng, 2, 3, V);
            for (int step = 0; step < 2; step++) {
                m.forward(xs, ts);
                m.backward();           // claims the gradients from inside the model's claim
                ClipGrads.clip(m.store(), 0.5f);
                sgd.step(m.store());    // claims the model for its update, zeroing and version
            }
            assertEquals(0f, m.store().gradNorm());
        }
    }

    @Test
    void aStoreServesOneModel() {
        ParameterStore s = ParameterStore.builder(backend).declare("W", Init.zeros(), 2, 2).build(1);
        org.seq4j.backend.Confinement mine = new org.seq4j.backend.Confinement("Mine");
        try (Rnnlm m = new Rnnlm(backend, V, D, H, 1)) {
            s.confineWith(mine);
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> m.store().confineWith(new org.seq4j.backend.Confinement("Other")));
            assertTrue(e.getMessage().startsWith("ParameterStore.confineWith: this store already belongs to a model"),
                    e.getMessage());
        } finally {
            assertThrows(IllegalStateException.class, s::close, "closed on its own, not by its model");
            assertTrue(mine.enterClose());   // the model's close, which closes its store inside its claim
            try {
                s.close();
            } finally {
                mine.exit();
            }
        }
    }
}
