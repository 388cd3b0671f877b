// A steady-state training step (forward, backward, clip, Adam) allocates (almost) nothing on the Java heap:
// workspaces are sized on the first step and reused, per-step views are made once. Measured with the
// per-thread allocation counter of com.sun.management.ThreadMXBean around the second step, java backend.
package org.seq4j.models;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.management.ManagementFactory;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.layers.Cell;
import org.seq4j.optim.Adam;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class SteadyStateAllocationTest {
    /**
     * A few KB: the step itself should allocate nothing, but the second step may still run in the interpreter,
     * where the JVM can allocate a little of its own (e.g. while linking call sites).
     */
    static final long LIMIT_BYTES = 4096;

    /**
     * Per step, averaged over many steps once call sites are linked: what a step really makes. A view per time step
     * (about 100 bytes) already breaks it; issue 12 bounds the W1 step at 1 KB (bench: -prof gc).
     */
    static final long LIMIT_BYTES_PER_STEP = 64;

    record Case(Function<Backend, Model> model, boolean ids, int[] xsShape, int[] tsShape, int vocab) {
    }

    static Stream<Named<Case>> cases() {
        int V = 11, D = 6, H = 8;
        int[] q = {4, 5}, a = {4, 4}, lm = {4, 6};
        return Stream.of(
                Named.of("Seq2seq", new Case(b -> new Seq2seq(b, V, D, H, 1), true, q, a, V)),
                Named.of("PeekySeq2seq", new Case(b -> new PeekySeq2seq(b, V, D, H, 1), true, q, a, V)),
                Named.of("AttentionSeq2seq", new Case(b -> new AttentionSeq2seq(b, V, D, H, 1), true, q, a, V)),
                Named.of("BidirectionalAttentionSeq2seq", new Case(b -> new AttentionSeq2seq(b, V, D, H, 1, true), true, q,
                        a, V)),
                Named.of("SimpleRnnlm", new Case(b -> new SimpleRnnlm(b, V, D, H, 1), true, lm, lm, V)),
                Named.of("Rnnlm", new Case(b -> new Rnnlm(b, V, D, H, 1), true, lm, lm, V)),
                Named.of("BetterRnnlm", new Case(b -> new BetterRnnlm(b, V, H, H, 0.5f, 1), true, lm, lm, V)),
                Named.of("PeekySeq2seq GRU", new Case(b -> new PeekySeq2seq(b, V, D, H, Cell.GRU, 1), true, q, a, V)),
                Named.of("BidirectionalAttentionSeq2seq GRU", new Case(b -> new AttentionSeq2seq(b, V, D, H, Cell.GRU, 1,
                        true), true, q, a, V)),
                Named.of("AttentionSeq2seq GRU", new Case(b -> new AttentionSeq2seq(b, V, D, H, Cell.GRU, 1), true, q, a,
                        V)),
                Named.of("BetterRnnlm GRU", new Case(b -> new BetterRnnlm(b, V, H, H, 0.5f, Cell.GRU, 1), true, lm, lm,
                        V)),
                Named.of("WaveSeq2seq", new Case(b -> new WaveSeq2seq(b, 1, 1, H, 1), false, new int[] {4, 5, 1},
                        new int[] {4, 3, 1}, 0)),
                Named.of("WavePredictor", new Case(b -> new WavePredictor(b, 1, H, 1), false, new int[] {4, 5, 1},
                        new int[] {4, 1}, 0)));
    }

    /** Random ids below the case's vocabulary, or Gaussian floats, of {@code shape}: a model's input (ClosedModelTest's too). */
    static Tensor input(Backend backend, Arena arena, Random rng, Case c, int[] shape) {
        int size = 1;
        for (int d : shape) {
            size *= d;
        }
        if (c.ids()) {
            int[] ids = new int[size];
            for (int i = 0; i < size; i++) {
                ids[i] = rng.nextInt(c.vocab());
            }
            return ModelTesting.ids(backend, arena, ids, shape[0], shape[1]);
        }
        float[] v = new float[size];
        for (int i = 0; i < size; i++) {
            v[i] = (float) rng.nextGaussian();
        }
        return ModelTesting.floats(backend, arena, v, shape);
    }

    /** The JVM's per-thread count of heap bytes allocated, switched on; the test is skipped where there is none. */
    private static com.sun.management.ThreadMXBean allocationCounter() {
        var threads = ManagementFactory.getThreadMXBean();
        assumeTrue(threads instanceof com.sun.management.ThreadMXBean, "this JVM has no per-thread allocation counter");
        var counter = (com.sun.management.ThreadMXBean) threads;
        assumeTrue(counter.isThreadAllocatedMemorySupported(), "this JVM cannot count allocated bytes per thread");
        counter.setThreadAllocatedMemoryEnabled(true);
        return counter;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void theSecondTrainingStepAllocatesAlmostNothing(Case c) {
        var counter = allocationCounter();

        Backend backend = TestBackends.reference();
        Random rng = new Random(5);
        try (Arena arena = Arena.ofConfined(); Model model = c.model().apply(backend); Adam adam = new Adam(0.01f)) {
            Tensor xs = input(backend, arena, rng, c, c.xsShape());
            Tensor ts = input(backend, arena, rng, c, c.tsShape());
            step(model, adam, xs, ts);                                    // sizes the workspaces
            long before = counter.getCurrentThreadAllocatedBytes();
            step(model, adam, xs, ts);
            long allocated = counter.getCurrentThreadAllocatedBytes() - before;
            System.out.println("steady-state step of " + model.getClass().getSimpleName() + " allocated " + allocated
                    + " bytes on the heap");
            assertTrue(allocated < LIMIT_BYTES, model.getClass().getSimpleName() + ": the second training step allocated "
                    + allocated + " bytes on the heap; at most " + LIMIT_BYTES + " expected");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void manyStepsAllocateUnderSixtyFourBytesEach(Case c) {
        var counter = allocationCounter();

        Backend backend = TestBackends.reference();
        Random rng = new Random(5);
        int warm = 30, measured = 200;
        try (Arena arena = Arena.ofConfined(); Model model = c.model().apply(backend); Adam adam = new Adam(0.01f)) {
            Tensor xs = input(backend, arena, rng, c, c.xsShape());
            Tensor ts = input(backend, arena, rng, c, c.tsShape());
            for (int i = 0; i < warm; i++) {
                step(model, adam, xs, ts);
            }
            long before = counter.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < measured; i++) {
                step(model, adam, xs, ts);
            }
            long perStep = (counter.getCurrentThreadAllocatedBytes() - before) / measured;
            assertTrue(perStep < LIMIT_BYTES_PER_STEP, model.getClass().getSimpleName() + ": " + measured
                    + " steady-state training steps allocated " + perStep + " bytes each on the heap; under "
                    + LIMIT_BYTES_PER_STEP + " expected");
        }
    }

    private static void step(Model model, Adam adam, Tensor xs, Tensor ts) {
        model.forward(xs, ts);
        model.backward();
        adam.clipAndStep(model.store(), 5f);   // as Trainer steps with a max norm: one reduction for clip and check
    }
}
