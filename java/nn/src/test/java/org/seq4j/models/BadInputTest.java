// Bad input gives a clear exception that names what was wrong and what was expected: shapes and dtypes of
// model inputs (with N, T, V), ids outside the vocabulary, misuse of the parameter store and optimizers,
// and a NaN loss where the loss is read.
package org.seq4j.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.layers.Cell;
import org.seq4j.layers.Init;
import org.seq4j.layers.ParameterStore;
import org.seq4j.optim.Adam;
import org.seq4j.optim.NonFiniteLossException;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class BadInputTest {
    static final int V = 13, D = 4, H = 5, N = 3;
    Backend backend;
    Arena arena;
    Random rng;

    @BeforeEach
    void setUp() {
        backend = TestBackends.reference();
        arena = Arena.ofConfined();
        rng = new Random(3);
    }

    @AfterEach
    void tearDown() {
        arena.close();
    }

    private static void assertMessage(Throwable e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message should mention '" + p + "': " + e.getMessage());
        }
    }

    private Tensor ids(int n, int t) {
        return ModelTesting.randomIds(backend, arena, rng, n, t, V);
    }

    /**
     * Seq2seq's ts: a label of -1 is ignored in the last column (the loss is that of the answers one shorter), and
     * refused in the columns before it, which are also the decoder's inputs, with a message that says so (the doc said
     * "label -1 is ignored", the refusal only "outside the vocabulary").
     */
    @Test
    void seq2seqIgnoresLabelMinusOneOnlyInTheLastColumnAndSaysSo() {
        try (Seq2seq model = new Seq2seq(backend, V, D, H, 1)) {
            Tensor xs = ids(2, 3);
            float shorter = model.forward(xs, ModelTesting.ids(backend, arena, new int[] {1, 2, 3, 4, 5, 6}, 2, 3));
            float ignored = model.forward(xs, ModelTesting.ids(backend, arena, new int[] {1, 2, 3, -1, 4, 5, 6, -1},
                    2, 4));
            assertEquals(shorter, ignored, 1e-6f, "a -1 in the last column is ignored");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.forward(xs,
                    ModelTesting.ids(backend, arena, new int[] {1, 2, -1, 3, 4, 5, 6, 7}, 2, 4)));
            assertMessage(e, "Seq2seq.forward: ts (2, 4) holds a token id outside the vocabulary",
                    "-1 is ignored only in the last column ts[:, -1]", "decoder's inputs");
        }
    }

    /** An end id that is also skipped could never end a hypothesis: refused as contradictory, not run as "no end". */
    @Test
    void languageModelBeamSearchRefusesAnEndIdItAlsoSkips() {
        try (Rnnlm model = new Rnnlm(backend, V, D, H, 1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> model.beamSearch(new int[][] {{1}}, 3, 2, 0, 4, 2, 4));
            assertMessage(e, "Rnnlm.beamSearch: end id 4 is also in skipIds", "-1 for none");
            assertEquals(2, model.beamSearch(new int[][] {{1}}, 3, 2, 0, 4, 2).sequences()[0].length);
        }
    }

    @Test
    void seq2seqRejectsWrongShapesNamingNTV() {
        try (Seq2seq model = new Seq2seq(backend, V, D, H, 1)) {
            Tensor xs = ids(N, 5);
            Tensor floats = ModelTesting.floats(backend, arena, new float[N * 5], N, 5);
            assertMessage(assertThrows(IllegalArgumentException.class, () -> model.forward(floats, ids(N, 4))),
                    "Seq2seq.forward", "xs", "(N, T) int32", "V=13");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> model.forward(xs, ids(N + 1, 4))),
                    "ts", "N=3");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> model.forward(xs, ids(N, 1))),
                    "ts", "T >= 2");
            Tensor flat = ModelTesting.ids(backend, arena, new int[N * 5], N * 5, 1).view(N * 5);
            assertMessage(assertThrows(IllegalArgumentException.class, () -> model.forward(flat, ids(N, 4))),
                    "(N, T)", "(15,)");
        }
    }

    @Test
    void seq2seqRejectsIdsOutsideTheVocabulary() {
        try (AttentionSeq2seq model = new AttentionSeq2seq(backend, V, D, H, 1)) {
            int[] x = new int[N * 5];
            x[7] = 99;
            Tensor bad = ModelTesting.ids(backend, arena, x, N, 5);
            assertMessage(assertThrows(IllegalArgumentException.class, () -> model.forward(bad, ids(N, 4))),
                    "xs", "outside the vocabulary", "V=13", "99");
            int[] t = new int[N * 4];
            t[5] = 13;
            Tensor badT = ModelTesting.ids(backend, arena, t, N, 4);
            assertMessage(assertThrows(IllegalArgumentException.class, () -> model.forward(ids(N, 5), badT)),
                    "ts", "outside the vocabulary", "13");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> model.generate(ids(N, 5), V, 3)),
                    "start id 13");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> model.generate(new int[][] {{1, 2}, {3}}, 0, 3)), "question 1");
            // named by the call, as every other refusal there (it said "beamSearch: question 1 has ...")
            assertTrue(assertThrows(IllegalArgumentException.class, () -> model.beamSearch(new int[][] {{1, 2}, {3}}, 0,
                    3, 2)).getMessage().startsWith(model.getClass().getSimpleName() + ".beamSearch: question 1 has 1 "
                    + "ids but question 0 has 2"));
        }
    }

    /**
     * Greedy generation brings its (length, N) ids back to the host in one int[]: length * N above what an array
     * holds is refused before the decoder allocates (as an int product it wrapped to a negative or short array, after
     * the decoder had filled gigabytes). Not run without the check: that would allocate 8 GiB and loop 2^30 steps.
     */
    @Test
    void generationTooLongForOneHostArrayIsRefusedUpFront() {
        try (AttentionSeq2seq model = new AttentionSeq2seq(backend, V, D, H, 1)) {
            int length = Integer.MAX_VALUE / 2 + 1;
            assertMessage(assertThrows(IllegalArgumentException.class, () -> model.generate(ids(N, 5), 0, length)),
                    "generate: ids (length x N) = " + length + " x " + N, "one Java array");
        }
    }

    /**
     * A forward that throws after a good one leaves nothing for backward to follow, and a backward is one per forward:
     * a second one is refused. The failing forward here gets as far as the encoder (new questions) and stops at the
     * decoder's first input, an id outside the vocabulary: a backward then would have sent the earlier forward's
     * decoder gradient into the encoder's new activations, a wrong gradient without an error.
     */
    @Test
    void backwardFollowsOnlyAForwardThatReturned() {
        try (Seq2seq model = new Seq2seq(backend, V, D, H, 1)) {
            Tensor xs = ids(N, 5), ts = ids(N, 4);
            model.forward(xs, ts);
            int[] badStart = new int[N * 4];
            badStart[0] = V;   // row 0's first decoder input
            Tensor otherXs = ids(N, 5), badTs = ModelTesting.ids(backend, arena, badStart, N, 4);
            assertMessage(assertThrows(IllegalArgumentException.class, () -> model.forward(otherXs, badTs)),
                    "ts", "outside the vocabulary");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> model.forward(xs, ids(N + 1, 4))), "N=3");
            assertMessage(assertThrows(IllegalStateException.class, model::backward), "Seq2seq.backward before forward");
            model.forward(xs, ts);
            model.backward();
            // as a layer says it: "before forward" denied the forward that ran
            assertMessage(assertThrows(IllegalStateException.class, model::backward),
                    "Seq2seq.backward: already ran for this forward; run forward again");
        }
    }

    /**
     * A stateful language model whose forward throws after its network ran (an id outside the vocabulary in ts)
     * starts the next batch from a reset state, as after resetState(), not from wherever the refused batch left it.
     */
    @Test
    void aRefusedBatchResetsTheCarriedState() {
        Tensor x1 = ids(N, 5), t1 = ids(N, 5), x2 = ids(N, 5), x3 = ids(N, 5), t3 = ids(N, 5);
        int[] bad = new int[N * 5];
        bad[N * 5 - 1] = V;   // the last target of the last row
        Tensor badTs = ModelTesting.ids(backend, arena, bad, N, 5);
        try (Rnnlm refused = new Rnnlm(backend, V, D, H, 1); Rnnlm reset = new Rnnlm(backend, V, D, H, 1)) {
            refused.forward(x1, t1);
            assertThrows(IllegalArgumentException.class, () -> refused.forward(x2, badTs));
            reset.forward(x1, t1);
            reset.resetState();
            assertEquals(reset.forward(x3, t3), refused.forward(x3, t3), "the next batch after a refused one");
        }
    }

    /** Weights written between a forward and its backward (a load, a step) make that backward refuse: forward again. */
    @Test
    void backwardRefusesWeightsChangedSinceItsForward() {
        try (Seq2seq model = new Seq2seq(backend, V, D, H, 1)) {
            Tensor xs = ids(N, 5), ts = ids(N, 4);
            model.forward(xs, ts);
            model.store().copyIn("decoder.affine.b", new float[V]);
            assertMessage(assertThrows(IllegalStateException.class, model::backward), "Seq2seq.backward",
                    "weights changed since its forward");
            model.forward(xs, ts);
            model.backward();
        }
    }

    /**
     * A weight written through the backend between a forward and its backward, without ParameterStore.valuesWritten
     * (the store's version does not move): the backward is refused as after a copyIn, by the values' write count
     * (Tensor.writes), nothing added. It ran, and added the gradients of the forward's activations taken with the new
     * weights, which no forward computed, without a word.
     */
    @Test
    void backwardRefusesWeightsWrittenThroughTheBackendSinceItsForward() {
        try (Seq2seq model = new Seq2seq(backend, V, D, H, 1)) {
            Tensor xs = ids(N, 5), ts = ids(N, 4);
            model.forward(xs, ts);
            backend.copyIn(model.parameter("decoder.affine.b").value(), new float[V]);
            assertMessage(assertThrows(IllegalStateException.class, model::backward), "Seq2seq.backward",
                    "weights changed since its forward");
            assertEquals(0f, model.store().gradNorm(), "nothing added");
            model.forward(xs, ts);
            model.backward();
        }
    }

    /**
     * A model copies its batch into time-major buffers of its own at the forward, and its layers keep those: a batch
     * refilled between the forward and the backward (the next one copied in early) leaves the gradients exactly those of
     * the batch the forward saw. (A layer given the caller's tensor itself refuses such a backward instead:
     * WrittenInputBackwardTest.)
     */
    @Test
    void aBatchRefilledAfterTheForwardLeavesTheModelsGradientsAsTheyWere() {
        for (int which = 0; which < 2; which++) {
            try (Seq2seq refilled = new Seq2seq(backend, V, D, H, 1); Seq2seq kept = new Seq2seq(backend, V, D, H, 1)) {
                Tensor xs = ids(N, 5), ts = ids(N, 4);
                kept.forward(xs, ts);
                kept.backward();
                refilled.forward(xs, ts);
                Tensor batch = which == 0 ? xs : ts;
                backend.copyIn(batch, new int[(int) batch.size()]);
                refilled.backward();
                for (var p : kept.store().parameters()) {
                    assertArrayEquals(kept.store().copyOutGrad(p.name()), refilled.store().copyOutGrad(p.name()),
                            (which == 0 ? "xs" : "ts") + " refilled: " + p.name());
                }
            }
        }
    }

    @Test
    void languageModelRejectsMismatchedTargets() {
        try (Rnnlm model = new Rnnlm(backend, V, D, H, 1)) {
            assertMessage(assertThrows(IllegalArgumentException.class, () -> model.forward(ids(N, 6), ids(N, 5))),
                    "Rnnlm.forward", "ts", "N=3", "T=6");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> model.generate(new int[][] {{V}}, 3, LanguageModel.Sampling.ARGMAX, 1)), "outside the vocabulary");
            assertMessage(assertThrows(IllegalStateException.class, model::backward), "backward before forward");
        }
    }

    @Test
    void betterRnnlmNeedsDEqualToHForWeightTying() {
        assertMessage(assertThrows(IllegalArgumentException.class, () -> new BetterRnnlm(backend, V, 4, 6, 0.5f, 1)),
                "D (4)", "H (6)");
    }

    @Test
    void betterRnnlmRefusesADropoutRatioOutsideZeroToOneBeforeAllocatingItsParameters() {
        // the ratio was checked by TimeDropout only after the store was built: the refused model's store stayed open
        List<Arena> arenas = new ArrayList<>();
        Backend recording = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(),
                new Class<?>[] {Backend.class}, (proxy, method, args) -> {
                    if (method.getName().equals("allocate")) {
                        arenas.add((Arena) args[0]);
                    }
                    try {
                        return method.invoke(backend, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        for (float bad : new float[] {1f, -0.5f, Float.NaN}) {
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> new BetterRnnlm(recording, V, H, H, bad, Cell.GRU, 1)), "ratio", "[0, 1)", "" + bad);
        }
        for (Arena a : arenas) {
            assertFalse(a.scope().isAlive(), "memory of a refused BetterRnnlm is released");
        }
    }

    @Test
    void waveModelsRefuseAHiddenSizeWhoseGateColumnsOverflowAnInt() {
        // 4 * H wrapped: H = 2^29 + 1 was refused for a shape with -2147483644 columns, H = 2^30 + 1 for one of 4
        for (int h : new int[] {(1 << 29) + 1, (1 << 30) + 1}) {
            assertMessage(assertThrows(IllegalArgumentException.class, () -> new WavePredictor(backend, 1, h, 1)),
                    "H = " + h, "gate columns");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> new WaveSeq2seq(backend, 1, 1, h, 1)),
                    "H = " + h, "gate columns");
        }
    }

    /**
     * The peeky decoder's LSTM reads [h ; embedding], H + D columns: for a large D the int sum wrapped, and the
     * model was refused with "fan-in must be >= 1, got -2147483645". Now the message names both sizes and their sum,
     * before anything is allocated.
     */
    @Test
    void peekyRefusesAnInputWidthHPlusDThatOverflowsAnInt() {
        int d = Integer.MAX_VALUE - 1;
        for (Cell cell : Cell.values()) {
            assertMessage(assertThrows(IllegalArgumentException.class, () -> new PeekySeq2seq(backend, V, d, H, cell, 1)),
                    "PeekyDecoder", "decoder." + cell.lower() + ".Wx", "H + D = 5 + " + d + " = " + (5L + d),
                    "<= " + Integer.MAX_VALUE);
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> PeekyDecoder.declare(ParameterStore.builder(backend), "p.", cell, V, d, H)), "p." + cell.lower()
                    + ".Wx", "H + D");
        }
    }

    @Test
    void regressionModelsRejectWrongShapes() {
        try (WavePredictor model = new WavePredictor(backend, 1, H, 1);
             WaveSeq2seq s2s = new WaveSeq2seq(backend, 1, 1, H, 1)) {
            Tensor xs = ModelTesting.floats(backend, arena, new float[N * 6], N, 6, 1);
            Tensor ts3 = ModelTesting.floats(backend, arena, new float[N * 6], N, 6, 1);
            assertMessage(assertThrows(IllegalArgumentException.class, () -> model.forward(xs, ts3)),
                    "WavePredictor.forward", "(N=3, F=1)");
            Tensor xs2 = ModelTesting.floats(backend, arena, new float[N * 6 * 2], N, 6, 2);
            assertMessage(assertThrows(IllegalArgumentException.class, () -> s2s.forward(xs2, ts3)),
                    "WaveSeq2seq.forward", "xs", "F=1");
            // outputs that one float[] cannot hold are refused before the device allocates them (not run without the
            // check: 12 GiB and 2^30 steps)
            int length = Integer.MAX_VALUE / 2 + 1;
            for (RegressionModel m : new RegressionModel[] {model, s2s}) {
                assertMessage(assertThrows(IllegalArgumentException.class, () -> m.predict(xs, length)),
                        "predict: outputs (length x N x F) = " + length + " x " + N + " x 1", "one Java array");
            }
        }
    }

    @Test
    void aNaNLossIsReportedWithItsStep() {
        try (Seq2seq model = new Seq2seq(backend, V, D, H, 1)) {
            float[] w = model.store().copyOut("decoder.affine.b");
            w[0] = Float.NaN;
            model.store().copyIn("decoder.affine.b", w);
            float loss = model.forward(ids(N, 5), ids(N, 4));
            NonFiniteLossException e = assertThrows(NonFiniteLossException.class,
                    () -> NonFiniteLossException.requireFinite(loss, 41));
            assertMessage(e, "NaN", "step 41");
            assertEquals(41, e.step());
            assertEquals(2.5f, NonFiniteLossException.requireFinite(2.5f, 1), "a finite loss passes through");
            assertThrows(NonFiniteLossException.class, () -> NonFiniteLossException.requireFinite(Float.POSITIVE_INFINITY, 2));
        }
    }

    @Test
    void parameterStoreMisuse() {
        ParameterStore.Builder b = ParameterStore.builder(backend).declare("a", Init.zeros(), 2, 3);
        assertMessage(assertThrows(IllegalArgumentException.class, () -> b.declare("a", Init.zeros(), 4)),
                "declared twice");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> b.declare("z", Init.zeros(), 4, 0)),
                "(4, 0)");
        // sizes past one flat buffer, or past a long, are refused before anything is allocated
        ParameterStore.Builder big = ParameterStore.builder(backend).declare("W", Init.zeros(), 1 << 30)
                .declare("V", Init.zeros(), 1 << 30);
        assertMessage(assertThrows(IllegalArgumentException.class, () -> big.build(1)), "at least 2147483648 floats",
                "V (1073741824,)", "one flat buffer");
        ParameterStore.Builder huge = ParameterStore.builder(backend).declare("W", Init.zeros(), Integer.MAX_VALUE,
                Integer.MAX_VALUE, Integer.MAX_VALUE);
        assertMessage(assertThrows(IllegalArgumentException.class, () -> huge.build(1)), "overflows a long");
        try (ParameterStore store = b.declare("c", Init.normal(1), 4).build(1)) {
            assertMessage(assertThrows(IllegalArgumentException.class, () -> store.get("nope")), "nope", "[a, c]");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> store.copyIn("c", new float[3])),
                    "4 elements", "3 values");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> store.copyInAll(Map.of("a", new float[6], "x", new float[1]))),
                    "missing [c]", "unexpected [x]");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> store.copyInAll(Map.of("a", new float[5], "c", new float[4]))), "a (2, 3) needs 6 values, got 5");
        }
    }

    @Test
    void anOptimizerServesOneStore() {
        try (Seq2seq m1 = new Seq2seq(backend, V, D, H, 1); Seq2seq m2 = new Seq2seq(backend, V, D, H, 2);
             Adam adam = new Adam(0.001f)) {
            adam.step(m1.store());
            assertMessage(assertThrows(IllegalArgumentException.class, () -> adam.step(m2.store())),
                    "one optimizer per model");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> adam.setLearningRate(Float.NaN)),
                    "learning rate");
        }
    }

    @Test
    void aClosedModelSaysSo() {
        Seq2seq model = new Seq2seq(backend, V, D, H, 1);
        Tensor xs = ids(N, 5), ts = ids(N, 4);
        model.forward(xs, ts);
        model.close();
        assertMessage(assertThrows(IllegalStateException.class, () -> model.forward(xs, ts)), "already closed");
    }

    /** attentionWeights went past the model's guard: after close it handed out the closed layer's buffer. */
    @Test
    void aClosedAttentionModelHasNoAttentionWeights() {
        AttentionSeq2seq model = new AttentionSeq2seq(backend, V, D, H, 1);
        Tensor xs = ids(N, 5), ts = ids(N, 4);
        model.forward(xs, ts);
        model.attentionWeights();
        model.close();
        assertMessage(assertThrows(IllegalStateException.class, model::attentionWeights),
                "AttentionSeq2seq.attentionWeights: this AttentionSeq2seq is already closed");
    }

    /**
     * Lengths no Java array can hold (the JVM's largest is a few elements below Integer.MAX_VALUE): the language
     * models' generate allocated int[N][length] and beam search int[length][N*K] twice, unchecked, and the seq2seq
     * beam search did that after its encoder ran; each ended in an OutOfMemoryError ("Requested array size exceeds
     * VM limit"). Refused up front now, naming the product.
     */
    @Test
    void generationLengthsNoArrayCanHoldAreRefusedUpFront() {
        int max = Integer.MAX_VALUE;
        try (Rnnlm lm = new Rnnlm(backend, V, D, H, 1); Seq2seq s2s = new Seq2seq(backend, V, D, H, 1)) {
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> lm.generate(new int[][] {{1}}, max, LanguageModel.Sampling.ARGMAX, 1)),
                    "Rnnlm.generate", "ids (N x length) = 1 x " + max, "one Java array");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> lm.beamSearch(new int[][] {{1}}, max, 2, 0, -1)),
                    "Rnnlm.beamSearch", "(length x N x K) = " + max + " x 1 x 2", "one Java array");
            for (int k : new int[] {1, 2}) {
                assertMessage(assertThrows(IllegalArgumentException.class,
                        () -> s2s.beamSearch(new int[][] {{1, 2}}, 0, max, k)),
                        "Seq2seq.beamSearch", "(length x N x K) = " + max + " x 1 x " + k, "one Java array");
            }
        }
        // the largest length an int[] can have, and one more
        assertEquals(max - 8, HostArrays.length("op", "what", max - 8));
        assertMessage(assertThrows(IllegalArgumentException.class, () -> HostArrays.length("op", "what", max - 7)),
                "op: what = " + (max - 7), "more than the " + (max - 8) + " elements one Java array holds");
    }

    /**
     * An input holding +Infinity: the gates saturate and the loss is finite, but the gradients are NaN; clipping
     * measured a NaN norm and did nothing, and the optimizer's step made the weights NaN. The clip refuses it now,
     * before anything is written.
     */
    @Test
    void anInfiniteInputsNaNGradientsAreRefusedByTheClipBeforeAnyStep() {
        try (WavePredictor model = new WavePredictor(backend, 1, H, 1)) {
            Tensor xs = ModelTesting.floats(backend, arena,
                    new float[] {0.1f, 0.2f, Float.POSITIVE_INFINITY, 0.3f, 0, 0, 0, 0, 0, 0, 0, 0}, N, 4, 1);
            Tensor ts = ModelTesting.floats(backend, arena, new float[] {0.5f, 0.5f, 0.5f}, N, 1);
            model.forward(xs, ts);
            model.backward();
            String name = model.parameters().get(0).name();
            float[] weights = model.store().copyOut(name);
            float[] grads = model.store().copyOutGrad(name);
            org.seq4j.optim.NonFiniteGradientException e = assertThrows(
                    org.seq4j.optim.NonFiniteGradientException.class,
                    () -> org.seq4j.optim.ClipGrads.clip(model.store(), 5f));
            assertMessage(e, "clip: the gradient of ", "not finite", "nothing was updated");
            assertTrue(java.util.Arrays.equals(grads, model.store().copyOutGrad(name)), "gradients changed");
            assertTrue(java.util.Arrays.equals(weights, model.store().copyOut(name)), "weights changed");
        }
    }
}
