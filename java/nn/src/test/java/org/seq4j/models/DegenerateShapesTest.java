// The newest models (GRU and LSTM seq2seq of every kind, bidirectional attention, the tied BetterRnnlm, the wave
// models) at degenerate and awkward shapes (V = 1 and 2, D = H = 1, N = T = 1, answers of one id; N and H of 3, 15,
// 17, 33: the tails of the AVX-512 and AVX2 kernels) on every backend against the java reference: a training step's
// loss and gradients, greedy answers, beam search of K = 1 (greedy's answers), K = V and K > V, BF16 inference
// (as the Wh rounded to bfloat16 in Java score), and central differences on the reference at the smallest shapes.
package org.seq4j.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.backend.PackedMatrix;
import org.seq4j.backend.PackedMatrix.Precision;
import org.seq4j.layers.Cell;
import org.seq4j.layers.GradientCheck;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class DegenerateShapesTest {
    // as TrainingStepEquivalenceTest: float32 sums in another order, grown through a few layers; the loss also within
    // ConformanceTest's 1e-6 absolute for softmaxCrossEntropyForward: a loss near 0 (p of the label 1 - 1e-6) is
    // log(sum) of a float sum near 1, whose rounding (2^-24) the native kernel keeps and the reference's double
    // does not
    static final double LOSS_ATOL = 1e-6, LOSS_RTOL = 1e-5, GRAD_ATOL = 1e-6, GRAD_RTOL = 1e-3;
    // summed log-probabilities over at most 3 steps, as InferencePrecisionModelTest's
    static final double LOGP_ATOL = 1e-4, LOGP_RTOL = 1e-4;

    /** V ids, embedding D, hidden H, batch N, question (or LM sequence) length TIN, answer length TOUT. */
    record Shape(int V, int D, int H, int N, int TIN, int TOUT) {
        @Override
        public String toString() {
            return "V=" + V + " D=" + D + " H=" + H + " N=" + N + " Tin=" + TIN + " Tout=" + TOUT;
        }
    }

    static final List<Shape> SHAPES = List.of(
            new Shape(1, 1, 1, 1, 1, 1),
            new Shape(2, 1, 1, 1, 1, 1),
            new Shape(2, 1, 3, 3, 1, 2),
            new Shape(3, 2, 15, 17, 2, 1),
            new Shape(5, 3, 17, 1, 3, 3),
            new Shape(4, 2, 33, 33, 1, 2),
            new Shape(2, 3, 1, 33, 4, 1),
            new Shape(7, 1, 3, 17, 1, 1),
            new Shape(1, 2, 3, 17, 2, 2),    // V = 1 below T*N: the embedding's projection folded
            // one question over 9 steps: the packed backward at N = 1 (KeptPack.packs)
            new Shape(3, 2, 1, 1, 9, 2),
            new Shape(2, 1, 15, 1, 9, 1));

    enum Kind {
        SEQ2SEQ, PEEKY, ATTENTION, BI_ATTENTION, RNNLM, BETTER_RNNLM, WAVE_SEQ2SEQ, WAVE_PREDICTOR;

        Model make(Backend b, Shape s, Cell cell) {
            return switch (this) {
                case SEQ2SEQ -> new Seq2seq(b, s.V, s.D, s.H, cell, 1);
                case PEEKY -> new PeekySeq2seq(b, s.V, s.D, s.H, cell, 2);
                case ATTENTION -> new AttentionSeq2seq(b, s.V, s.D, s.H, cell, 3);
                case BI_ATTENTION -> new AttentionSeq2seq(b, s.V, s.D, 2 * s.H, cell, 4, true);   // H per direction
                case RNNLM -> new Rnnlm(b, s.V, s.D, s.H, cell, 5);
                case BETTER_RNNLM -> new BetterRnnlm(b, s.V, s.H, s.H, 0.5f, cell, 6);   // tied: D = H
                case WAVE_SEQ2SEQ -> new WaveSeq2seq(b, s.D, s.D, s.H, 7);
                case WAVE_PREDICTOR -> new WavePredictor(b, s.D, s.H, 8);
            };
        }

        boolean lstmOnly() {
            return this == WAVE_SEQ2SEQ || this == WAVE_PREDICTOR;
        }
    }

    static Stream<Arguments> modelsAndShapes() {
        return Stream.of(Kind.values()).flatMap(k -> Stream.of(Cell.values())
                .filter(c -> !k.lstmOnly() || c == Cell.LSTM)
                .flatMap(c -> SHAPES.stream().map(s -> Arguments.of(k, c, s))));
    }

    static Stream<Arguments> everyBackend() {
        return TestBackends.all().flatMap(b -> modelsAndShapes().map(a -> Arguments.of(b, a.get()[0], a.get()[1],
                a.get()[2])));
    }

    /** everyBackend less the wave models, which have no BF16 inference (a source, not an assumption: no skips). */
    static Stream<Arguments> everyBackendWithBf16() {
        return everyBackend().filter(a -> !((Kind) a.get()[1]).lstmOnly());
    }

    /** The shapes with V = 1 or H = 1. */
    static Stream<Arguments> smallestVocabularyOrState() {
        return modelsAndShapes().filter(a -> ((Shape) a.get()[2]).V == 1 || ((Shape) a.get()[2]).H == 1);
    }

    private static int[][] ids(Random rng, int n, int t, int v) {
        int[][] a = new int[n][t];
        for (int[] row : a) {
            for (int j = 0; j < t; j++) {
                row[j] = rng.nextInt(v);
            }
        }
        return a;
    }

    private static float[][][] values(Random rng, int n, int t, int f) {
        float[][][] a = new float[n][t][f];
        for (float[][] row : a) {
            for (float[] x : row) {
                for (int j = 0; j < f; j++) {
                    x[j] = (float) Math.sin(rng.nextDouble() * 6);
                }
            }
        }
        return a;
    }

    private static Tensor idTensor(Backend b, Arena arena, int[][] a) {
        int n = a.length, t = a[0].length;
        int[] flat = new int[n * t];
        for (int i = 0; i < n; i++) {
            System.arraycopy(a[i], 0, flat, i * t, t);
        }
        return ModelTesting.ids(b, arena, flat, n, t);
    }

    private static Tensor valueTensor(Backend b, Arena arena, float[][][] a) {
        int n = a.length, t = a[0].length, f = a[0][0].length;
        float[] flat = new float[n * t * f];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < t; j++) {
                System.arraycopy(a[i][j], 0, flat, (i * t + j) * f, f);
            }
        }
        return ModelTesting.floats(b, arena, flat, n, t, f);
    }

    /** The batch (xs, ts) of shape s for kind k, as host arrays: int[][] or float[][][]. */
    private static Object[] batch(Kind k, Shape s) {
        Random rng = new Random(31);
        return switch (k) {
            case RNNLM, BETTER_RNNLM -> new Object[] {ids(rng, s.N, s.TIN, s.V), ids(rng, s.N, s.TIN, s.V)};
            case WAVE_SEQ2SEQ -> new Object[] {values(rng, s.N, s.TIN, s.D), values(rng, s.N, s.TOUT, s.D)};
            case WAVE_PREDICTOR -> new Object[] {values(rng, s.N, s.TIN, s.D), values(rng, s.N, 1, s.D)};
            default -> new Object[] {ids(rng, s.N, s.TIN, s.V), ids(rng, s.N, s.TOUT + 1, s.V)};
        };
    }

    private static Tensor on(Backend b, Arena arena, Object host, boolean wavePredictorTs) {
        if (host instanceof int[][] a) {
            return idTensor(b, arena, a);
        }
        float[][][] a = (float[][][]) host;
        Tensor t = valueTensor(b, arena, a);
        return wavePredictorTs ? t.view(a.length, a[0][0].length) : t;
    }

    private static float forward(Model m, Kind k, Shape s, Arena arena) {
        Object[] host = batch(k, s);
        Backend b = m.backend();
        return m.forward(on(b, arena, host[0], false), on(b, arena, host[1], k == Kind.WAVE_PREDICTOR));
    }

    /** What one backend answers for (k, cell, s): loss, gradients, greedy answers, beams, samples, predictions. */
    record Answers(float loss, float[] grads, int[][] greedy, Beam.Result[] beams, float[][] predicted,
                   int[][] sampled, Beam.Result[] ended) {
    }

    /** Beam widths to try: 1, V, and V + 1 where V^length sequences leave room for it. */
    private static int[] widths(Shape s, int length) {
        double sequences = Math.pow(s.V, length);
        return sequences >= s.V + 1 ? new int[] {1, s.V, s.V + 1} : s.V > 1 ? new int[] {1, s.V} : new int[] {1};
    }

    private static Beam.Result beam(Model m, Shape s, int[][] xs, int k) {
        return m instanceof Seq2seqModel q ? q.beamSearch(xs, 0, s.TOUT, k)
                : ((LanguageModel) m).beamSearch(xs, s.TOUT, k, 0, -1);
    }

    private static Answers run(Backend b, Kind k, Cell cell, Shape s) {
        try (Arena arena = Arena.ofConfined(); Model m = k.make(b, s, cell)) {
            ModelTesting.scramble(m, new Random(17), 0.8);
            float loss = forward(m, k, s, arena);
            m.backward();
            float[] grads = new float[(int) m.store().grads().size()];
            b.copyOut(grads, m.store().grads());
            if (m instanceof RegressionModel r) {
                float[][][] xs = (float[][][]) batch(k, s)[0];
                float[][] flat = new float[xs.length][];
                for (int n = 0; n < xs.length; n++) {
                    flat[n] = new float[s.TIN * s.D];
                    for (int t = 0; t < s.TIN; t++) {
                        System.arraycopy(xs[n][t], 0, flat[n], t * s.D, s.D);
                    }
                }
                return new Answers(loss, grads, null, null, r.predict(flat, s.TOUT), null, null);
            }
            int[][] xs = ids(new Random(41), s.N, s.TIN, s.V);
            int[][] greedy = m instanceof Seq2seqModel q ? q.generate(xs, 0, s.TOUT)
                    : ((LanguageModel) m).generate(xs, s.TOUT, LanguageModel.Sampling.ARGMAX, 0);
            int[] w = widths(s, s.TOUT);
            Beam.Result[] beams = new Beam.Result[w.length];
            for (int i = 0; i < w.length; i++) {
                beams[i] = beam(m, s, xs, w[i]);
            }
            int[][] sampled = null;
            Beam.Result[] ended = null;
            if (m instanceof LanguageModel l) {
                sampled = l.generate(xs, s.TOUT, LanguageModel.Sampling.SAMPLE, 11);
                // with end id 0 and a length penalty: as many sequences to rank as without an end id, to K = V + 1
                ended = new Beam.Result[w.length];
                for (int i = 0; i < w.length; i++) {
                    ended[i] = l.beamSearch(xs, s.TOUT, w[i], 0.7, 0);
                }
            }
            return new Answers(loss, grads, greedy, beams, null, sampled, ended);
        }
    }

    private static void assertLogProbs(String what, Beam.Result ref, Beam.Result got) {
        for (int n = 0; n < ref.logProbs().length; n++) {
            for (int j = 0; j < ref.logProbs()[n].length; j++) {
                assertArrayEquals(ref.sequences()[n][j], got.sequences()[n][j], what + ": question " + n + " beam "
                        + j);
                double r = ref.logProbs()[n][j], g = got.logProbs()[n][j];
                assertTrue(Math.abs(g - r) <= LOGP_ATOL + LOGP_RTOL * Math.abs(r), what + ": log p of question " + n
                        + " beam " + j + " is " + g + ", reference " + r);
            }
        }
    }

    @ParameterizedTest(name = "{0} {1} {2} {3}")
    @MethodSource("everyBackend")
    void everyBackendAnswersAsTheReference(String backendName, Kind k, Cell cell, Shape s) {
        Backend backend = TestBackends.get(backendName);
        Answers ref = run(TestBackends.reference(), k, cell, s);
        Answers got = run(backend, k, cell, s);
        TrainingStepEquivalenceTest.assertClose("loss", new float[] {ref.loss}, new float[] {got.loss}, LOSS_ATOL,
                LOSS_RTOL);
        TrainingStepEquivalenceTest.assertClose("gradients", ref.grads, got.grads, GRAD_ATOL, GRAD_RTOL);
        if (ref.predicted != null) {
            for (int n = 0; n < s.N; n++) {
                TrainingStepEquivalenceTest.assertClose("predicted row " + n, ref.predicted[n], got.predicted[n], 1e-5,
                        1e-4);
            }
            return;
        }
        int[] w = widths(s, s.TOUT);
        for (int n = 0; n < s.N; n++) {
            assertArrayEquals(ref.greedy[n], got.greedy[n], "greedy answer of question " + n);
            if (ref.sampled != null) {
                assertArrayEquals(ref.sampled[n], got.sampled[n], "sampled continuation of prompt " + n);
            }
            // K = 1 is greedy on every backend
            assertArrayEquals(got.greedy[n], got.beams[0].sequences()[n][0], "K = 1 against greedy, question " + n);
        }
        for (int i = 0; i < w.length; i++) {
            assertEquals(w[i], got.beams[i].sequences()[0].length, "K = " + w[i] + " answers");
            assertLogProbs("K = " + w[i], ref.beams[i], got.beams[i]);
            if (ref.ended != null) {
                assertLogProbs("end id 0, K = " + w[i], ref.ended[i], got.ended[i]);
            }
        }
        if (s.TOUT == 2 && w.length == 3) {
            // over two steps a beam of K >= V keeps every first id, so its K answers are the K likeliest of all V^2:
            // the first K of the exhaustive beam (K = V^2), on this backend
            Beam.Result all;
            try (Model m = k.make(backend, s, cell)) {
                ModelTesting.scramble(m, new Random(17), 0.8);
                all = beam(m, s, ids(new Random(41), s.N, s.TIN, s.V), s.V * s.V);
            }
            Beam.Result wide = got.beams[2];
            for (int n = 0; n < s.N; n++) {
                for (int j = 0; j < w[2]; j++) {
                    assertArrayEquals(all.sequences()[n][j], wide.sequences()[n][j], "K = V + 1 against the exhaustive "
                            + "beam, question " + n + " answer " + j);
                    assertEquals(all.logProbs()[n][j], wide.logProbs()[n][j], LOGP_ATOL, "log p, question " + n);
                }
            }
        }
    }

    /** The Wh of every LSTM and GRU rounded to bfloat16 in Java, into a float32 twin of the same kind. */
    @ParameterizedTest(name = "{0} {1} {2} {3}")
    @MethodSource("everyBackendWithBf16")
    void bf16BeamsScoreAsTheWeightsRoundedInJava(String backendName, Kind k, Cell cell, Shape s) {
        Backend backend = TestBackends.get(backendName);
        try (Model m = k.make(backend, s, cell); Model twin = k.make(backend, s, cell)) {
            ModelTesting.scramble(m, new Random(19), 0.8);
            Map<String, float[]> values = m.store().copyOutAll();
            values.replaceAll((name, v) -> {
                if (name.endsWith(".Wh")) {
                    for (int i = 0; i < v.length; i++) {
                        v[i] = PackedMatrix.roundToBf16(v[i]);
                    }
                }
                return v;
            });
            twin.store().copyInAll(values);
            int[][] xs = ids(new Random(43), s.N, s.TIN, s.V);
            Beam.Result f32 = beam(m, s, xs, 1);
            m.setInferencePrecision(Precision.BF16);
            for (int w : widths(s, s.TOUT)) {
                assertLogProbs("BF16 K = " + w, beam(twin, s, xs, w), beam(m, s, xs, w));
            }
            if (s.V > 1 && s.TIN + s.TOUT >= 3) {
                // some step multiplies a state that is not zero by Wh: the bfloat16 copy must be the one used
                double d = 0;
                Beam.Result bf16 = beam(m, s, xs, 1);
                for (int n = 0; n < s.N; n++) {
                    d = Math.max(d, Math.abs(bf16.logProbs()[n][0] - f32.logProbs()[n][0]));
                }
                assertTrue(d > 0, "BF16 inference must differ from F32 (the copy is used), max |diff log p| " + d);
            }
        }
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("smallestVocabularyOrState")
    void answerLengthZeroIsRefused(Kind k, Cell cell, Shape s) {
        try (Model m = k.make(TestBackends.reference(), s, cell)) {
            if (m instanceof Seq2seqModel q) {
                int[][] xs = ids(new Random(1), s.N, s.TIN, s.V);
                assertThrows(IllegalArgumentException.class, () -> q.generate(xs, 0, 0));
                assertThrows(IllegalArgumentException.class, () -> q.beamSearch(xs, 0, 0, 1));
                try (Arena arena = Arena.ofConfined()) {
                    Tensor x = idTensor(m.backend(), arena, xs), t = idTensor(m.backend(), arena, ids(new Random(2),
                            s.N, 1, s.V));
                    assertThrows(IllegalArgumentException.class, () -> m.forward(x, t), "ts of one column");
                }
            } else if (m instanceof LanguageModel l) {
                int[][] xs = ids(new Random(1), s.N, s.TIN, s.V);
                assertThrows(IllegalArgumentException.class, () -> l.beamSearch(xs, 0, 1, 0, -1));
            }
        }
    }

    /** Zero sizes: each is refused by the model's constructor in its own name (the message named no model). */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("modelsAndCells")
    void sizesBelowOneAreRefusedNamingTheModel(Kind k, Cell cell) {
        String model = switch (k) {
            case SEQ2SEQ -> "Seq2seq";
            case PEEKY -> "PeekySeq2seq";
            case ATTENTION, BI_ATTENTION -> "AttentionSeq2seq";
            case RNNLM -> "Rnnlm";
            case BETTER_RNNLM -> "BetterRnnlm";
            case WAVE_SEQ2SEQ -> "WaveSeq2seq";
            case WAVE_PREDICTOR -> "WavePredictor";
        };
        for (Shape s : List.of(new Shape(0, 1, 1, 1, 1, 1), new Shape(1, 0, 1, 1, 1, 1), new Shape(1, 1, 0, 1, 1, 1))) {
            if (k.lstmOnly() && s.V == 0 || k == Kind.BETTER_RNNLM && s.D == 0) {
                continue;   // the wave models have no V; BetterRnnlm's D is its H
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> k.make(TestBackends.reference(), s, cell).close(), s.toString());
            assertTrue(e.getMessage().startsWith(model + ":") || e.getMessage().startsWith(model + " needs"),
                    s + ": " + e.getMessage());
        }
    }

    static Stream<Arguments> modelsAndCells() {
        return Stream.of(Kind.values()).flatMap(k -> Stream.of(Cell.values())
                .filter(c -> !k.lstmOnly() || c == Cell.LSTM).map(c -> Arguments.of(k, c)));
    }

    static Stream<Arguments> smallest() {
        return modelsAndShapes().filter(a -> ((Shape) a.get()[2]).H <= 3 && ((Shape) a.get()[2]).N <= 3);
    }

    // central differences in float32 losses of order 1 at eps 1e-2, as Seq2seqGradientTest's tolerance
    static final GradientCheck.Tolerance TOL = new GradientCheck.Tolerance(1e-3, 1e-2);

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("smallest")
    void gradientsAreTheCentralDifferencesOfTheLoss(Kind k, Cell cell, Shape s) {
        Backend b = TestBackends.reference();
        try (Arena arena = Arena.ofConfined(); Model m = k.make(b, s, cell)) {
            m.setTraining(false);   // BetterRnnlm's dropout would draw new masks at every forward
            ModelTesting.scramble(m, new Random(23), 0.8);
            Object[] host = batch(k, s);
            Tensor xs = on(b, arena, host[0], false), ts = on(b, arena, host[1], k == Kind.WAVE_PREDICTOR);
            GradientCheck gc = ModelTesting.checkModel(m, () -> {
                if (m instanceof AbstractRnnlm l) {
                    l.resetState();   // a language model carries its state from one forward to the next
                }
                return m.forward(xs, ts);
            }, TOL, 40);
            if (s.V == 1 && !(m instanceof RegressionModel)) {
                // one class: the loss is 0 whatever the weights, so is every gradient
                for (GradientCheck.Result r : gc.results()) {
                    assertTrue(r.ok() && r.maxAbsAnalytic() == 0, r.toString());
                }
                return;
            }
            // (some gradients are 0 here by the shape: an encoder's Wh over one step from zeros)
            StringBuilder all = new StringBuilder();
            boolean ok = true;
            for (GradientCheck.Result r : gc.results()) {
                ok &= r.ok();
                all.append("\n  ").append(r);
            }
            assertTrue(ok, "gradient check failed (" + TOL + "):" + all);
        }
    }
}
