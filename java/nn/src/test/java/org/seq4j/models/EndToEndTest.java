// End-to-end training runs small enough for CI (a few seconds each on the java backend, 2 cores): the
// reversed peeky seq2seq (with the LSTM, and with the GRU) learns single-digit addition, the wave predictor
// learns a noisy sine wave, and the wave seq2seq learns to translate a sine window into the matching cosine
// window. Data are generated here with seeded generators; every number is fixed by the seeds, and thresholds
// leave a wide margin over what seeds 1..8 reached while these tests were written (noted at each assertion).
package org.seq4j.models;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.layers.Cell;
import org.seq4j.optim.Adam;
import org.seq4j.optim.ClipGrads;
import org.seq4j.optim.NonFiniteLossException;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class EndToEndTest {

    // ---- addition ---------------------------------------------------------------------------------------

    /** Vocabulary of the addition task: digits 0-9, then '+', ' ', '_' (the decoder's start id). */
    static int charId(char c) {
        return switch (c) {
            case '+' -> 10;
            case ' ' -> 11;
            case '_' -> 12;
            default -> c - '0';
        };
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    void reversedPeekySeq2seqLearnsSingleDigitAddition(String backendName) {
        learnAddition(backendName, Cell.LSTM, 1);
    }

    /** The same with the book's appendix GRU in encoder and decoder. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    void reversedPeekySeq2seqWithAGruLearnsSingleDigitAddition(String backendName) {
        learnAddition(backendName, Cell.GRU, 1);
    }

    /** Trains the reversed peeky seq2seq on all 100 single-digit sums and asserts loss and accuracy. */
    static void learnAddition(String backendName, Cell cell, long seed) {
        Backend backend = TestBackends.get(backendName);
        int V = 13, D = 8, H = 16, N = 20, epochs = 100, qLen = 5, aLen = 3;
        // every "a+b" with single digits a, b: the question space-padded to 5 characters and reversed (the book's
        // trick), the answer "_" + the sum, space-padded: "_7 ", "_12"
        List<int[]> questions = new ArrayList<>(), answers = new ArrayList<>();
        for (int a = 0; a < 10; a++) {
            for (int b = 0; b < 10; b++) {
                String q = String.format("%-5s", a + "+" + b), ans = String.format("_%-2s", a + b);
                int[] qi = new int[qLen], ai = new int[aLen];
                for (int i = 0; i < qLen; i++) {
                    qi[i] = charId(q.charAt(qLen - 1 - i));
                }
                for (int i = 0; i < aLen; i++) {
                    ai[i] = charId(ans.charAt(i));
                }
                questions.add(qi);
                answers.add(ai);
            }
        }
        int count = questions.size();
        Random rng = new Random(101);
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            order.add(i);
        }
        try (Arena arena = Arena.ofConfined(); PeekySeq2seq model = new PeekySeq2seq(backend, V, D, H, cell, seed);
             Adam adam = new Adam(0.01f)) {
            Tensor xs = backend.allocate(arena, DType.I32, N, qLen), ts = backend.allocate(arena, DType.I32, N, aLen);
            int[] x = new int[N * qLen], t = new int[N * aLen];
            double firstEpochLoss = 0, lastEpochLoss = 0;
            long step = 0;
            for (int epoch = 0; epoch < epochs; epoch++) {
                Collections.shuffle(order, rng);
                double total = 0;
                int batches = 0;
                for (int s = 0; s + N <= count; s += N) {
                    for (int i = 0; i < N; i++) {
                        System.arraycopy(questions.get(order.get(s + i)), 0, x, i * qLen, qLen);
                        System.arraycopy(answers.get(order.get(s + i)), 0, t, i * aLen, aLen);
                    }
                    backend.copyIn(xs, x);
                    backend.copyIn(ts, t);
                    total += NonFiniteLossException.requireFinite(model.forward(xs, ts), ++step);
                    model.backward();
                    ClipGrads.clip(model.store(), 5f);
                    adam.step(model.store());
                    batches++;
                }
                if (epoch == 0) {
                    firstEpochLoss = total / batches;
                }
                lastEpochLoss = total / batches;
            }
            int[][] generated = model.generate(questions.toArray(new int[0][]), charId('_'), aLen - 1);
            int correct = 0;
            for (int i = 0; i < count; i++) {
                boolean ok = true;
                for (int j = 0; j < aLen - 1; j++) {
                    ok &= generated[i][j] == answers.get(i)[j + 1];
                }
                correct += ok ? 1 : 0;
            }
            double accuracy = correct / (double) count;
            System.out.printf("addition (%s, %s, seed %d): loss %.3f -> %.3f over %d steps, accuracy %.2f%n",
                    backendName, cell.lower(), seed, firstEpochLoss, lastEpochLoss, step, accuracy);
            // the loss starts near ln 13 = 2.56; seeds 1..8 on the java and openblas backends ended at 0.05-0.14
            // and 95-100% accuracy (a higher learning rate learns faster on average but spikes on some seeds)
            // with the GRU, seeds 1..8 on openblas ended at 0.03-0.16 and 96-100%
            assertTrue(lastEpochLoss < 0.3, "mean loss of the last epoch " + lastEpochLoss + " should be < 0.3 (from "
                    + firstEpochLoss + ")");
            assertTrue(accuracy >= 0.85, "accuracy on the 100 questions " + accuracy + " should be >= 0.85 (chance ~0.05)");
        }
    }

    // ---- waves ------------------------------------------------------------------------------------------

    /** sin over [-2 pi, 2 pi] at {@code points} points, as in seeds 002 and 004. */
    static double phase(int i, int points) {
        return -2 * Math.PI + 4 * Math.PI * i / (points - 1);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    void wavePredictorLearnsANoisySineWave(String backendName) {
        Backend backend = TestBackends.get(backendName);
        int points = 101, T = 10, N = 10, H = 16, epochs = 30;
        Random rng = new Random(774);
        double[] y = new double[points];
        for (int i = 0; i < points; i++) {
            y[i] = Math.sin(phase(i, points)) + 0.05 * rng.nextGaussian();   // seed 004's noise level
        }
        int windows = points - T;                                           // y[w .. w+T) -> y[w+T]
        List<Integer> order = new ArrayList<>();
        for (int w = 0; w < windows; w++) {
            order.add(w);
        }
        try (Arena arena = Arena.ofConfined(); WavePredictor model = new WavePredictor(backend, 1, H, 1);
             Adam adam = new Adam(0.01f)) {
            Tensor xs = backend.allocate(arena, DType.F32, N, T, 1), ts = backend.allocate(arena, DType.F32, N, 1);
            float[] x = new float[N * T], t = new float[N];
            double firstEpochLoss = 0, lastEpochLoss = 0;
            long step = 0;
            for (int epoch = 0; epoch < epochs; epoch++) {
                Collections.shuffle(order, rng);
                double total = 0;
                int batches = 0;
                for (int s = 0; s + N <= windows; s += N) {
                    for (int i = 0; i < N; i++) {
                        int w = order.get(s + i);
                        for (int j = 0; j < T; j++) {
                            x[i * T + j] = (float) y[w + j];
                        }
                        t[i] = (float) y[w + T];
                    }
                    backend.copyIn(xs, x);
                    backend.copyIn(ts, t);
                    total += NonFiniteLossException.requireFinite(model.forward(xs, ts), ++step);
                    model.backward();
                    adam.step(model.store());
                    batches++;
                }
                if (epoch == 0) {
                    firstEpochLoss = total / batches;
                }
                lastEpochLoss = total / batches;
            }
            // one step ahead on clean sine windows at phases between the training samples
            int probes = 40;
            float[][] windowsIn = new float[probes][T];
            double sse = 0;
            for (int p = 0; p < probes; p++) {
                double start = 2.0 * p + 0.5;
                for (int j = 0; j < T; j++) {
                    windowsIn[p][j] = (float) Math.sin(-2 * Math.PI + 4 * Math.PI * (start + j) / (points - 1));
                }
            }
            float[][] next = model.predict(windowsIn, 1);
            for (int p = 0; p < probes; p++) {
                double truth = Math.sin(-2 * Math.PI + 4 * Math.PI * (2.0 * p + 0.5 + T) / (points - 1));
                sse += (next[p][0] - truth) * (next[p][0] - truth);
            }
            double rmse = Math.sqrt(sse / probes);
            System.out.printf("wave predictor (%s): loss %.5f -> %.5f over %d steps, one-step rmse %.3f%n", backendName,
                    firstEpochLoss, lastEpochLoss, step, rmse);
            // loss = 0.5 * mean squared error of the last step; the noise alone gives 0.5 * 0.05^2 = 0.00125.
            // Seeds 1..3 ended at 0.0019-0.0030.
            assertTrue(lastEpochLoss < 0.006, "mean loss of the last epoch " + lastEpochLoss + " should be < 0.006 (from "
                    + firstEpochLoss + ")");
            assertTrue(rmse < 0.15, "one-step rmse on clean held-out windows " + rmse + " should be < 0.15");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    void waveSeq2seqTranslatesSineToCosine(String backendName) {
        Backend backend = TestBackends.get(backendName);
        int points = 100, T = 12, N = 10, H = 16, epochs = 30;
        double[] sin = new double[points], cos = new double[points];
        for (int i = 0; i < points; i++) {
            sin[i] = Math.sin(phase(i, points));
            cos[i] = Math.cos(phase(i, points));
        }
        int windows = points - T;
        Random rng = new Random(8);
        List<Integer> order = new ArrayList<>();
        for (int w = 0; w < windows; w++) {
            order.add(w);
        }
        try (Arena arena = Arena.ofConfined(); WaveSeq2seq model = new WaveSeq2seq(backend, 1, 1, H, 1);
             Adam adam = new Adam(0.01f)) {
            Tensor xs = backend.allocate(arena, DType.F32, N, T, 1), ts = backend.allocate(arena, DType.F32, N, T, 1);
            float[] x = new float[N * T], t = new float[N * T];
            double firstEpochLoss = 0, lastEpochLoss = 0;
            long step = 0;
            for (int epoch = 0; epoch < epochs; epoch++) {
                Collections.shuffle(order, rng);
                double total = 0;
                int batches = 0;
                for (int s = 0; s + N <= windows; s += N) {
                    for (int i = 0; i < N; i++) {
                        int w = order.get(s + i);
                        for (int j = 0; j < T; j++) {
                            x[i * T + j] = (float) sin[w + j];
                            t[i * T + j] = (float) cos[w + j];
                        }
                    }
                    backend.copyIn(xs, x);
                    backend.copyIn(ts, t);
                    total += NonFiniteLossException.requireFinite(model.forward(xs, ts), ++step);
                    model.backward();
                    adam.step(model.store());
                    batches++;
                }
                if (epoch == 0) {
                    firstEpochLoss = total / batches;
                }
                lastEpochLoss = total / batches;
            }
            // free-running decoding (the decoder reads its own outputs) at the seed's starting points
            int[] starts = {0, 24, 49, 74, windows - 1};
            float[][] in = new float[starts.length][T];
            for (int k = 0; k < starts.length; k++) {
                for (int j = 0; j < T; j++) {
                    in[k][j] = (float) sin[starts[k] + j];
                }
            }
            float[][] out = model.predict(in, T);
            double sse = 0;
            for (int k = 0; k < starts.length; k++) {
                for (int j = 0; j < T; j++) {
                    double e = out[k][j] - cos[starts[k] + j];
                    sse += e * e;
                }
            }
            double rmse = Math.sqrt(sse / (starts.length * T));
            System.out.printf("wave seq2seq (%s): loss %.5f -> %.5f over %d steps, free-running rmse %.3f%n", backendName,
                    firstEpochLoss, lastEpochLoss, step, rmse);
            // loss = 0.5 * sum over the T steps / N (about 6 * mean squared error); seeds 1..3 ended at
            // 0.0002-0.0005 with free-running rmse 0.016-0.035
            assertTrue(lastEpochLoss < 0.003, "mean loss of the last epoch " + lastEpochLoss + " should be < 0.003 (from "
                    + firstEpochLoss + ")");
            assertTrue(rmse < 0.1, "free-running rmse " + rmse + " should be < 0.1");
        }
    }
}
