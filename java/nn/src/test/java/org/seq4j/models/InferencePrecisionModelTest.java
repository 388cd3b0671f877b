// Model.setInferencePrecision(BF16) end to end: a model's beam search (and so generate and Seq2seqEval) scores
// as an F32 twin whose every Wh was rounded to bfloat16 on the host, and not as the F32 model; training after a
// bf16 inference stays float32 (the same gradients as a twin that never used bf16); an optimizer step or a
// load of other weights is seen by the next inference; F32 (the default) is bit-identical to a model that never
// changed precision; models without LSTM or GRU refuse BF16. Every available backend.
package org.seq4j.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.backend.PackedMatrix;
import org.seq4j.backend.PackedMatrix.Precision;
import org.seq4j.layers.Cell;
import org.seq4j.optim.SGD;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class InferencePrecisionModelTest {
    static final int V = 13, D = 8, H = 24, N = 3, T_IN = 6, LEN = 5, K = 3;
    /** Log-probabilities summed over LEN steps: float rounding of the same products in another order. */
    static final double ATOL = 1e-4, RTOL = 1e-4;

    static Stream<Arguments> cases() {
        java.util.List<Named<Function<Backend, Model>>> models = java.util.List.of(
                Named.of("Seq2seq", b -> new Seq2seq(b, V, D, H, 1)),
                Named.of("PeekySeq2seq GRU", b -> new PeekySeq2seq(b, V, D, H, Cell.GRU, 1)),
                Named.of("AttentionSeq2seq", b -> new AttentionSeq2seq(b, V, D, H, 1)),
                Named.of("AttentionSeq2seq GRU", b -> new AttentionSeq2seq(b, V, D, H, Cell.GRU, 1)),
                Named.of("BidirectionalAttentionSeq2seq", b -> new AttentionSeq2seq(b, V, D, H, 1, true)),
                Named.of("Rnnlm", b -> new Rnnlm(b, V, D, H, 1)),
                Named.of("BetterRnnlm GRU", b -> new BetterRnnlm(b, V, H, H, 0.5f, Cell.GRU, 1)));
        return TestBackends.all().flatMap(b -> models.stream().map(m -> Arguments.of(b, m)));
    }

    private static final int[][] QUESTIONS = questions();

    private static int[][] questions() {
        Random rng = new Random(7);
        int[][] q = new int[N][T_IN];
        for (int[] row : q) {
            for (int j = 0; j < T_IN; j++) {
                row[j] = rng.nextInt(V);
            }
        }
        return q;
    }

    /** The K best answers of every question (prompt) with their log-probabilities. */
    private static Beam.Result beam(Model m) {
        return m instanceof Seq2seqModel s ? s.beamSearch(QUESTIONS, 0, LEN, K)
                : ((LanguageModel) m).beamSearch(QUESTIONS, LEN, K, 0, -1);
    }

    /** An F32 twin holding the values of {@code from}, every recurrent Wh rounded to bfloat16. */
    private static Model roundedTwin(Function<Backend, Model> make, Backend backend, Model from) {
        Model twin = make.apply(backend);
        Map<String, float[]> values = from.store().copyOutAll();
        int rounded = 0;
        for (Map.Entry<String, float[]> e : values.entrySet()) {
            if (e.getKey().endsWith(".Wh")) {
                float[] w = e.getValue();
                for (int i = 0; i < w.length; i++) {
                    w[i] = PackedMatrix.roundToBf16(w[i]);
                }
                rounded++;
            }
        }
        assertTrue(rounded >= 1, "the model has recurrent weights " + values.keySet());
        twin.store().copyInAll(values);
        return twin;
    }

    private static void assertSameScores(Beam.Result ref, Beam.Result got, String what) {
        for (int n = 0; n < N; n++) {
            assertArrayEquals(ref.sequences()[n][0], got.sequences()[n][0], what + ": best answer of question " + n);
            for (int k = 0; k < K; k++) {
                double r = ref.logProbs()[n][k], g = got.logProbs()[n][k];
                assertTrue(Math.abs(g - r) <= ATOL + RTOL * Math.abs(r), what + ": log p of question " + n + " beam " + k
                        + " is " + g + ", reference " + r);
            }
        }
    }

    private static double maxDiff(Beam.Result a, Beam.Result b) {
        double m = 0;
        for (int n = 0; n < N; n++) {
            m = Math.max(m, Math.abs(a.logProbs()[n][0] - b.logProbs()[n][0]));
        }
        return m;
    }

    /** One training step on a random batch: forward, backward, SGD. */
    private static void trainStep(Model m, Arena arena, SGD sgd) {
        Random rng = new Random(3);
        Backend b = m.backend();
        Tensor xs = ModelTesting.randomIds(b, arena, rng, N, T_IN, V);
        Tensor ts = ModelTesting.randomIds(b, arena, rng, N, m instanceof Seq2seqModel ? LEN + 1 : T_IN, V);
        m.forward(xs, ts);
        m.backward();
        sgd.step(m.store());
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void bf16InferenceScoresAsTheRoundedWeightsDo(String backendName, Function<Backend, Model> make) {
        Backend backend = TestBackends.get(backendName);
        try (Model m = make.apply(backend); Model untouched = make.apply(backend)) {
            ModelTesting.scramble(m, new Random(5), 0.5);
            ModelTesting.scramble(untouched, new Random(5), 0.5);
            assertEquals(Precision.F32, m.inferencePrecision(), "F32 is the default");
            Beam.Result f32 = beam(m);
            m.setInferencePrecision(Precision.BF16);
            assertEquals(Precision.BF16, m.inferencePrecision());
            Beam.Result bf16 = beam(m);
            try (Model twin = roundedTwin(make, backend, m)) {
                assertSameScores(beam(twin), bf16, "BF16 vs F32 over rounded Wh");
            }
            double d = maxDiff(f32, bf16);
            assertTrue(d > 1e-7, "BF16 inference must differ from F32 (the copy is used), max |diff log p| " + d);

            m.setInferencePrecision(Precision.F32);
            Beam.Result back = beam(m);
            // a search's path depends on its shapes alone (KeptPack): back to F32, the model's own first F32 answer
            Beam.Result never = beam(untouched);
            for (int n = 0; n < N; n++) {
                assertArrayEquals(f32.logProbs()[n], back.logProbs()[n], 0.0,
                        "F32 after BF16: bit-identical to its first F32 search");
                assertArrayEquals(never.logProbs()[n], f32.logProbs()[n], 0.0, "F32 is the plain path");
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void trainingAfterBf16InferenceStaysFloat32AndIsSeenByTheNextInference(String backendName,
                                                                            Function<Backend, Model> make) {
        Backend backend = TestBackends.get(backendName);
        try (Arena arena = Arena.ofConfined(); Model m = make.apply(backend); Model twin = make.apply(backend);
             SGD sgd = new SGD(0.5f); SGD twinSgd = new SGD(0.5f)) {
            ModelTesting.scramble(m, new Random(5), 0.5);
            ModelTesting.scramble(twin, new Random(5), 0.5);
            m.setInferencePrecision(Precision.BF16);
            beam(m);   // packs the weights
            trainStep(m, arena, sgd);
            trainStep(twin, arena, twinSgd);
            Map<String, float[]> trained = m.store().copyOutAll(), reference = twin.store().copyOutAll();
            for (String name : reference.keySet()) {
                TestBackends.assertSameRun(backend, reference.get(name), trained.get(name), name + ": the training "
                        + "step after a BF16 inference must be the float32 step");
            }
            try (Model rounded = roundedTwin(make, backend, m)) {
                assertSameScores(beam(rounded), beam(m), "after an optimizer step");
            }
            // loading other weights, as a checkpoint load does
            try (Model other = make.apply(backend)) {
                ModelTesting.scramble(other, new Random(6), 0.5);
                m.store().copyInAll(other.store().copyOutAll());
                try (Model rounded = roundedTwin(make, backend, m)) {
                    assertSameScores(beam(rounded), beam(m), "after loading other weights");
                }
            }
        }
    }

    /**
     * BF16 serves generate and beamSearch: SimpleRnnlm (a plain RNN) has no LSTM or GRU to pack, and the wave models,
     * LSTMs both, no generation to serve (README said "models without LSTM or GRU layers", which they are not).
     */
    @Test
    void modelsWithoutAnLstmOrGruInferencePathRefuseBf16() {
        Backend backend = TestBackends.reference();
        try (Model simple = new SimpleRnnlm(backend, V, D, H, 1); Model wave = new WavePredictor(backend, 1, H, 1);
             Model waves = new WaveSeq2seq(backend, 1, 1, H, 1)) {
            for (Model m : new Model[] {simple, wave, waves}) {
                UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                        () -> m.setInferencePrecision(Precision.BF16));
                assertTrue(e.getMessage().contains("BF16"), e.getMessage());
                assertEquals(Precision.F32, m.inferencePrecision(), "a refused precision is not kept");
                m.setInferencePrecision(Precision.F32);   // the default is always fine
            }
        }
    }
}
