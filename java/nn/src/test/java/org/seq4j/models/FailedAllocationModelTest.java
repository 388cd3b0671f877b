// A model whose buffers are being resized by a forward when an allocation fails (out of memory, part-way through)
// must stay usable at both sizes: FailedAllocationTest for the models, whose own buffers (the batch transposed to
// time-major, xsT and tsT, the decoders' concatenations) are keyed on the batch's size like a layer's. For each kind
// of model, failing at each allocation of the resizing step in turn: a training step (forward, backward) at size A,
// one at size B whose k-th allocation throws OutOfMemoryError, then steps at A and at B, whose loss and gradients
// must equal a fresh model's bit for bit; the same with the failure in the model's very first step. Before the fix
// e.g. AbstractRnnlm kept sizedN, sizedT of A over the closed xsT, and its next forward at A threw "already closed".
package org.seq4j.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.seq4j.testing.TestBackends.values;

import java.lang.foreign.Arena;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.layers.Cell;
import org.seq4j.layers.FailingAllocations;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class FailedAllocationModelTest {
    static final int V = 13, D = 6, H = 8;

    /** A model built on a backend, and its (xs, ts) batches of sizes A and B. */
    record Case(Function<Backend, Model> model, Function<Arena, Tensor[][]> batches) {
    }

    /** Token batches: xs (N, T_in), ts (N, T_out); A = (2, 3, 3), B = (3, 4, 5). */
    static Tensor[][] ids(Arena arena, boolean lm) {
        Backend b = TestBackends.reference();
        Random rng = new Random(31);
        int[][] sizes = {{2, 3, 3}, {3, 4, 5}};
        Tensor[][] batches = new Tensor[2][];
        for (int s = 0; s < 2; s++) {
            int n = sizes[s][0], tin = sizes[s][1], tout = lm ? tin : sizes[s][2];
            batches[s] = new Tensor[] {ModelTesting.randomIds(b, arena, rng, n, tin, V),
                    ModelTesting.randomIds(b, arena, rng, n, tout, V)};
        }
        return batches;
    }

    /** Value batches: xs (N, T_in, 1) and ts of the given shape for N = 2, T = 3 (A) and N = 3, T = 4 (B). */
    static Tensor[][] waves(Arena arena, Function<int[], int[]> targetShape) {
        Backend b = TestBackends.reference();
        Random rng = new Random(32);
        Tensor[][] batches = new Tensor[2][];
        for (int s = 0; s < 2; s++) {
            int[] nt = {2 + s, 3 + s};
            int[] ts = targetShape.apply(nt);
            batches[s] = new Tensor[] {ModelTesting.floats(b, arena, randn(rng, nt[0] * nt[1]), nt[0], nt[1], 1),
                    ModelTesting.floats(b, arena, randn(rng, ts[0] * ts[1] * (ts.length > 2 ? ts[2] : 1)), ts)};
        }
        return batches;
    }

    private static float[] randn(Random rng, int n) {
        return org.seq4j.layers.GradientCheck.randn(rng, 1, n);
    }

    static Stream<Named<Case>> cases() {
        Function<Arena, Tensor[][]> lm = a -> ids(a, true), s2s = a -> ids(a, false);
        return Stream.of(
                Named.of("SimpleRnnlm", new Case(b -> new SimpleRnnlm(b, V, D, H, 1), lm)),
                Named.of("Rnnlm", new Case(b -> new Rnnlm(b, V, D, H, 2), lm)),
                Named.of("Rnnlm GRU", new Case(b -> new Rnnlm(b, V, D, H, Cell.GRU, 3), lm)),
                Named.of("BetterRnnlm, dropout off", new Case(b -> {
                    BetterRnnlm m = new BetterRnnlm(b, V, H, H, 0.5f, 4);
                    m.setTraining(false);   // masks drawn from a seed that a failed forward may have moved on
                    return m;
                }, lm)),
                Named.of("Seq2seq", new Case(b -> new Seq2seq(b, V, D, H, 5), s2s)),
                Named.of("PeekySeq2seq", new Case(b -> new PeekySeq2seq(b, V, D, H, 6), s2s)),
                Named.of("AttentionSeq2seq", new Case(b -> new AttentionSeq2seq(b, V, D, H, 7), s2s)),
                Named.of("AttentionSeq2seq bidirectional GRU",
                        new Case(b -> new AttentionSeq2seq(b, V, D, H, Cell.GRU, 8, true), s2s)),
                Named.of("WavePredictor", new Case(b -> new WavePredictor(b, 1, H, 9),
                        a -> waves(a, nt -> new int[] {nt[0], 1}))),
                Named.of("WaveSeq2seq", new Case(b -> new WaveSeq2seq(b, 1, 1, H, 10),
                        a -> waves(a, nt -> new int[] {nt[0], nt[1] + 1, 1}))));
    }

    /** A training step's loss and gradients, from the weights as they are (a language model from state zero). */
    private static float[][] step(Model model, Tensor[] batch) {
        if (model instanceof LanguageModel lm) {
            lm.resetState();
        }
        // every step takes a first step's path: packed Wh and folded tables made anew, as a fresh model makes them
        model.store().valuesWritten();
        model.store().zeroGrads();
        float loss = model.forward(batch[0], batch[1]);
        model.backward();
        return new float[][] {{loss}, values(model.backend(), model.store().grads())};
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void aFailedAllocationLeavesTheModelAsAFreshOne(Case c) {
        Backend backend = TestBackends.reference();
        try (Arena arena = Arena.ofConfined()) {
            Tensor[][] batches = c.batches().apply(arena);
            float[][][] fresh = new float[2][][];
            for (int s = 0; s < 2; s++) {
                try (Model m = c.model().apply(backend)) {
                    fresh[s] = step(m, batches[s]);
                }
            }
            FailingAllocations failing = new FailingAllocations(backend);
            for (boolean firstStep : new boolean[] {true, false}) {
                int failures = 0;
                for (int k = 0; ; k++) {
                    String what = (firstStep ? "failing the first step" : "failing the step at size B after one at A")
                            + " at its allocation " + k;
                    try (Model model = c.model().apply(failing.backend())) {
                        if (!firstStep) {
                            step(model, batches[0]);
                        }
                        if (!failing.refuseDuring(k, () -> step(model, batches[firstStep ? 0 : 1]), what)) {
                            break;   // the step makes fewer than k + 1 allocations: every one has failed once
                        }
                        failures++;
                        for (int s : new int[] {0, 1, 0}) {
                            float[][] got = step(model, batches[s]);
                            String then = what + ", then a step at size " + "AB".charAt(s);
                            assertEquals(fresh[s][0][0], got[0][0], then + ": the loss differs from a fresh model's");
                            assertArrayEquals(fresh[s][1], got[1], then + ": the gradients differ from a fresh model's");
                        }
                    }
                }
                if (firstStep) {
                    assertTrue(failures > 0, "the model's first step allocates nothing: the test proves nothing");
                }
            }
        }
    }
}
