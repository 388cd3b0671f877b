// Generation: greedy seq2seq decoding equals the argmax of the teacher-forced scores of its own answer,
// batched generation equals one question at a time, and language-model generation is greedy (or seeded
// sampling) and never produces a skipped id. Sampling draws from the softmax (renormalised over the ids not skipped),
// and a prompt's sampled words do not depend on the other prompts of its batch (one Random drawn in turn by every row
// made them). Java backend, scrambled parameters so outputs vary.
package org.seq4j.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.layers.ParameterStore;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class GenerateTest {
    static final int V = 9, D = 5, H = 6, N = 4, TIN = 5, LENGTH = 6, START = 8;

    /** A seq2seq model and how to build its encoder and decoder over the same parameters. */
    record Kind(Function<Backend, Seq2seqModel> model, Function<ParameterStore, SequenceEncoder> encoder,
                Function<ParameterStore, SequenceDecoder> decoder) {
    }

    static Stream<Named<Kind>> kinds() {
        Backend b = TestBackends.reference();
        return Stream.of(
                Named.of("Seq2seq", new Kind(be -> new Seq2seq(be, V, D, H, 1),
                        s -> new Encoder(b, s, "encoder."), s -> new Decoder(b, s, "decoder."))),
                Named.of("PeekySeq2seq", new Kind(be -> new PeekySeq2seq(be, V, D, H, 2),
                        s -> new Encoder(b, s, "encoder."), s -> new PeekyDecoder(b, s, "decoder."))),
                Named.of("AttentionSeq2seq", new Kind(be -> new AttentionSeq2seq(be, V, D, H, 3),
                        s -> new AttentionEncoder(b, s, "encoder."), s -> new AttentionDecoder(b, s, "decoder."))));
    }

    private static int argmax(float[] scores, int offset, int v) {
        int best = 0;
        for (int j = 1; j < v; j++) {
            if (scores[offset + j] > scores[offset + best]) {
                best = j;
            }
        }
        return best;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kinds")
    void greedyDecodingIsTheArgmaxOfTheTeacherForcedScores(Kind kind) {
        Backend backend = TestBackends.reference();
        Random rng = new Random(12);
        try (Arena arena = Arena.ofConfined(); Seq2seqModel model = kind.model().apply(backend);
             SequenceEncoder enc = kind.encoder().apply(model.store());
             SequenceDecoder dec = kind.decoder().apply(model.store())) {
            ModelTesting.scramble(model, rng, 1.0);
            // a zero output bias, so the inputs rather than one large bias decide the answers
            model.store().copyIn("decoder.affine.b", new float[V]);
            Tensor xs = ModelTesting.randomIds(backend, arena, rng, N, TIN, V);
            int[][] gen = model.generate(xs, START, LENGTH);
            assertEquals(N, gen.length);

            // the decoder fed its own answer, all steps at once: (LENGTH, N) time-major, start id first
            int[] decIn = new int[LENGTH * N];
            for (int t = 0; t < LENGTH; t++) {
                for (int n = 0; n < N; n++) {
                    decIn[t * N + n] = t == 0 ? START : gen[n][t - 1];
                }
            }
            Tensor xsT = backend.allocate(arena, DType.I32, TIN, N);
            backend.swapAxes01(xsT, xs);
            Tensor decXs = backend.allocate(arena, DType.I32, LENGTH, N);
            backend.copyIn(decXs, decIn);
            float[] scores = dec.forward(decXs, enc.forward(xsT)).toFloatArray();
            int distinct = 0;
            for (int t = 0; t < LENGTH; t++) {
                for (int n = 0; n < N; n++) {
                    assertEquals(argmax(scores, (t * N + n) * V, V), gen[n][t], "step " + t + ", question " + n);
                    distinct |= 1 << gen[n][t];
                }
            }
            assertTrue(Integer.bitCount(distinct) > 1, "scrambled weights should not generate one id everywhere");

            // batched generation equals one question at a time
            int[] flat = new int[N * TIN];
            backend.copyOut(flat, xs);
            for (int n = 0; n < N; n++) {
                int[][] one = model.generate(new int[][] {java.util.Arrays.copyOfRange(flat, n * TIN, (n + 1) * TIN)},
                        START, LENGTH);
                assertArrayEquals(gen[n], one[0], "question " + n + " alone");
            }
        }
    }

    @Test
    void generationLeavesTheTrainingPathAlone() {
        Backend backend = TestBackends.reference();
        Random rng = new Random(13);
        try (Arena arena = Arena.ofConfined(); AttentionSeq2seq model = new AttentionSeq2seq(backend, V, D, H, 4)) {
            Tensor xs = ModelTesting.randomIds(backend, arena, rng, N, TIN, V);
            Tensor ts = ModelTesting.randomIds(backend, arena, rng, N, 4, V);
            float before = model.forward(xs, ts);
            model.generate(ModelTesting.randomIds(backend, arena, rng, 2, 3, V), START, 3);
            assertEquals(before, model.forward(xs, ts), "the loss must not change because generate ran");
            Tensor weights = model.attentionWeights();
            assertEquals(3, weights.dim(0));
            float[] w = weights.toFloatArray();
            for (int row = 0; row < 3 * N; row++) {
                double sum = 0;
                for (int s = 0; s < TIN; s++) {
                    sum += w[row * TIN + s];
                }
                assertEquals(1.0, sum, 1e-5, "attention weights of row " + row + " sum to 1");
            }
        }
    }

    static Stream<Named<Function<Backend, AbstractRnnlm>>> languageModels() {
        return Stream.of(
                Named.of("SimpleRnnlm", b -> new SimpleRnnlm(b, V, D, H, 1)),
                Named.of("Rnnlm", b -> new Rnnlm(b, V, D, H, 2)),
                Named.of("BetterRnnlm", b -> new BetterRnnlm(b, V, H, H, 0.5f, 3)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("languageModels")
    void languageModelGeneration(Function<Backend, AbstractRnnlm> make) {
        Backend backend = TestBackends.reference();
        try (Arena arena = Arena.ofConfined(); AbstractRnnlm model = make.apply(backend)) {
            ModelTesting.scramble(model, new Random(14), 1.0);
            int[][] prompts = {{1, 2}, {3, 4}, {5, 0}};
            int[][] gen = model.generate(prompts, LENGTH, LanguageModel.Sampling.ARGMAX, 0);

            // greedy: feeding prompt + answer (but its last id) through the network in one pass, from a reset
            // state and with dropout off, gives scores whose argmax after the prompt is the answer
            int p = prompts[0].length, n = prompts.length, t = p + LENGTH - 1;
            int[] in = new int[t * n];
            for (int s = 0; s < t; s++) {
                for (int i = 0; i < n; i++) {
                    in[s * n + i] = s < p ? prompts[i][s] : gen[i][s - p];
                }
            }
            Tensor xs = backend.allocate(arena, DType.I32, t, n);
            backend.copyIn(xs, in);
            model.resetState();
            model.setTraining(false);
            float[] scores = model.net.predict(xs).toFloatArray();
            for (int s = p - 1; s < t; s++) {
                for (int i = 0; i < n; i++) {
                    assertEquals(argmax(scores, (s * n + i) * V, V), gen[i][s - p + 1], "step " + s + ", row " + i);
                }
            }

            // sampling: seeded, and skipped ids never appear
            int[] a = model.generate(1, 40, LanguageModel.Sampling.SAMPLE, 7, 0, 3);
            int[] b = model.generate(1, 40, LanguageModel.Sampling.SAMPLE, 7, 0, 3);
            assertArrayEquals(a, b, "the same seed gives the same sample");
            for (int id : a) {
                assertTrue(id != 0 && id != 3 && id >= 0 && id < V, "sampled id " + id + " is skipped or out of range");
            }
        }
    }

    /**
     * A prompt's sampled words depend on the seed, its ids and its row only: alone or followed by other prompts, row 0
     * gets the same words, and so does row 1 whatever row 0 holds. With one Random for the batch, row 0's second word
     * was drawn after row 1's first.
     */
    @Test
    void sampledWordsDoNotDependOnTheOtherPrompts() {
        Backend backend = TestBackends.reference();
        try (Rnnlm model = new Rnnlm(backend, V, D, H, 3)) {
            ModelTesting.scramble(model, new Random(47), 0.5);
            int[][] alone = model.generate(new int[][] {{1}}, 8, LanguageModel.Sampling.SAMPLE, 5);
            assertArrayEquals(alone, model.generate(new int[][] {{1}}, 8, LanguageModel.Sampling.SAMPLE, 5), "seeded");
            int[][] two = model.generate(new int[][] {{1}, {2}}, 8, LanguageModel.Sampling.SAMPLE, 5);
            assertArrayEquals(alone[0], two[0], "prompt {1} alone and before {2}, seed 5");
            int[][] other = model.generate(new int[][] {{7}, {2}, {4}}, 8, LanguageModel.Sampling.SAMPLE, 5);
            assertArrayEquals(two[1], other[1], "prompt {2} in row 1 after {1} and after {7}");
        }
    }

    /**
     * The first sampled word's frequencies over 20,000 rows of one prompt follow the softmax of the scores (a chi-square
     * test, 8 degrees of freedom, bound 40: p below 1e-5 by chance), and with skip ids the softmax renormalised over the
     * others. The probabilities are the teacher-forced ones of each one-word continuation.
     */
    @Test
    void sampledWordsFollowTheSoftmax() {
        Backend backend = TestBackends.reference();
        try (Arena arena = Arena.ofConfined(); Rnnlm model = new Rnnlm(backend, V, D, H, 3)) {
            ModelTesting.scramble(model, new Random(34), 0.7);
            model.setTraining(false);
            Tensor xs = backend.allocate(arena, DType.I32, 1, 1);
            backend.copyIn(xs, new int[] {1});
            float[] scores = model.net.predict(xs).toFloatArray();
            model.resetState();
            int[][] prompts = new int[20_000][];
            java.util.Arrays.fill(prompts, new int[] {1});
            for (int[] skip : new int[][] {{}, {0, 1, 2}}) {
                double[] p = new double[V];
                double sum = 0;
                for (int v = 0; v < V; v++) {
                    final int id = v;
                    p[v] = java.util.Arrays.stream(skip).anyMatch(k -> k == id) ? 0 : Math.exp(scores[v]);
                    sum += p[v];
                }
                int[] count = new int[V];
                for (int[] o : model.generate(prompts, 1, LanguageModel.Sampling.SAMPLE, 99, skip)) {
                    count[o[0]]++;
                }
                double chi2 = 0;
                for (int v = 0; v < V; v++) {
                    double expected = prompts.length * p[v] / sum;
                    if (expected == 0) {
                        assertEquals(0, count[v], "skipped id " + v + " drawn");
                        continue;
                    }
                    chi2 += (count[v] - expected) * (count[v] - expected) / expected;
                }
                assertTrue(chi2 < 40, "skip " + java.util.Arrays.toString(skip) + ": chi^2 = " + chi2 + ", counts "
                        + java.util.Arrays.toString(count));
            }
        }
    }
}
