// The thread-safety contract (Backend, Model, Optimizer, Trainer javadoc): a model, optimizer or trainer used
// by a second thread while a first is inside a call throws IllegalStateException naming the first, never a
// wrong number; handing one over between calls works; closed backends and optimizers fail loudly; closing
// twice does nothing. Every wait is bounded (latches and joins with timeouts), so nothing here can hang.
package org.seq4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.backend.Backends;
import org.seq4j.backend.Transpose;
import org.seq4j.data.SequencePairs;
import org.seq4j.models.Model;
import org.seq4j.models.Seq2seq;
import org.seq4j.optim.Adam;
import org.seq4j.optim.Optimizer;
import org.seq4j.optim.SGD;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;
import org.seq4j.train.Batches;
import org.seq4j.train.Trainer;

class ThreadConfinementTest {
    private static final int V = 13, D = 8, H = 16, N = 6, T_IN = 5, T_OUT = 4;
    private static final long WAIT_S = 30;   // generous: the machine may be busy; a healthy run takes milliseconds

    /**
     * The reference backend behind a proxy whose item() (the last call of a forward) can be made to stop until
     * released, so that a thread can be held inside a model call for as long as the test needs.
     */
    static final class GatedBackend {
        final AtomicBoolean armed = new AtomicBoolean();
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final Backend backend;

        GatedBackend(Backend delegate) {
            backend = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                    (proxy, method, args) -> {
                        if (method.getName().equals("item") && armed.compareAndSet(true, false)) {
                            entered.countDown();
                            if (!release.await(WAIT_S, TimeUnit.SECONDS)) {
                                throw new IllegalStateException("the test never released the gate");
                            }
                        }
                        try {
                            return method.invoke(delegate, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
        }
    }

    private static Tensor ids(Backend b, Arena arena, Random rng, int n, int t) {
        int[] v = new int[n * t];
        for (int i = 0; i < v.length; i++) {
            v[i] = rng.nextInt(V);
        }
        Tensor x = b.allocate(arena, DType.I32, n, t);
        b.copyIn(x, v);
        return x;
    }

    /** Runs body on a new thread called name; returns the thread, started. */
    private static Thread start(String name, AtomicReference<Throwable> failure, ThrowingRunnable body) {
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    private static void join(Thread t) throws InterruptedException {
        t.join(TimeUnit.SECONDS.toMillis(WAIT_S));
        assertTrue(!t.isAlive(), "thread " + t.getName() + " did not finish within " + WAIT_S + " s");
    }

    /** The exception of a call that found the object inside another thread's call. */
    private static void assertNamesHolder(IllegalStateException e, String holder) {
        assertTrue(e.getMessage().contains("in use by thread \"" + holder + "\""), "the message should name thread "
                + holder + " as the holder: " + e.getMessage());
    }

    /** The exception of a call that found another thread's half-finished step. */
    private static void assertNamesThread(IllegalStateException e, String thread) {
        assertTrue(e.getMessage().contains("thread \"" + thread + "\""), "the message should name thread " + thread
                + ": " + e.getMessage());
    }

    @Test
    void aSecondThreadInsideAModelCallGetsAnExceptionNamingTheHolderAndTheHolderGetsTheRightLoss() throws Exception {
        GatedBackend gate = new GatedBackend(TestBackends.reference());
        Backend b = gate.backend;
        Random rng = new Random(3);
        try (Arena arena = Arena.ofShared(); Seq2seq model = new Seq2seq(b, V, D, H, 7)) {
            Tensor xs = ids(b, arena, rng, N, T_IN), ts = ids(b, arena, rng, N, T_OUT + 1);
            Tensor otherXs = ids(b, arena, rng, N, T_IN), otherTs = ids(b, arena, rng, N, T_OUT + 1);
            float expected = model.forward(xs, ts);          // built and first used here, on the test thread
            float otherExpected = model.forward(otherXs, otherTs);

            AtomicReference<Throwable> failure = new AtomicReference<>();
            float[] got = new float[1];
            gate.armed.set(true);
            Thread holder = start("holder-A", failure, () -> got[0] = model.forward(xs, ts));
            assertTrue(gate.entered.await(WAIT_S, TimeUnit.SECONDS), "holder-A never reached the backend");
            try {
                // holder-A is inside forward now: every operation from here must fail, naming it
                assertNamesHolder(assertThrows(IllegalStateException.class, () -> model.forward(otherXs, otherTs)),
                        "holder-A");
                assertNamesHolder(assertThrows(IllegalStateException.class, model::backward), "holder-A");
                assertNamesHolder(assertThrows(IllegalStateException.class, () -> model.generate(otherXs, 0, 3)),
                        "holder-A");
                assertNamesHolder(assertThrows(IllegalStateException.class, model::close), "holder-A");
            } finally {
                gate.release.countDown();
                join(holder);
            }
            assertNull(failure.get(), () -> "holder-A failed: " + failure.get());
            assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(got[0]),
                    "holder-A's loss was disturbed by the other thread's attempts");

            // handed back: the test thread uses the model again, with its own forward before its backward
            assertEquals(Float.floatToIntBits(otherExpected), Float.floatToIntBits(model.forward(otherXs, otherTs)));
            model.backward();
        }
    }

    @Test
    void aModelBuiltOnOneThreadTrainsOnAnotherAndBack() throws Exception {
        Backend b = TestBackends.reference();
        Random rng = new Random(4);
        try (Arena arena = Arena.ofShared(); Seq2seq handed = new Seq2seq(b, V, D, H, 9);
             Seq2seq alone = new Seq2seq(b, V, D, H, 9); Adam adamHanded = new Adam(0.01f);
             Adam adamAlone = new Adam(0.01f)) {
            Tensor xs = ids(b, arena, rng, N, T_IN), ts = ids(b, arena, rng, N, T_OUT + 1);
            float[] lossesAlone = new float[4];
            for (int s = 0; s < 4; s++) {
                lossesAlone[s] = alone.forward(xs, ts);
                alone.backward();
                adamAlone.step(alone.store());
            }
            // steps 0 and 2 on worker threads, 1 and 3 here: the same numbers as on one thread
            AtomicReference<Throwable> failure = new AtomicReference<>();
            float[] losses = new float[4];
            for (int s = 0; s < 4; s++) {
                int step = s;
                ThrowingRunnable body = () -> {
                    losses[step] = handed.forward(xs, ts);
                    handed.backward();
                    adamHanded.step(handed.store());
                };
                if (s % 2 == 0) {
                    join(start("worker-" + s, failure, body));
                    assertNull(failure.get(), () -> "worker failed: " + failure.get());
                } else {
                    body.run();
                }
            }
            for (int s = 0; s < 4; s++) {
                assertEquals(Float.floatToIntBits(lossesAlone[s]), Float.floatToIntBits(losses[s]), "step " + s);
            }
        }
    }

    @Test
    void backwardAndTheOptimizerRefuseWhatAnotherThreadLeftHalfDone() throws Exception {
        Backend b = TestBackends.reference();
        Random rng = new Random(5);
        try (Arena arena = Arena.ofShared(); Seq2seq model = new Seq2seq(b, V, D, H, 11); SGD sgd = new SGD(0.1f)) {
            Tensor xs = ids(b, arena, rng, N, T_IN), ts = ids(b, arena, rng, N, T_OUT + 1);
            String me = Thread.currentThread().getName();
            AtomicReference<Throwable> failure = new AtomicReference<>();

            // a forward here, then a backward on another thread: it would run on this thread's activations
            model.forward(xs, ts);
            AtomicReference<IllegalStateException> seen = new AtomicReference<>();
            join(start("late-backward", failure, () -> seen.set(assertThrows(IllegalStateException.class,
                    model::backward))));
            assertNull(failure.get(), () -> "late-backward failed: " + failure.get());
            assertNamesThread(seen.get(), me);
            model.backward();   // this thread's own forward: fine

            // gradients added here and not yet applied: another thread's backward or step must not mix in
            join(start("mixer", failure, () -> {
                model.forward(xs, ts);
                seen.set(assertThrows(IllegalStateException.class, model::backward));
            }));
            assertNull(failure.get(), () -> "mixer failed: " + failure.get());
            assertNamesThread(seen.get(), me);
            join(start("stepper", failure, () -> seen.set(assertThrows(IllegalStateException.class,
                    () -> sgd.step(model.store())))));
            assertNull(failure.get(), () -> "stepper failed: " + failure.get());
            assertNamesThread(seen.get(), me);

            sgd.step(model.store());   // applied here: now another thread may take over the whole step
            join(start("next-owner", failure, () -> {
                model.forward(xs, ts);
                model.backward();
                sgd.step(model.store());
            }));
            assertNull(failure.get(), () -> "next-owner failed: " + failure.get());
        }
    }

    /**
     * Two threads hammer one model without any coordination. With a per-call check some calls collide; each
     * collision must be an IllegalStateException naming the other thread, and every loss that comes back must be
     * exactly the loss of that thread's own batch (the bug this guards against: silently wrong losses).
     */
    @Test
    void twoThreadsRacingOnOneModelGetTheirOwnLossOrAnException() throws Exception {
        Backend b = TestBackends.reference();
        Random rng = new Random(6);
        try (Arena arena = Arena.ofShared(); Seq2seq model = new Seq2seq(b, V, D, H, 13)) {
            Tensor[] xs = {ids(b, arena, rng, N, T_IN), ids(b, arena, rng, N, T_IN)};
            Tensor[] ts = {ids(b, arena, rng, N, T_OUT + 1), ids(b, arena, rng, N, T_OUT + 1)};
            float[] expected = {model.forward(xs[0], ts[0]), model.forward(xs[1], ts[1])};
            assertTrue(expected[0] != expected[1], "the two batches should have different losses");

            String[] names = {"racer-0", "racer-1"};
            AtomicInteger collisions = new AtomicInteger(), right = new AtomicInteger();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CountDownLatch go = new CountDownLatch(1);
            Thread[] racers = new Thread[2];
            for (int r = 0; r < 2; r++) {
                int me = r;
                racers[r] = start(names[r], failure, () -> {
                    go.await(WAIT_S, TimeUnit.SECONDS);
                    for (int i = 0; i < 300 && failure.get() == null; i++) {
                        try {
                            float loss = model.forward(xs[me], ts[me]);
                            assertEquals(Float.floatToIntBits(expected[me]), Float.floatToIntBits(loss),
                                    names[me] + " got a wrong loss at call " + i);
                            right.incrementAndGet();
                        } catch (IllegalStateException e) {
                            assertNamesHolder(e, names[1 - me]);
                            collisions.incrementAndGet();
                        }
                    }
                });
            }
            go.countDown();
            for (Thread t : racers) {
                join(t);
            }
            assertNull(failure.get(), () -> "a racer failed: " + failure.get());
            assertTrue(right.get() > 0, "no call succeeded");
            System.out.println("racing on one model: " + right.get() + " right losses, " + collisions.get()
                    + " collisions reported");
        }
    }

    /**
     * A trainer closed by its own Listener, inside fitEpoch: the epoch went on over the freed buffers and failed in a
     * kernel's words ("copyIn: dst ... belongs to an arena that is already closed"; a red-team find). The close is now
     * refused in the trainer's words, the listener's exception ends the epoch, and the trainer stays usable.
     */
    @Test
    void aTrainerClosedFromItsOwnListenerIsRefusedAndStaysUsable() {
        Backend b = TestBackends.reference();
        int[][] q = new int[8][T_IN], a = new int[8][T_OUT + 1];
        Batches data = Batches.of(new SequencePairs(q, a));
        try (Seq2seq model = new Seq2seq(b, V, D, H, 15); Adam adam = new Adam(0.01f);
             Trainer trainer = new Trainer(model, adam, 5f, 1)) {
            var e = assertThrows(IllegalStateException.class, () -> trainer.fitEpoch(1, data, 4, new Trainer.Listener() {
                @Override
                public void onStep(int epoch, int step, float loss) {
                    trainer.close();
                }
            }));
            assertEquals("Trainer.close: called inside this Trainer's fitEpoch (from a Listener); close it after fitEpoch "
                    + "returns, or throw from the Listener to stop the epoch", e.getMessage());
            assertEquals(1, trainer.steps());
            trainer.fitEpoch(2, data, 4, new Trainer.Listener() {
            });
            assertEquals(3, trainer.steps());
        }
        try (org.seq4j.models.Rnnlm lm = new org.seq4j.models.Rnnlm(b, V, D, H, 3); SGD sgd = new SGD(0.1f);
             org.seq4j.train.RnnlmTrainer trainer = new org.seq4j.train.RnnlmTrainer(lm, sgd, 0f)) {
            int[] corpus = new int[40];
            for (int i = 0; i < corpus.length; i++) {
                corpus[i] = i % V;
            }
            var e = assertThrows(IllegalStateException.class, () -> trainer.fitEpoch(1, corpus, 2, 4,
                    new Trainer.Listener() {
                        @Override
                        public void onStep(int epoch, int step, float loss) {
                            trainer.close();
                        }
                    }));
            assertTrue(e.getMessage().startsWith("RnnlmTrainer.close: called inside this RnnlmTrainer's fitEpoch"),
                    e.getMessage());
            assertTrue(Double.isFinite(trainer.fitEpoch(2, corpus, 2, 4, new Trainer.Listener() {
            })), "usable after");
        }
    }

    /**
     * A model's store closed on its own: the model went on and failed at its next call in a kernel's words about a
     * closed arena (a red-team find). Refused now, naming the model as the one to close; the model keeps working and
     * its close closes the store.
     */
    @Test
    void aModelsStoreIsClosedByTheModelNotOnItsOwn() {
        try (Seq2seq model = new Seq2seq(TestBackends.reference(), V, D, H, 15)) {
            var e = assertThrows(IllegalStateException.class, () -> model.store().close());
            assertEquals("ParameterStore.close: this store belongs to a model; close the model, which closes its store",
                    e.getMessage());
            int[][] ids = model.generate(new int[][] {{1, 2, 3, 4, 5}}, 0, 3);
            assertEquals(3, ids[0].length, "the model still answers");
        }
    }

    @Test
    void aTrainerBusyOnOneThreadRefusesAnotherAndClosesTwiceQuietly() throws Exception {
        Backend b = TestBackends.reference();
        Random rng = new Random(8);
        int[][] q = new int[12][T_IN], a = new int[12][T_OUT + 1];
        for (int i = 0; i < q.length; i++) {
            for (int t = 0; t < T_IN; t++) {
                q[i][t] = rng.nextInt(V);
            }
            for (int t = 0; t <= T_OUT; t++) {
                a[i][t] = rng.nextInt(V);
            }
        }
        Batches data = Batches.of(new SequencePairs(q, a));
        CountDownLatch inside = new CountDownLatch(1), release = new CountDownLatch(1);
        Trainer.Listener stopOnce = new Trainer.Listener() {
            @Override
            public void onStep(int epoch, int step, float loss) {
                if (epoch == 1 && step == 1) {
                    inside.countDown();
                    try {
                        release.await(WAIT_S, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        };
        Seq2seq model = new Seq2seq(b, V, D, H, 15);
        Adam adam = new Adam(0.01f);
        Trainer trainer = new Trainer(model, adam, 5f, 1);
        try {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread fitter = start("fitter", failure, () -> trainer.fitEpoch(1, data, 4, stopOnce));
            assertTrue(inside.await(WAIT_S, TimeUnit.SECONDS), "fitter never reached its first step");
            try {
                assertNamesHolder(assertThrows(IllegalStateException.class,
                        () -> trainer.fitEpoch(2, data, 4, new Trainer.Listener() {
                        })), "fitter");
                assertNamesHolder(assertThrows(IllegalStateException.class, trainer::close), "fitter");
            } finally {
                release.countDown();
                join(fitter);
            }
            assertNull(failure.get(), () -> "fitter failed: " + failure.get());
            assertEquals(3, trainer.steps());
            trainer.fitEpoch(2, data, 4, new Trainer.Listener() {
            });   // handed back to this thread
            assertEquals(6, trainer.steps());
        } finally {
            trainer.close();
            trainer.close();   // twice: nothing
            adam.close();
            model.close();
            model.close();
        }
        assertThrows(IllegalStateException.class, () -> trainer.fitEpoch(3, data, 4, new Trainer.Listener() {
        }), "a closed trainer");
    }

    @Test
    void anOptimizerAfterCloseThrowsInsteadOfStartingOver() {
        Backend b = TestBackends.reference();
        for (Function<Float, Optimizer> make : List.<Function<Float, Optimizer>>of(Adam::new, SGD::new)) {
            try (Seq2seq model = new Seq2seq(b, V, D, H, 17)) {
                Optimizer opt = make.apply(0.01f);
                opt.step(model.store());
                opt.close();
                opt.close();   // twice: nothing
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> opt.step(model.store()));
                String name = opt.getClass().getSimpleName();
                assertTrue(e.getMessage().contains(name + ".step") && e.getMessage().contains("closed"), e.getMessage());
                assertThrows(IllegalStateException.class, () -> opt.setLearningRate(0.1f));
            }
        }
    }

    /** Losses of `steps` training steps (forward, backward, Adam) of a fresh model on one batch. */
    private static float[] train(Backend b, int hidden, Tensor xs, Tensor ts, int steps) {
        float[] losses = new float[steps];
        try (Seq2seq model = new Seq2seq(b, V, 16, hidden, 21); Adam adam = new Adam(0.01f)) {
            for (int s = 0; s < steps; s++) {
                losses[s] = model.forward(xs, ts);
                model.backward();
                adam.step(model.store());
            }
        }
        return losses;
    }

    /**
     * One backend, two threads, a model each, at the same time: every loss is bit for bit what the same steps
     * give alone (work splits depend on shapes and thread count, never on the other thread). Batches of 64 make
     * the CPU backend's GEMMs split across its pool, so the two threads contend for it.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    void oneBackendSharedByTwoThreadsGivesEachTheNumbersItGetsAlone(String name) throws Exception {
        Backend b = TestBackends.get(name);
        Random rng = new Random(10);
        int n = 64, steps = 3, hidden = name.equals("java") ? 16 : 64;   // the reference is slow and has no pool
        try (Arena arena = Arena.ofShared()) {
            Tensor[] xs = {ids(b, arena, rng, n, T_IN), ids(b, arena, rng, n, T_IN)};
            Tensor[] ts = {ids(b, arena, rng, n, T_OUT + 1), ids(b, arena, rng, n, T_OUT + 1)};
            float[][] alone = {train(b, hidden, xs[0], ts[0], steps), train(b, hidden, xs[1], ts[1], steps)};
            float[][] together = new float[2][];
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CountDownLatch go = new CountDownLatch(1);
            Thread[] threads = new Thread[2];
            for (int r = 0; r < 2; r++) {
                int me = r;
                threads[r] = start("sharer-" + r, failure, () -> {
                    go.await(WAIT_S, TimeUnit.SECONDS);
                    together[me] = train(b, hidden, xs[me], ts[me], steps);
                });
            }
            go.countDown();
            for (Thread t : threads) {
                join(t);
            }
            assertNull(failure.get(), () -> "a thread failed: " + failure.get());
            for (int r = 0; r < 2; r++) {
                for (int s = 0; s < steps; s++) {
                    assertEquals(Float.floatToIntBits(alone[r][s]), Float.floatToIntBits(together[r][s]),
                            name + ": thread " + r + ", step " + s + ": " + together[r][s] + " beside another thread, "
                                    + alone[r][s] + " alone");
                }
            }
        }
    }

    /**
     * Virtual threads, more than there are carriers, each training a model of its own on one shared openblas backend
     * and on one backend of its own at the same time: no deadlock between the native pool and the carriers (a
     * downcall pins its carrier; the pool's callers never wait for another Java thread), and every loss is bit for
     * bit the one the same steps give alone.
     */
    @Test
    void manyVirtualThreadsOnSharedAndOwnBackendsGetTheNumbersTheyGetAlone() throws Exception {
        Backend shared = TestBackends.get("openblas");
        Random rng = new Random(11);
        int n = 64, steps = 2, hidden = 32, threads = 3 * Runtime.getRuntime().availableProcessors() + 2;
        try (Arena arena = Arena.ofShared()) {
            Tensor xs = ids(shared, arena, rng, n, T_IN), ts = ids(shared, arena, rng, n, T_OUT + 1);
            float[] alone = train(shared, hidden, xs, ts, steps);
            float[][] got = new float[threads][];
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CountDownLatch go = new CountDownLatch(1);
            try (var executor = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
                for (int r = 0; r < threads; r++) {
                    int me = r;
                    executor.submit(() -> {
                        try {
                            go.await(WAIT_S, TimeUnit.SECONDS);
                            if (me % 2 == 0) {
                                got[me] = train(shared, hidden, xs, ts, steps);
                            } else {
                                try (Backend own = Backends.create("openblas")) {
                                    got[me] = train(own, hidden, xs, ts, steps);
                                }
                            }
                        } catch (Throwable e) {
                            failure.compareAndSet(null, e);
                        }
                        return null;
                    });
                }
                go.countDown();
                executor.shutdown();
                assertTrue(executor.awaitTermination(4 * WAIT_S, TimeUnit.SECONDS), "virtual threads hang");
            }
            assertNull(failure.get(), () -> "a thread failed: " + failure.get());
            for (int r = 0; r < threads; r++) {
                for (int s = 0; s < steps; s++) {
                    assertEquals(Float.floatToIntBits(alone[s]), Float.floatToIntBits(got[r][s]),
                            "virtual thread " + r + ", step " + s + ": " + got[r][s] + ", alone " + alone[s]);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    void aClosedBackendFailsEveryCallAndItsModelsNextForward(String name) throws Exception {
        TestBackends.get(name);   // skips, with the reason, where this backend cannot load
        Backend b = TestBackends.fresh(name);   // a fresh one: the shared instance must stay open
        Random rng = new Random(9);
        try (Arena arena = Arena.ofShared(); Seq2seq model = new Seq2seq(b, V, D, H, 19)) {
            Tensor xs = ids(b, arena, rng, N, T_IN), ts = ids(b, arena, rng, N, T_OUT + 1);
            Tensor x = b.allocate(arena, DType.F32, 4, 4);
            assertTrue(Float.isFinite(model.forward(xs, ts)));
            model.backward();

            b.close();
            b.close();   // twice: nothing
            String closed = "backend " + b.name() + " is closed";
            for (Function<Backend, Object> call : List.<Function<Backend, Object>>of(
                    k -> k.allocate(arena, DType.F32, 2),
                    k -> {
                        k.fill(x, 1f);
                        return null;
                    },
                    k -> {
                        k.matmul(Transpose.NO, Transpose.NO, 1f, x, x, 0f, x);
                        return null;
                    },
                    k -> k.item(x, 0),
                    k -> {
                        k.copyOut(new float[16], x);
                        return null;
                    })) {
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> call.apply(b));
                assertTrue(e.getMessage().contains(closed), e.getMessage());
            }
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> model.forward(xs, ts));
            assertTrue(e.getMessage().contains(closed), "a model on a closed backend: " + e.getMessage());
        }
    }
}
