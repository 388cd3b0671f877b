// Beam search: K = 1 is bit-identical to greedy on every backend (seq2seq models and language models); with
// K large enough to keep every prefix it is exhaustive search, so its sequences and summed log-probabilities
// equal those computed by teacher forcing; on a scripted decoder where greedy's first choice leads to a less
// likely sequence, K = 2 finds the better one; end ids and the length penalty rank as documented. A Result compares,
// hashes and prints by its contents (a record of arrays went by their identities).
package org.seq4j.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.layers.Cell;
import org.seq4j.layers.Workspace;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class BeamSearchTest {
    static final int V = 9, D = 5, H = 6, N = 4, TIN = 5, LENGTH = 6, START = 8;

    static Stream<Named<Function<Backend, Seq2seqModel>>> seq2seqModels() {
        return Stream.of(
                Named.of("Seq2seq", b -> new Seq2seq(b, V, D, H, 1)),
                Named.of("PeekySeq2seq", b -> new PeekySeq2seq(b, V, D, H, 2)),
                Named.of("AttentionSeq2seq", b -> new AttentionSeq2seq(b, V, D, H, 3)),
                Named.of("BidirectionalAttentionSeq2seq", b -> new AttentionSeq2seq(b, V, D, H, 4, true)),
                Named.of("Seq2seq GRU", b -> new Seq2seq(b, V, D, H, Cell.GRU, 5)),
                Named.of("PeekySeq2seq GRU", b -> new PeekySeq2seq(b, V, D, H, Cell.GRU, 6)),
                Named.of("AttentionSeq2seq GRU", b -> new AttentionSeq2seq(b, V, D, H, Cell.GRU, 7)),
                Named.of("BidirectionalAttentionSeq2seq GRU", b -> new AttentionSeq2seq(b, V, D, H, Cell.GRU, 8, true)));
    }

    static Stream<Named<Function<Backend, LanguageModel>>> languageModels() {
        return Stream.of(
                Named.of("SimpleRnnlm", b -> new SimpleRnnlm(b, V, D, H, 1)),
                Named.of("Rnnlm", b -> new Rnnlm(b, V, D, H, 2)),
                Named.of("BetterRnnlm", b -> new BetterRnnlm(b, V, H, H, 0.5f, 3)),
                Named.of("Rnnlm GRU", b -> new Rnnlm(b, V, D, H, Cell.GRU, 4)),
                Named.of("BetterRnnlm GRU", b -> new BetterRnnlm(b, V, H, H, 0.5f, Cell.GRU, 5)));
    }

    static Stream<Arguments> seq2seqOnEveryBackend() {
        return TestBackends.all().flatMap(b -> seq2seqModels().map(m -> Arguments.of(b, m)));
    }

    static Stream<Arguments> languageModelsOnEveryBackend() {
        return TestBackends.all().flatMap(b -> languageModels().map(m -> Arguments.of(b, m)));
    }

    private static int[][] randomQuestions(Random rng, int n) {
        int[][] xs = new int[n][TIN];
        for (int[] x : xs) {
            for (int t = 0; t < TIN; t++) {
                x[t] = rng.nextInt(V);
            }
        }
        return xs;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("seq2seqOnEveryBackend")
    void beamOfOneIsGreedyForSeq2seq(String backendName, Function<Backend, Seq2seqModel> make) {
        Backend backend = TestBackends.get(backendName);
        try (Seq2seqModel model = make.apply(backend)) {
            ModelTesting.scramble(model, new Random(21), 1.0);
            model.store().copyIn("decoder.affine.b", new float[V]);
            int[][] xs = randomQuestions(new Random(22), N);
            int[][] greedy = model.generate(xs, START, LENGTH);
            Beam.Result r = model.beamSearch(xs, START, LENGTH, 1);
            int distinct = 0;
            for (int n = 0; n < N; n++) {
                assertArrayEquals(greedy[n], r.sequences()[n][0], "question " + n);
                assertTrue(r.logProbs()[n][0] < 0 && Double.isFinite(r.logProbs()[n][0]), "a log-probability");
                for (int id : greedy[n]) {
                    distinct |= 1 << id;
                }
            }
            assertTrue(Integer.bitCount(distinct) > 1, "scrambled weights should not generate one id everywhere");
            assertArrayEquals(greedy, model.generate(xs, START, LENGTH, 1));
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("languageModelsOnEveryBackend")
    void beamOfOneIsGreedyForLanguageModels(String backendName, Function<Backend, LanguageModel> make) {
        Backend backend = TestBackends.get(backendName);
        try (LanguageModel model = make.apply(backend)) {
            ModelTesting.scramble(model, new Random(23), 1.0);
            int[][] prompts = {{1, 2}, {3, 4}, {5, 0}};
            int[][] greedy = model.generate(prompts, LENGTH, LanguageModel.Sampling.ARGMAX, 0, 7);
            Beam.Result r = model.beamSearch(prompts, LENGTH, 1, 0.0, -1, 7);
            assertArrayEquals(greedy, r.best());
            // a length penalty changes nothing when every hypothesis has the same length
            assertArrayEquals(greedy, model.beamSearch(prompts, LENGTH, 1, 0.7, -1, 7).best());
        }
    }

    /** Summed log-softmax of the teacher-forced scores of answer (length L) to question x. */
    private static double teacherForcedLogProb(Backend backend, Arena arena, Seq2seqModel model, int[] x, int[] answer) {
        int l = answer.length;
        Tensor xs = backend.allocate(arena, DType.I32, 1, TIN);
        backend.copyIn(xs, x);
        // the model's decoder via a fresh pair of objects over the same parameters is what forward uses;
        // forward's loss is the mean cross-entropy over the L steps, so -L * loss is the summed log-probability
        int[] ts = new int[l + 1];
        ts[0] = START;
        System.arraycopy(answer, 0, ts, 1, l);
        Tensor t = backend.allocate(arena, DType.I32, 1, l + 1);
        backend.copyIn(t, ts);
        return -l * (double) model.forward(xs, t);
    }

    /** All V^3 answers of length 3, as {a, b, c} in lexicographic order. */
    private static int[][] allAnswers() {
        int[][] all = new int[V * V * V][];
        for (int j = 0; j < all.length; j++) {
            all[j] = new int[] {j / (V * V), j / V % V, j % V};
        }
        return all;
    }

    private static void assertExhaustive(Beam.Result r, int n, double[] all) {
        double[] sorted = all.clone();
        Arrays.sort(sorted);
        int k = r.sequences()[n].length;
        for (int b = 0; b < k; b++) {
            int[] seq = r.sequences()[n][b];
            assertEquals(3, seq.length);
            // float32 forward vs double sums on the host: 1e-4 over three steps of log-probabilities
            assertEquals(all[(seq[0] * V + seq[1]) * V + seq[2]], r.logProbs()[n][b], 1e-4,
                    "question " + n + ", hypothesis " + b + " " + Arrays.toString(seq));
            assertEquals(sorted[all.length - 1 - b], r.logProbs()[n][b], 1e-4, "the " + b + "-th best of all");
            assertEquals(r.logProbs()[n][b], r.scores()[n][b], "no length penalty: score = log-probability");
            if (b > 0) {
                assertTrue(r.logProbs()[n][b] <= r.logProbs()[n][b - 1], "best first");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("seq2seqModels")
    void aBeamAsWideAsAllPrefixesIsExhaustiveSearch(Function<Backend, Seq2seqModel> make) {
        Backend backend = TestBackends.reference();
        try (Arena arena = Arena.ofConfined(); Seq2seqModel model = make.apply(backend)) {
            ModelTesting.scramble(model, new Random(24), 1.0);
            int[][] xs = randomQuestions(new Random(25), 2);
            // K = V^2 keeps every prefix of the 3 ids, and the states of the hypotheses differ from step 2 on,
            // so a wrong reordering of the decoder's state shows in the log-probabilities
            Beam.Result r = model.beamSearch(xs, START, 3, V * V);
            int[][] answers = allAnswers();
            for (int n = 0; n < xs.length; n++) {
                double[] all = new double[answers.length];
                for (int j = 0; j < answers.length; j++) {
                    all[j] = teacherForcedLogProb(backend, arena, model, xs[n], answers[j]);
                }
                assertExhaustive(r, n, all);
            }
        }
    }

    static Stream<Named<Function<Backend, AbstractRnnlm>>> rnnlms() {
        return Stream.of(
                Named.of("SimpleRnnlm", b -> new SimpleRnnlm(b, V, D, H, 1)),
                Named.of("Rnnlm", b -> new Rnnlm(b, V, D, H, 2)),
                Named.of("BetterRnnlm", b -> new BetterRnnlm(b, V, H, H, 0.5f, 3)),
                Named.of("Rnnlm GRU", b -> new Rnnlm(b, V, D, H, Cell.GRU, 4)),
                Named.of("BetterRnnlm GRU", b -> new BetterRnnlm(b, V, H, H, 0.5f, Cell.GRU, 5)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rnnlms")
    void languageModelBeamsSumTheLogProbabilitiesOfTheirWords(Function<Backend, AbstractRnnlm> make) {
        Backend backend = TestBackends.reference();
        try (Arena arena = Arena.ofConfined(); AbstractRnnlm model = make.apply(backend)) {
            ModelTesting.scramble(model, new Random(27), 1.0);
            int[] prompt = {1, 2};
            Beam.Result r = model.beamSearch(new int[][] {prompt}, 3, V * V, 0, -1);   // exhaustive over 3 words
            // every continuation a, b, c at once: V^3 rows of prompt, a, b, c through the network from a reset state
            int[][] answers = allAnswers();
            int rows = answers.length, t = prompt.length + 2;
            int[] in = new int[t * rows];
            for (int j = 0; j < rows; j++) {
                in[j] = prompt[0];
                in[rows + j] = prompt[1];
                in[2 * rows + j] = answers[j][0];
                in[3 * rows + j] = answers[j][1];
            }
            Tensor xs = backend.allocate(arena, DType.I32, t, rows);
            backend.copyIn(xs, in);
            model.resetState();
            model.setTraining(false);
            float[] scores = model.net.predict(xs).toFloatArray();
            double[] all = new double[rows];
            for (int j = 0; j < rows; j++) {
                for (int w = 0; w < 3; w++) {
                    all[j] += logSoftmax(scores, ((w + 1) * rows + j) * V, answers[j][w]);
                }
            }
            assertExhaustive(r, 0, all);
        }
    }

    private static double logSoftmax(float[] x, int offset, int id) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int v = 0; v < V; v++) {
            max = Math.max(max, x[offset + v]);
        }
        for (int v = 0; v < V; v++) {
            sum += Math.exp(x[offset + v] - max);
        }
        return x[offset + id] - max - Math.log(sum);
    }

    /**
     * A scripted decoder over V = 3 ids, one row per hypothesis. Step 1 (after the start id) gives
     * p = (0.5, 0.4, 0.1). Then the distribution depends on the first id, kept as the row's state (so a wrong
     * reorder shows): after 0 it is flat (0.34, 0.33, 0.33), after 1 it is (0.9, 0.05, 0.05), after 2 it is
     * (0.2, 0.2, 0.6). Greedy takes 0 then 0 (p = 0.17); the most likely sequence is 1, 0 (p = 0.36).
     */
    static final class Scripted implements Beam.Steps {
        static final double[][] AFTER = {{0.34, 0.33, 0.33}, {0.9, 0.05, 0.05}, {0.2, 0.2, 0.6}};
        final Backend backend;
        final Tensor scores;
        int[] first;           // per row: the first id emitted, -1 before
        int step;

        Scripted(Backend backend, Arena arena, int m) {
            this.backend = backend;
            this.scores = backend.allocate(arena, DType.F32, 1, m, 3);
            this.first = new int[m];
            Arrays.fill(first, -1);
        }

        Tensor start() {
            return fill(row -> new double[] {0.5, 0.4, 0.1});
        }

        private Tensor fill(java.util.function.IntFunction<double[]> probs) {
            int m = first.length;
            float[] s = new float[m * 3];
            for (int j = 0; j < m; j++) {
                double[] p = probs.apply(j);
                for (int v = 0; v < 3; v++) {
                    s[j * 3 + v] = (float) Math.log(p[v]) + 1.25f;   // logits: any shift gives the same softmax
                }
            }
            backend.copyIn(scores, s);
            return scores;
        }

        @Override
        public Tensor step(Tensor ids) {
            int[] id = new int[first.length];
            backend.copyOut(id, ids);
            if (step++ == 0) {
                first = id;
            }
            return fill(j -> AFTER[first[j]]);
        }

        @Override
        public void reorder(Tensor parents) {
            int[] p = new int[first.length];
            backend.copyOut(p, parents);
            int[] next = new int[first.length];
            for (int j = 0; j < next.length; j++) {
                next[j] = first[p[j]];
            }
            first = next;
        }
    }

    @Test
    void beamFindsTheLikelierSequenceThatGreedyMisses() {
        Backend backend = TestBackends.reference();
        try (Arena arena = Arena.ofConfined(); Workspace ws = new Workspace(backend)) {
            Scripted greedy = new Scripted(backend, arena, 1);
            Beam.Result g = Beam.search("test", backend, ws, 1, 2, greedy.start(), greedy, Beam.Options.of(1));
            assertArrayEquals(new int[] {0, 0}, g.sequences()[0][0], "greedy follows the first step's best id");
            assertEquals(Math.log(0.5 * 0.34), g.logProbs()[0][0], 1e-6);

            Scripted two = new Scripted(backend, arena, 2);
            Beam.Result b = Beam.search("test", backend, ws, 1, 2, two.start(), two, Beam.Options.of(2));
            assertArrayEquals(new int[] {1, 0}, b.sequences()[0][0], "beam K=2 keeps 1 and finds 1, 0");
            assertEquals(Math.log(0.4 * 0.9), b.logProbs()[0][0], 1e-6);
            assertArrayEquals(new int[] {0, 0}, b.sequences()[0][1]);
            assertEquals(Math.log(0.5 * 0.34), b.logProbs()[0][1], 1e-6);
        }
    }

    @Test
    void endIdsFinishHypothesesAndTheLengthPenaltyRanksThem() {
        Backend backend = TestBackends.reference();
        try (Arena arena = Arena.ofConfined(); Workspace ws = new Workspace(backend)) {
            // end id 1 on the scripted decoder, K = 2, at most 3 ids: "1" finishes at once with p = 0.4; "0 1"
            // finishes at step 2 with p = 0.5 * 0.33; the best full-length one is "0 0 0" with p = 0.5 * 0.34^2
            double[] alphas = {0, 1, 2};
            int[][] winners = {{1}, {0, 1}, {0, 0, 0}};
            double[] logP = {Math.log(0.4), Math.log(0.5 * 0.33), Math.log(0.5 * 0.34 * 0.34)};
            for (int a = 0; a < alphas.length; a++) {
                Scripted s = new Scripted(backend, arena, 2);
                Beam.Result r = Beam.search("test", backend, ws, 1, 3, s.start(), s,
                        new Beam.Options(2, 1, alphas[a], null));
                // alpha 0: -0.92 > -1.80 > -2.85; alpha 1: -1.80/2 = -0.90 > -0.92/1; alpha 2: -2.85/9 = -0.32 wins
                assertArrayEquals(winners[a], r.sequences()[0][0], "alpha " + alphas[a]);
                assertEquals(logP[a], r.logProbs()[0][0], 1e-6);
                assertEquals(logP[a] / Math.pow(winners[a].length, alphas[a]), r.scores()[0][0], 1e-6);
                assertTrue(r.scores()[0][1] <= r.scores()[0][0], "best first");
            }
        }
    }

    /**
     * A large length penalty ranks as its formula does. Ranked by the score logP / length^alpha itself, alpha 700 made
     * length^alpha overflow and every score of a length -0.0, the order among them then the beam's, not the
     * log-probabilities' (a red-team find: 21 pairs of 12 out of order). Compared in log space, exact for any alpha.
     */
    @Test
    void aLargeLengthPenaltyStillRanksByTheFormula() {
        Backend backend = TestBackends.reference();
        try (LanguageModel lm = new Rnnlm(backend, 5, 4, 6, 1)) {
            ModelTesting.scramble(lm, new Random(29), 4.0);
            for (double alpha : new double[] {0, 0.7, 700}) {
                Beam.Result r = lm.beamSearch(new int[][] {{1}}, 3, 12, alpha, 3);
                int[][] seqs = r.sequences()[0];
                for (int k = 1; k < seqs.length; k++) {
                    for (int j = 0; j < k; j++) {
                        double better = Math.log(-r.logProbs()[0][j]) - alpha * Math.log(seqs[j].length);
                        double worse = Math.log(-r.logProbs()[0][k]) - alpha * Math.log(seqs[k].length);
                        assertTrue(better <= worse + 1e-12, "alpha " + alpha + ": hypothesis " + j + " "
                                + Arrays.toString(seqs[j]) + " (log p " + r.logProbs()[0][j] + ") ranked before " + k
                                + " " + Arrays.toString(seqs[k]) + " (log p " + r.logProbs()[0][k] + ")");
                    }
                }
            }
        }
    }

    @Test
    void badBeamWidthsAndPenaltiesAreRefused() {
        Backend backend = TestBackends.reference();
        try (Seq2seqModel model = new Seq2seq(backend, V, D, H, 1); LanguageModel lm = new Rnnlm(backend, V, D, H, 1)) {
            int[][] xs = randomQuestions(new Random(26), 2);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> model.beamSearch(xs, START, LENGTH, 0));
            assertTrue(e.getMessage().contains("K must be >= 1"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> lm.beamSearch(new int[][] {{1}}, 3, 2, -0.5, -1));
            assertThrows(IllegalArgumentException.class, () -> lm.beamSearch(new int[][] {{1}}, 3, 2, 0, V));
            assertThrows(IllegalArgumentException.class, () -> lm.beamSearch(new int[][] {{1}}, 3, -1, 0, -1));
            // N * K rows past an int: a message naming both, not ArithmeticException("integer overflow")
            e = assertThrows(IllegalArgumentException.class, () -> model.beamSearch(xs, START, LENGTH,
                    Integer.MAX_VALUE));
            assertTrue(e.getMessage().contains("N = 2 questions times the beam width K = " + Integer.MAX_VALUE),
                    e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> lm.beamSearch(new int[][] {{1}, {2}}, 3,
                    Integer.MAX_VALUE, 0, -1));
            assertTrue(e.getMessage().contains("rows a batch can have"), e.getMessage());
        }
    }

    @Test
    void resultsCompareAndPrintByContent() {
        Backend backend = TestBackends.reference();
        try (Seq2seqModel model = new Seq2seq(backend, V, D, H, 1)) {
            ModelTesting.scramble(model, new Random(27), 1.0);
            int[][] xs = randomQuestions(new Random(28), 2);
            Beam.Result a = model.beamSearch(xs, START, 3, 2), b = model.beamSearch(xs, START, 3, 2);
            assertEquals(a, b, "two searches of the same questions");
            assertEquals(a.hashCode(), b.hashCode());
            assertTrue(!a.equals(model.beamSearch(xs, START, 2, 2)), "a search of another length");
            String s = a.toString();
            assertTrue(s.startsWith("Result[sequences=[[" + Arrays.toString(a.sequences()[0][0]))
                    && s.contains("logProbs=[[" + a.logProbs()[0][0]) && !s.contains("[[I@"), s);
        }
    }

    /**
     * An attention model repeats its encoding (T, N, H) K times, a gather of T x N x K rows: past int's range that was
     * Math.multiplyExact's bare ArithmeticException ("integer overflow") out of beamSearch, naming no call. One question
     * of 2^15 ids at K = 2^16 (a vocabulary of 2, so that N x K x V fits and 16 steps hold K sequences) is refused by
     * name, before anything of that size is allocated.
     */
    @Test
    void anEncodingRepeatedPastIntRowsIsRefusedByName() {
        try (AttentionSeq2seq m = new AttentionSeq2seq(TestBackends.reference(), 2, 1, 1, 1)) {
            int[][] question = {new int[1 << 15]};
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> m.beamSearch(question, 0, 16, 1 << 16));
            assertTrue(e.getMessage().startsWith("AttentionSeq2seq.beamSearch: the encoding (32768, 1, 1) repeated for K"
                    + " = 65536 hypotheses is 32768 x 1 x 65536 = 2147483648 rows"), e.getMessage());
        }
    }
}
