// Inputs at the edges of the layers' shapes and arguments, each refused in one line naming the call (a red-team pass):
// attention over no encoder steps (the softmax of nothing gave zero contexts), TimeMSE over no rows (a loss divided by
// N = 0) or scoring the last of no steps ("index -1"), a carried state of no rows (accepted, then every forward refused
// for its N), a null key in copyInAll (a bare NullPointerException from a TreeSet), and a null input to a dropout in
// evaluation (handed back as its output).
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.seq4j.backend.Backend;
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
}
