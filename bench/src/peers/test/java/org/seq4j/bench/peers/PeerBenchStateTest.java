// The peers' training benchmarks start every JMH iteration from the same state, as seq4j's do (StepBenchStateTest):
// after their iteration setup (restore) the steps repeat the first iteration's losses bit for bit, the old model (and
// its Adam's state, in its manager) is closed; and W3's iteration setup turns autograd off on the thread that will
// run the benchmark, where PyTorch starts it on. Runs only under -Ppeers (it loads PyTorch).
package org.seq4j.bench.peers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.pytorch.jni.JniUtils;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class PeerBenchStateTest {
    private static final int STEPS = 4;

    /** A backend parameter other than pytorch is refused: it ran PyTorch and the figure was labelled backend=java. */
    @Test
    void aBackendOtherThanPyTorchIsRefused() {
        PeerW3LstmInferenceBench w3 = new PeerW3LstmInferenceBench();
        w3.backend = "java";
        assertEquals("backend = 'java': a peer benchmark runs PyTorch only; expected pytorch (seq4j's backends are in "
                + "the W1..W4 benchmarks)", assertThrows(IllegalArgumentException.class, w3::setUp).getMessage());
        PeerW1Seq2seqStepBench w1 = new PeerW1Seq2seqStepBench();
        w1.backend = "openblas";
        assertThrows(IllegalArgumentException.class, w1::setUp);
    }

    /**
     * PyTorch runs on PeerOps.THREADS (the count given, 2 under these tests, or seq4j's own), set by every new manager:
     * the forks said a fixed 2 whatever seq4j ran on.
     */
    @Test
    void pyTorchRunsOnTheThreadsPeerOpsSays() {
        assertEquals(Integer.getInteger("ai.djl.pytorch.num_threads"), PeerOps.THREADS, "the count given");
        PeerOps.newManager().close();   // the engine loaded
        JniUtils.setNumThreads(PeerOps.THREADS + 1);
        PeerOps.newManager().close();
        assertEquals(PeerOps.THREADS, JniUtils.getNumThreads(), "the peers' thread count, set again");
    }

    /**
     * Two iterations' setups with STEPS steps after each and STEPS more between (training on without a restore): the
     * second iteration's losses against the first's, and the first iteration's model closed by the second's setup.
     */
    private static void everyIterationStartsAnew(Runnable restore, Supplier<Float> step, Supplier<PeerModel> model) {
        restore.run();
        PeerModel first = model.get();
        float[] losses = steps(step);
        float[] on = steps(step);
        assertTrue(on[STEPS - 1] < losses[0], "training on lowers the loss (the restore has something to undo): "
                + losses[0] + " then " + on[STEPS - 1]);
        restore.run();
        assertFalse(first.manager().isOpen(), "the first iteration's model (and its Adam's m and v) left open");
        assertArrayEquals(losses, steps(step), "the second iteration's losses, bit for bit");
    }

    private static float[] steps(Supplier<Float> step) {
        float[] losses = new float[STEPS];
        for (int i = 0; i < STEPS; i++) {
            losses[i] = step.get();
        }
        return losses;
    }

    @Test
    void w1() {
        var w = new PeerW1Seq2seqStepBench();
        w.backend = "pytorch";   // as JMH sets it
        w.setUp();
        try {
            everyIterationStartsAnew(w::restore, w::step, w::model);
        } finally {
            w.tearDown();
        }
        assertFalse(w.model().manager().isOpen(), "the last model left open by the trial's teardown");
    }

    @Test
    void w4() {
        var w = new PeerW4AttentionStepBench();
        w.backend = "pytorch";
        w.setUp();
        try {
            everyIterationStartsAnew(w::restore, w::step, w::model);
        } finally {
            w.tearDown();
        }
        assertFalse(w.model().manager().isOpen(), "the last model left open by the trial's teardown");
    }

    @Test
    void w3TurnsAutogradOffOnTheBenchmarksThread() throws InterruptedException, ExecutionException {
        PeerOps.newManager().close();   // the engine loaded here, on another thread than the benchmark's
        ExecutorService worker = Executors.newSingleThreadExecutor();
        try {
            boolean[] mode = CompletableFuture.supplyAsync(() -> {
                boolean before = JniUtils.isGradMode();
                var w = new PeerW3LstmInferenceBench();
                w.backend = "pytorch";
                w.setUp();
                try {
                    w.noGrad();
                    return new boolean[] {before, JniUtils.isGradMode()};
                } finally {
                    w.tearDown();
                }
            }, worker).get();
            assertTrue(mode[0], "PyTorch starts a new thread with autograd on (what noGrad is there for)");
            assertFalse(mode[1], "autograd still on after W3's iteration setup");
        } finally {
            worker.shutdown();
        }
    }
}
