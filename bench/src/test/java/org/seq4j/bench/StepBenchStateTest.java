// The training benchmarks (W1, W1 GRU, W4) start every JMH iteration from the same state: after their iteration
// setup (restore) the model's parameters are the initial ones bit for bit, however far the steps before went, and
// the steps of the next iteration repeat the first iteration's losses bit for bit (a new Adam: t, m and v from the
// start too); their GemmReplay recordings still replay afterwards; and W1's and W4's are of a step after the first.
package org.seq4j.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.backend.Backends;
import org.seq4j.layers.Cell;
import org.seq4j.models.AttentionSeq2seq;
import org.seq4j.models.Seq2seq;
import org.seq4j.models.Seq2seqModel;
import org.seq4j.optim.Adam;
import org.seq4j.tensor.Tensor;

class StepBenchStateTest {
    private static final int STEPS = 4;

    /** A benchmark's JMH hooks, and what the test reads of it. */
    private record Hooks(Runnable restore, Supplier<Float> step, Supplier<Seq2seqModel> model, Runnable replays) {
    }

    /**
     * Two iterations' setups with STEPS steps after each and STEPS more between (training on without a restore): the
     * parameters after each restore against {@code initial}'s, the two iterations' losses against each other.
     */
    private static void everyIterationStartsAnew(Hooks h, Seq2seqModel initial) {
        Map<String, float[]> start = initial.store().copyOutAll();
        h.restore().run();
        assertParametersEqual(start, h.model().get().store().copyOutAll(), "after the first restore");
        float[] first = steps(h.step());
        float[] on = steps(h.step());
        assertTrue(on[STEPS - 1] < first[0], "training on lowers the loss (the restore has something to undo): "
                + first[0] + " then " + on[STEPS - 1]);
        h.restore().run();
        assertParametersEqual(start, h.model().get().store().copyOutAll(), "after " + 2 * STEPS + " steps, restored");
        assertArrayEquals(first, steps(h.step()), "the second iteration's losses, bit for bit");
        h.replays().run();   // the recording's tensors (the twin's) are still open: a closed one would throw
    }

    private static float[] steps(Supplier<Float> step) {
        float[] losses = new float[STEPS];
        for (int i = 0; i < STEPS; i++) {
            losses[i] = step.get();
        }
        return losses;
    }

    private static void assertParametersEqual(Map<String, float[]> want, Map<String, float[]> got, String when) {
        assertEquals(want.keySet(), got.keySet(), when);
        for (String name : want.keySet()) {
            assertArrayEquals(want.get(name), got.get(name), name + " " + when + ", bit for bit");
        }
    }

    /**
     * The bench's recording is of a step after the first (two-phase): as many products, and as many other kernels, as
     * a recording of the twin's third step made the same way. A first step makes as many products but more of the
     * others (W1 55 against 50, W4 117 against 112), and W4's former one-phase recording, the model's build in it, 127.
     */
    private static void theRecordingIsALaterStep(GemmReplay recorded, Function<Backend, Seq2seqModel> twin, int v,
                                                 int tIn, int tOut) {
        try (Backend b = Backends.create("openblas"); Arena arena = Arena.ofShared()) {
            SplittableRandom r = new SplittableRandom(Workloads.SEED);
            Tensor xs = Workloads.ids(b, arena, r, v, 128, tIn), ts = Workloads.ids(b, arena, r, v, 128, tOut + 1);
            try (GemmReplay third = GemmReplay.record(b, rec -> {
                var t = new Workloads.Twin<>(twin.apply(rec), new Adam(Workloads.LR));
                for (int i = 0; i < 2; i++) {
                    Workloads.trainStep(t.model(), t.adam(), xs, ts, 5f);
                }
                return t;
            }, t -> Workloads.trainStep(t.model(), t.adam(), xs, ts, 5f))) {
                assertEquals(third.size(), recorded.size(), "products recorded");
                assertEquals(third.restSize(), recorded.restSize(), "other kernels recorded");
            }
        }
    }

    @Test
    void w1() {
        W1Seq2seqStepBench w = new W1Seq2seqStepBench();
        w.backend = "openblas";
        w.setUp();
        try (Backend host = Backends.create("java");
             Seq2seq initial = new Seq2seq(host, 13, 16, 128, Workloads.SEED)) {
            everyIterationStartsAnew(new Hooks(w::restore, w::step, w::model, () -> {
                w.gemmsOnly();
                w.restOnly();
            }), initial);
            theRecordingIsALaterStep(w.gemms(), b -> new Seq2seq(b, 13, 16, 128, Workloads.SEED), 13, 7, 4);
        } finally {
            w.tearDown();
        }
    }

    @Test
    void w1Gru() {
        W1GruSeq2seqStepBench w = new W1GruSeq2seqStepBench();
        w.backend = "openblas";
        w.setUp();
        try (Backend host = Backends.create("java");
             Seq2seq initial = new Seq2seq(host, 13, 16, 128, Cell.GRU, Workloads.SEED)) {
            everyIterationStartsAnew(new Hooks(w::restore, w::step, w::model, w::gemmsOnly), initial);
        } finally {
            w.tearDown();
        }
    }

    @Test
    void w4() {
        W4AttentionStepBench w = new W4AttentionStepBench();
        w.backend = "openblas";
        w.setUp();
        try (Backend host = Backends.create("java");
             AttentionSeq2seq initial = new AttentionSeq2seq(host, W4AttentionStepBench.V, W4AttentionStepBench.D,
                     W4AttentionStepBench.H, Workloads.SEED)) {
            everyIterationStartsAnew(new Hooks(w::restore, w::step, w::model, w::gemmsOnly), initial);
            theRecordingIsALaterStep(w.gemms(), b -> new AttentionSeq2seq(b, W4AttentionStepBench.V,
                    W4AttentionStepBench.D, W4AttentionStepBench.H, Workloads.SEED), W4AttentionStepBench.V,
                    W4AttentionStepBench.T_IN, W4AttentionStepBench.T_OUT);
        } finally {
            w.tearDown();
        }
    }
}
