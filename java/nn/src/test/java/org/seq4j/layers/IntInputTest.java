// An int32 tensor where a layer takes float32 values (ids passed where their vectors belong) was refused by the first
// kernel to read it, "gemm: a must be F32 but is I32", naming neither the layer nor the argument (a red-team find).
// Every layer's forward now says so in its own words, before any kernel runs; a float32 input of the same shape runs.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class IntInputTest {
    static final int T = 3, N = 2, D = 4, H = 4;

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    void anInt32InputIsRefusedByTheLayerNamingFloat32(String backendName) {
        Backend backend = TestBackends.get(backendName);
        ParameterStore.Builder builder = ParameterStore.builder(backend).declare("W", Init.scaledNormal(D), D, H)
                .declare("b", Init.zeros(), H);
        for (String c : new String[] {"lstm", "gru", "rnn", "bf", "bb"}) {
            int g = c.equals("rnn") ? H : c.equals("gru") ? 3 * H : 4 * H;
            builder.declare(c + ".Wx", Init.scaledNormal(D), D, g).declare(c + ".Wh", Init.scaledNormal(H), H, g)
                    .declare(c + ".b", Init.zeros(), g);
        }
        try (ParameterStore s = builder.build(3); Arena arena = Arena.ofConfined()) {
            Tensor ints2 = backend.allocate(arena, DType.I32, N, D), ints3 = backend.allocate(arena, DType.I32, T, N, D);
            Tensor h = backend.allocate(arena, DType.F32, N, H);
            Tensor labels = backend.allocate(arena, DType.I32, N), labels2 = backend.allocate(arena, DType.I32, T, N);
            Map<String, Executable> calls = new LinkedHashMap<>();
            Affine affine = new Affine(backend, s.get("W"), s.get("b"));
            MatMul matMul = new MatMul(backend, s.get("W"));
            TimeAffine timeAffine = new TimeAffine(backend, s.get("W"), s.get("b"));
            LSTM lstm = new LSTM(backend, s.get("lstm.Wx"), s.get("lstm.Wh"), s.get("lstm.b"));
            GRU gru = new GRU(backend, s.get("gru.Wx"), s.get("gru.Wh"), s.get("gru.b"));
            RNN rnn = new RNN(backend, s.get("rnn.Wx"), s.get("rnn.Wh"), s.get("rnn.b"));
            TimeLSTM timeLstm = new TimeLSTM(backend, s.get("lstm.Wx"), s.get("lstm.Wh"), s.get("lstm.b"), false);
            TimeGRU timeGru = new TimeGRU(backend, s.get("gru.Wx"), s.get("gru.Wh"), s.get("gru.b"), false);
            TimeRNN timeRnn = new TimeRNN(backend, s.get("rnn.Wx"), s.get("rnn.Wh"), s.get("rnn.b"), false);
            TimeBiRecurrent bi = new TimeBiRecurrent(backend, Cell.LSTM, s.get("bf.Wx"), s.get("bf.Wh"), s.get("bf.b"),
                    s.get("bb.Wx"), s.get("bb.Wh"), s.get("bb.b"));
            Softmax softmax = new Softmax(backend);
            SoftmaxWithLoss softmaxLoss = new SoftmaxWithLoss(backend);
            TimeSoftmaxWithLoss timeSoftmaxLoss = new TimeSoftmaxWithLoss(backend);
            calls.put("Affine.forward", () -> affine.forward(ints2));
            calls.put("MatMul.forward", () -> matMul.forward(ints2));
            calls.put("TimeAffine.forward", () -> timeAffine.forward(ints3));
            calls.put("LSTM.forward", () -> lstm.forward(ints2, h, h));
            calls.put("GRU.forward", () -> gru.forward(ints2, h));
            calls.put("RNN.forward", () -> rnn.forward(ints2, h));
            calls.put("TimeLSTM.forward", () -> timeLstm.forward(ints3));
            calls.put("TimeGRU.forward", () -> timeGru.forward(ints3));
            calls.put("TimeRNN.forward", () -> timeRnn.forward(ints3));
            calls.put("TimeBiRecurrent.forward", () -> bi.forward(ints3));
            calls.put("Softmax.forward", () -> softmax.forward(ints2));
            calls.put("SoftmaxWithLoss.forward", () -> softmaxLoss.forward(ints2, labels));
            calls.put("TimeSoftmaxWithLoss.forward", () -> timeSoftmaxLoss.forward(ints3, labels2));
            for (var c : calls.entrySet()) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, c.getValue(), c.getKey());
                assertTrue(e.getMessage().startsWith(c.getKey() + " needs ") && e.getMessage().contains("float32"),
                        c.getKey() + ": " + e.getMessage());
            }
            // the state too: an int32 h_prev
            Tensor x = backend.allocate(arena, DType.F32, N, D), intH = backend.allocate(arena, DType.I32, N, H);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> gru.forward(x, intH));
            assertTrue(e.getMessage().startsWith("GRU.forward needs x (N, D=4) and h_prev (N, H=4), both float32, got"),
                    e.getMessage());
            gru.forward(x, h);
            timeLstm.forward(backend.allocate(arena, DType.F32, T, N, D));
            for (AutoCloseable layer : new AutoCloseable[] {affine, matMul, timeAffine, lstm, gru, rnn, timeLstm, timeGru,
                    timeRnn, bi, softmax, softmaxLoss, timeSoftmaxLoss}) {
                layer.close();
            }
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
