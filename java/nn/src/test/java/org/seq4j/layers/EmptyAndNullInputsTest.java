// Inputs at the edges of the layers' shapes and arguments, each refused in one line naming the call (a red-team pass):
// attention over no encoder steps (the softmax of nothing gave zero contexts), TimeMSE over no rows (a loss divided by
// N = 0) or scoring the last of no steps ("index -1"), a carried state of no rows (accepted, then every forward refused
// for its N), a null key in copyInAll (a bare NullPointerException from a TreeSet), and a null input to a dropout in
// evaluation (handed back as its output).
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class EmptyAndNullInputsTest {
    static final int N = 2, H = 3;
    final Backend backend = TestBackends.reference();
    final Workspace ws = new Workspace(backend);

    @AfterEach
    void tearDown() {
        ws.close();
    }

    private static void refused(Class<? extends RuntimeException> type, String start, Executable call) {
        RuntimeException e = assertThrows(type, call, start);
        assertTrue(e.getMessage().startsWith(start), e.getMessage());
    }

    @Test
    void attentionOverNoEncoderStepsIsRefused() {
        try (TimeAttention timeAttention = new TimeAttention(backend);
             Attention attention = new Attention(backend);
             AttentionWeight weight = new AttentionWeight(backend)) {
            refused(IllegalArgumentException.class, "TimeAttention.forward needs hsEnc (T_enc >= 1, N, H)",
                    () -> timeAttention.forward(ws.floats(0, N, H), ws.floats(4, N, H)));
            refused(IllegalArgumentException.class, "Attention.forward needs hs (T >= 1, N, H)",
                    () -> attention.forward(ws.floats(0, N, H), ws.floats(N, H)));
            refused(IllegalArgumentException.class, "AttentionWeight.forward needs hs (T >= 1, N, H)",
                    () -> weight.forward(ws.floats(0, N, H), ws.floats(N, H)));
            assertEquals(N * H, attention.forward(ws.floats(1, N, H), ws.floats(N, H)).size(), "T = 1 runs");
        }
    }

    @Test
    void aSquaredErrorOverNoRowsOrNoLastStepIsRefused() {
        try (TimeMSE all = new TimeMSE(backend, TimeMSE.Steps.ALL);
             TimeMSE last = new TimeMSE(backend, TimeMSE.Steps.LAST)) {
            refused(IllegalArgumentException.class, "TimeMSE.forward (ALL steps) needs ys (T, N >= 1, F)",
                    () -> all.forward(ws.floats(3, 0, 1), ws.floats(3, 0, 1)));
            refused(IllegalArgumentException.class, "TimeMSE.forward (LAST steps) needs ys (T >= 1, N >= 1, F)",
                    () -> last.forward(ws.floats(0, N, 1), ws.floats(N, 1)));
            assertEquals(0f, all.forward(ws.floats(0, N, 1), ws.floats(0, N, 1)).toFloatArray()[0],
                    "no steps of N rows: a loss of 0");
        }
    }

    /**
     * No features (D = 0): the output is b in every row, as Affine gives it (TimeAffine passed D as the row stride, 0,
     * which gemm refuses: "lda = 0 is smaller than the 0 columns", now "must be at least 1"), both ways round, forward and backward.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    void anAffineOverNoFeaturesGivesTheBias(String name) {
        Backend on = TestBackends.get(name);
        try (Workspace w = new Workspace(on)) {
            for (boolean transposed : new boolean[] {false, true}) {
                int[] shape = transposed ? new int[] {2, 0} : new int[] {0, 2};
                Parameter W = new Parameter("W", w.floats(shape), w.floats(shape));
                Parameter b = new Parameter("b", w.floats(2), w.floats(2));
                on.fill(b.value(), 1.5f);
                on.fill(b.grad(), 0f);
                try (TimeAffine affine = new TimeAffine(on, W, b, transposed)) {
                    Tensor out = affine.forward(w.floats(2, 3, 0));
                    float[] expected = new float[12];
                    java.util.Arrays.fill(expected, 1.5f);
                    assertArrayEquals(expected, TestBackends.values(on, out), "transposed W: " + transposed);
                    Tensor dout = w.floats(2, 3, 2);
                    on.fill(dout, 1f);
                    assertEquals(0, affine.backward(dout).size(), "dx of no features");
                    assertArrayEquals(new float[] {6, 6}, TestBackends.values(on, b.grad()),
                            "db: dout summed over T x N");
                }
            }
        }
    }

    /**
     * T x N past int's range, reachable with zero-sized tensors: refused in the layer's words (a view's "negative
     * dimension in shape (-2147479015, 0)", or, wrapped to 0 rows, gemm's "lda = 0").
     */
    @Test
    void rowsPastIntsRangeAreRefused() {
        Parameter W = new Parameter("W", ws.floats(0, 0), ws.floats(0, 0));
        Parameter b = new Parameter("b", ws.floats(0), ws.floats(0));
        try (TimeAffine affine = new TimeAffine(backend, W, b)) {
            refused(IllegalArgumentException.class, "TimeAffine.forward: T x N = 46341 x 46341 = 2147488281 rows",
                    () -> affine.forward(ws.floats(46341, 46341, 0)));
            refused(IllegalArgumentException.class, "TimeAffine.forward: T x N = 65536 x 65536 = 4294967296 rows",
                    () -> affine.forward(ws.floats(65536, 65536, 0)));
        }
        Parameter wx = new Parameter("Wx", ws.floats(0, 4 * H), ws.floats(0, 4 * H));
        Parameter wh = new Parameter("Wh", ws.floats(H, 4 * H), ws.floats(H, 4 * H));
        Parameter lb = new Parameter("b", ws.floats(4 * H), ws.floats(4 * H));
        try (TimeLSTM lstm = new TimeLSTM(backend, wx, wh, lb, false)) {
            refused(IllegalArgumentException.class, "TimeLSTM.forward: T x N = 65536 x 65536 = 4294967296 rows",
                    () -> lstm.forward(ws.floats(65536, 65536, 0)));
        }
    }

    /**
     * A null backend or parameter refused by the constructor in the layer's name (the first forward said
     * "this.backend is null"); Init.fill names a null array or Random and a range outside the array.
     */
    @Test
    void aNullBackendOrParameterIsRefusedByTheConstructor() {
        Parameter wx = new Parameter("Wx", ws.floats(H, 4 * H), ws.floats(H, 4 * H));
        Parameter wh = new Parameter("Wh", ws.floats(H, 4 * H), ws.floats(H, 4 * H));
        Parameter lb = new Parameter("b", ws.floats(4 * H), ws.floats(4 * H));
        Parameter w = new Parameter("W", ws.floats(H, H), ws.floats(H, H));
        Parameter b = new Parameter("b", ws.floats(H), ws.floats(H));
        refused(NullPointerException.class, "TimeLSTM: backend is null", () -> new TimeLSTM(null, wx, wh, lb, false));
        refused(NullPointerException.class, "TimeEmbedding: backend is null", () -> new TimeEmbedding(null, w));
        refused(NullPointerException.class, "TimeAffine: backend is null", () -> new TimeAffine(null, w, b));
        refused(NullPointerException.class, "TimeAttention: backend is null", () -> new TimeAttention(null));
        refused(NullPointerException.class, "TimeSoftmaxWithLoss: backend is null", () -> new TimeSoftmaxWithLoss(null));
        refused(NullPointerException.class, "ParameterStore.builder: backend is null", () -> ParameterStore.builder(null));
        // a null parameter, or a null backend of a layer without a workspace: a parameter failed with the JDK's
        // NullPointerException about the constructor's local ("Cannot invoke Parameter.value() because W is null"),
        // and Affine, MatMul, Embedding, RNN, LSTM and GRU kept a null backend until their first forward
        String expected = " is null; expected its Parameter (a ParameterStore's, or a new Parameter(name, value, grad))";
        refused(NullPointerException.class, "Affine: W" + expected, () -> new Affine(backend, null, b));
        refused(NullPointerException.class, "Affine: b" + expected, () -> new Affine(backend, w, null));
        refused(NullPointerException.class, "TimeAffine: b" + expected, () -> new TimeAffine(backend, w, null));
        refused(NullPointerException.class, "MatMul: W" + expected, () -> new MatMul(backend, null));
        refused(NullPointerException.class, "Embedding: W" + expected, () -> new Embedding(backend, null));
        refused(NullPointerException.class, "TimeEmbedding: W" + expected, () -> new TimeEmbedding(backend, null));
        refused(NullPointerException.class, "LSTM: Wh" + expected, () -> new LSTM(backend, wx, null, lb));
        refused(NullPointerException.class, "TimeLSTM: b" + expected, () -> new TimeLSTM(backend, wx, wh, null, true));
        refused(NullPointerException.class, "GRU: Wx" + expected, () -> new GRU(backend, null, wh, lb));
        refused(NullPointerException.class, "TimeGRU: Wh" + expected, () -> new TimeGRU(backend, wx, null, lb, true));
        refused(NullPointerException.class, "RNN: b" + expected, () -> new RNN(backend, w, w, null));
        refused(NullPointerException.class, "TimeRNN: Wx" + expected, () -> new TimeRNN(backend, null, w, b, true));
        String noBackend = ": backend is null; expected the Backend the layer runs on";
        refused(NullPointerException.class, "Affine" + noBackend, () -> new Affine(null, w, b));
        refused(NullPointerException.class, "MatMul" + noBackend, () -> new MatMul(null, w));
        refused(NullPointerException.class, "Embedding" + noBackend, () -> new Embedding(null, w));
        refused(NullPointerException.class, "LSTM" + noBackend, () -> new LSTM(null, wx, wh, lb));
        refused(NullPointerException.class, "RNN" + noBackend, () -> new RNN(null, w, w, b));
        Init normal = Init.normal(0.1);
        refused(NullPointerException.class, "Init.fill: out is null",
                () -> normal.fill(null, 0, 1, new java.util.Random(1)));
        refused(NullPointerException.class, "Init.fill: rng is null; expected the seeded Random that Normal[std=0.1]",
                () -> normal.fill(new float[2], 0, 2, null));
        refused(IndexOutOfBoundsException.class, "Init.fill: offset 1 and count 2 reach outside out (length 2);"
                + " expected 0 <= offset", () -> normal.fill(new float[2], 1, 2, new java.util.Random(1)));
        float[] ones = {1f, 1f};
        Init.zeros().fill(ones, 0, 2, null);   // draws nothing: no Random needed
        assertArrayEquals(new float[2], ones);
    }

    @Test
    void aStateOfNoRowsIsRefused() {
        try (ParameterStore store = ParameterStore.builder(backend)
                .declare("rnn.Wx", Init.zeros(), H, H).declare("rnn.Wh", Init.zeros(), H, H).declare("rnn.b", Init.zeros(), H)
                .declare("lstm.Wx", Init.zeros(), H, 4 * H).declare("lstm.Wh", Init.zeros(), H, 4 * H)
                .declare("lstm.b", Init.zeros(), 4 * H)
                .declare("gru.Wx", Init.zeros(), H, 3 * H).declare("gru.Wh", Init.zeros(), H, 3 * H)
                .declare("gru.b", Init.zeros(), 3 * H).build(1);
             TimeRNN rnn = new TimeRNN(backend, store.get("rnn.Wx"), store.get("rnn.Wh"), store.get("rnn.b"), true);
             TimeLSTM lstm = new TimeLSTM(backend, store.get("lstm.Wx"), store.get("lstm.Wh"), store.get("lstm.b"), true);
             TimeGRU gru = new TimeGRU(backend, store.get("gru.Wx"), store.get("gru.Wh"), store.get("gru.b"), true)) {
            refused(IllegalArgumentException.class, "TimeRNN.setState needs h (N >= 1, H=3)",
                    () -> rnn.setState(ws.floats(0, H)));
            refused(IllegalArgumentException.class, "TimeLSTM.setState needs h (N >= 1, H=3)",
                    () -> lstm.setState(ws.floats(0, H), ws.floats(0, H)));
            refused(IllegalArgumentException.class, "TimeGRU.setState needs h (N >= 1, H=3)",
                    () -> gru.setState(ws.floats(0, H)));
        }
    }

    @Test
    void copyInAllRefusesANullMapOrKey() {
        try (ParameterStore store = ParameterStore.builder(backend).declare("w", Init.zeros(), 2).build(1)) {
            Map<String, float[]> data = new HashMap<>();
            data.put("w", new float[2]);
            data.put(null, new float[2]);
            refused(IllegalArgumentException.class, "ParameterStore.copyInAll: a key is null", () -> store.copyInAll(data));
            refused(NullPointerException.class, "ParameterStore.copyInAll: data is null", () -> store.copyInAll(null));
        }
    }

    @Test
    void aDropoutInEvaluationRefusesANullInput() {
        try (TimeDropout dropout = new TimeDropout(backend, 0.5f, 1)) {
            dropout.setTraining(false);
            refused(NullPointerException.class, "TimeDropout.forward: xs is null", () -> dropout.forward(null));
        }
    }

    /**
     * A null input to a forward that checked nothing of it first failed with the JDK's NullPointerException about a
     * local ("Cannot invoke Tensor.shape() because x is null"), naming no layer; it is refused naming the call now.
     */
    @Test
    void aForwardRefusesANullInputNamingTheCall() {
        try (Sigmoid sigmoid = new Sigmoid(backend);
             Softmax softmax = new Softmax(backend);
             SoftmaxWithLoss swl = new SoftmaxWithLoss(backend);
             TimeSoftmaxWithLoss tswl = new TimeSoftmaxWithLoss(backend);
             TimeMSE mse = new TimeMSE(backend, TimeMSE.Steps.ALL)) {
            refused(NullPointerException.class, "Sigmoid.forward: x is null", () -> sigmoid.forward(null));
            refused(NullPointerException.class, "Softmax.forward: x is null", () -> softmax.forward(null));
            refused(NullPointerException.class, "SoftmaxWithLoss.forward: t is null",
                    () -> swl.forward(ws.floats(2, 3), null));
            refused(NullPointerException.class, "TimeSoftmaxWithLoss.forward: xs is null",
                    () -> tswl.forward(null, ws.ints(1, 2)));
            refused(NullPointerException.class, "TimeMSE.forward: ts is null", () -> mse.forward(ws.floats(1, 2, 3), null));
        }
    }
}
