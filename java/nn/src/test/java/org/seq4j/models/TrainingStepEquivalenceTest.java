// The same seeded training steps (forward, backward, clip, Adam) on every available backend give the same
// losses, gradients and parameters as on the java reference backend. Only java exists in some builds; the
// other backends join through TestBackends.all() and are skipped, with the reason, where they cannot load.
package org.seq4j.models;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.layers.Cell;
import org.seq4j.layers.Parameter;
import org.seq4j.optim.Adam;
import org.seq4j.optim.ClipGrads;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class TrainingStepEquivalenceTest {
    // Backends sum in other orders (blocked GEMM, atomics on GPU): float32 relative error ~1e-6 per reduction,
    // grown through ~10 layers forward and back, so losses to 1e-5 relative, gradients to 1e-6 absolute +
    // 1e-3 relative, parameters after the Adam steps (lr 1e-2) to 1e-5 absolute (0.1% of a step) + 1e-4 relative.
    static final double LOSS_RTOL = 1e-5;
    static final double GRAD_ATOL = 1e-6, GRAD_RTOL = 1e-3;
    static final double PARAM_ATOL = 1e-5, PARAM_RTOL = 1e-4;
    static final int STEPS = 2;
    static final float LR = 0.01f, MAX_NORM = 0.5f;   // a small max norm, so clipping really scales

    /** One batch as host data: token ids or float values, with a batch-major shape. */
    record Batch(int[] ids, float[] values, int... shape) {
        Tensor on(Backend backend, Arena arena) {
            Tensor t = backend.allocate(arena, ids != null ? DType.I32 : DType.F32, shape);
            if (ids != null) {
                backend.copyIn(t, ids);
            } else {
                backend.copyIn(t, values);
            }
            return t;
        }
    }

    /** A model built on a backend and the (xs, ts) batches of each step. */
    record Case(Function<Backend, Model> model, List<Batch[]> batches) {
    }

    static Batch ids(Random rng, int v, int n, int t) {
        int[] a = new int[n * t];
        for (int i = 0; i < a.length; i++) {
            a[i] = rng.nextInt(v);
        }
        return new Batch(a, null, n, t);
    }

    static Batch values(Random rng, int... shape) {
        int size = 1;
        for (int d : shape) {
            size *= d;
        }
        float[] a = new float[size];
        for (int i = 0; i < size; i++) {
            a[i] = (float) Math.sin(0.3 * i + rng.nextDouble());
        }
        return new Batch(null, a, shape);
    }

    static List<Batch[]> batches(Function<Random, Batch[]> make) {
        Random rng = new Random(2024);
        List<Batch[]> list = new ArrayList<>();
        for (int s = 0; s < STEPS; s++) {
            list.add(make.apply(rng));
        }
        return list;
    }

    static Stream<Named<Case>> cases() {
        int V = 13, D = 8, H = 16, N = 8, TIN = 7, TOUT = 5, T = 6;
        List<Batch[]> s2s = batches(r -> new Batch[] {ids(r, V, N, TIN), ids(r, V, N, TOUT + 1)});
        List<Batch[]> lm = batches(r -> new Batch[] {ids(r, V, N, T), ids(r, V, N, T)});
        return Stream.of(
                Named.of("Seq2seq", new Case(b -> new Seq2seq(b, V, D, H, 1), s2s)),
                Named.of("PeekySeq2seq", new Case(b -> new PeekySeq2seq(b, V, D, H, 2), s2s)),
                Named.of("AttentionSeq2seq", new Case(b -> new AttentionSeq2seq(b, V, D, H, 3), s2s)),
                Named.of("BidirectionalAttentionSeq2seq", new Case(b -> new AttentionSeq2seq(b, V, D, H, 9, true), s2s)),
                Named.of("SimpleRnnlm", new Case(b -> new SimpleRnnlm(b, V, D, H, 4), lm)),
                Named.of("Rnnlm", new Case(b -> new Rnnlm(b, V, D, H, 5), lm)),
                Named.of("BetterRnnlm", new Case(b -> new BetterRnnlm(b, V, H, H, 0.5f, 6), lm)),
                Named.of("Seq2seq GRU", new Case(b -> new Seq2seq(b, V, D, H, Cell.GRU, 11), s2s)),
                Named.of("PeekySeq2seq GRU", new Case(b -> new PeekySeq2seq(b, V, D, H, Cell.GRU, 12), s2s)),
                Named.of("AttentionSeq2seq GRU", new Case(b -> new AttentionSeq2seq(b, V, D, H, Cell.GRU, 13), s2s)),
                Named.of("BidirectionalAttentionSeq2seq GRU",
                        new Case(b -> new AttentionSeq2seq(b, V, D, H, Cell.GRU, 17, true), s2s)),
                Named.of("Rnnlm GRU", new Case(b -> new Rnnlm(b, V, D, H, Cell.GRU, 15), lm)),
                Named.of("BetterRnnlm GRU", new Case(b -> new BetterRnnlm(b, V, H, H, 0.5f, Cell.GRU, 16), lm)),
                Named.of("WaveSeq2seq", new Case(b -> new WaveSeq2seq(b, 1, 1, H, 7),
                        batches(r -> new Batch[] {values(r, N, TIN, 1), values(r, N, TOUT, 1)}))),
                Named.of("WavePredictor", new Case(b -> new WavePredictor(b, 1, H, 8),
                        batches(r -> new Batch[] {values(r, N, T, 1), values(r, N, 1)}))));
    }

    static Stream<Arguments> backendsAndCases() {
        return TestBackends.all().flatMap(b -> cases().map(c -> Arguments.of(b, c)));
    }

    /** Per step: the loss, the clipped flat gradient, and every parameter after the Adam step. */
    record Trace(float[] losses, List<float[]> grads, List<float[]> params) {
    }

    static Trace run(Backend backend, Case c) {
        try (Arena arena = Arena.ofConfined(); Model model = c.model().apply(backend); Adam adam = new Adam(LR)) {
            float[] losses = new float[STEPS];
            List<float[]> grads = new ArrayList<>();
            List<float[]> params = new ArrayList<>();
            for (int s = 0; s < STEPS; s++) {
                Batch[] b = c.batches().get(s);
                losses[s] = model.forward(b[0].on(backend, arena), b[1].on(backend, arena));
                model.backward();
                ClipGrads.clip(model.store(), MAX_NORM);
                float[] g = new float[(int) model.store().grads().size()];
                backend.copyOut(g, model.store().grads());
                grads.add(g);
                adam.step(model.store());
                for (Parameter p : model.parameters()) {
                    params.add(model.store().copyOut(p.name()));
                }
            }
            return new Trace(losses, grads, params);
        }
    }

    static void assertClose(String what, float[] ref, float[] got, double atol, double rtol) {
        double maxDiff = 0;
        int worst = -1;
        for (int i = 0; i < ref.length; i++) {
            double d = Math.abs(got[i] - ref[i]);
            if (d > atol + rtol * Math.abs(ref[i]) && (worst < 0 || d > Math.abs(got[worst] - ref[worst]))) {
                worst = i;
            }
            maxDiff = Math.max(maxDiff, d);
        }
        final int w = worst;
        final double md = maxDiff;
        assertTrue(w < 0, () -> what + ": index " + w + ": reference " + ref[w] + ", got " + got[w] + ", max diff " + md
                + " (atol " + atol + ", rtol " + rtol + ")");
    }

    @org.junit.jupiter.api.Test
    void theComparisonCatchesABackendThatIsSlightlyOff() {
        // a backend whose LSTM backward is 0.1% off must not pass as equivalent: the layers' lstmSequenceBackward
        // returning dA of every step 0.1% too large, and so dh0 (what flows from the decoder into the encoder),
        // which TimeLSTM.dh() multiplies out of dA_0 with gemmPacked. (dA alone, scaled alike in every LSTM, would
        // mostly be undone by the step's global-norm clip.)
        Case c = cases().filter(n -> n.getName().equals("AttentionSeq2seq")).findFirst().orElseThrow().getPayload();
        Backend reference = TestBackends.reference();
        Backend off = org.seq4j.layers.PerturbedBackend.wrap(
                org.seq4j.layers.PerturbedBackend.wrap(reference, "lstmSequenceBackward", 0, 1.001f),
                "gemmPacked", 0, 1.001f);
        Trace ref = run(reference, c);
        Trace got = run(off, c);
        org.junit.jupiter.api.Assertions.assertThrows(org.opentest4j.AssertionFailedError.class, () -> {
            for (int s = 0; s < STEPS; s++) {
                assertClose("clipped gradients of step " + s, ref.grads().get(s), got.grads().get(s), GRAD_ATOL, GRAD_RTOL);
            }
        }, "gradients 0.1% off must fail the comparison");
    }

    @org.junit.jupiter.api.Test
    void theComparisonCatchesAGruBackwardThatIsSlightlyOff() {
        // the same for the GRU: its backward 0.1% off, in the per-step loop (the cell backward's dA of z and of the
        // candidate) and in the whole-sequence call over packed blocks (dA of every step and dh0, as for the LSTM)
        Case c = cases().filter(n -> n.getName().equals("AttentionSeq2seq GRU")).findFirst().orElseThrow().getPayload();
        Backend reference = TestBackends.reference();
        Backend off = org.seq4j.layers.PerturbedBackend.wrap(org.seq4j.layers.PerturbedBackend.wrap(
                org.seq4j.layers.PerturbedBackend.wrap(reference, "gruCellBackward", 0, 1.001f),
                "gruSequenceBackward", 0, 1.001f), "gruSequenceBackward", 1, 1.001f);
        Trace ref = run(reference, c);
        Trace got = run(off, c);
        org.junit.jupiter.api.Assertions.assertThrows(org.opentest4j.AssertionFailedError.class, () -> {
            for (int s = 0; s < STEPS; s++) {
                assertClose("clipped gradients of step " + s, ref.grads().get(s), got.grads().get(s), GRAD_ATOL, GRAD_RTOL);
            }
        }, "gradients 0.1% off must fail the comparison");
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("backendsAndCases")
    void trainingStepsMatchTheReference(String backendName, Case c) {
        Backend backend = TestBackends.get(backendName);
        Trace ref = run(TestBackends.reference(), c);
        Trace got = run(backend, c);
        for (int s = 0; s < STEPS; s++) {
            assertClose("loss of step " + s, new float[] {ref.losses()[s]}, new float[] {got.losses()[s]}, 0, LOSS_RTOL);
            assertClose("clipped gradients of step " + s, ref.grads().get(s), got.grads().get(s), GRAD_ATOL, GRAD_RTOL);
        }
        for (int i = 0; i < ref.params().size(); i++) {
            assertClose("parameter " + i + " (declaration order, steps concatenated)", ref.params().get(i),
                    got.params().get(i), PARAM_ATOL, PARAM_RTOL);
        }
    }
}
