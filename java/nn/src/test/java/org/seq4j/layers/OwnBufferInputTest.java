// A layer's forward refuses an input that lies in the layer's own buffers, such as its last forward's output fed back
// in (hs = lstm.forward(lstm.forward(xs)) with D = H): the forward overwrote the buffer its backward reads the input
// from again (dWx = xs^T dA), so that backward silently used the new output for xs. For the recurrent layers, whose
// forwards write their output in other kernels than the ones that read the input, and TimeAttention (its kernel's
// overlap check refused it, naming the kernel's arguments; now the layer names its own); the other layers' kernels
// refuse it themselves. A copy of the same output is taken as before.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class OwnBufferInputTest {
    static final int T = 3, N = 2, H = 4;
    final Backend backend = TestBackends.reference();
    final Workspace inputs = new Workspace(backend);
    final ParameterStore store = ParameterStore.builder(backend)
            .declare("rnn.Wx", Init.scaledNormal(H), H, H).declare("rnn.Wh", Init.scaledNormal(H), H, H)
            .declare("rnn.b", Init.zeros(), H)
            .declare("lstm.Wx", Init.scaledNormal(H), H, 4 * H).declare("lstm.Wh", Init.scaledNormal(H), H, 4 * H)
            .declare("lstm.b", Init.zeros(), 4 * H)
            .declare("gru.Wx", Init.scaledNormal(H), H, 3 * H).declare("gru.Wh", Init.scaledNormal(H), H, 3 * H)
            .declare("gru.b", Init.zeros(), 3 * H)
            // the bidirectional layer: two LSTMs of H / 2 units over D = H, so that its output (T, N, H) fits its input
            .declare("bf.Wx", Init.scaledNormal(H), H, 4 * (H / 2)).declare("bf.Wh", Init.scaledNormal(H / 2), H / 2, 4 * (H / 2))
            .declare("bf.b", Init.zeros(), 4 * (H / 2))
            .declare("bb.Wx", Init.scaledNormal(H), H, 4 * (H / 2)).declare("bb.Wh", Init.scaledNormal(H / 2), H / 2, 4 * (H / 2))
            .declare("bb.b", Init.zeros(), 4 * (H / 2))
            .build(5);

    @AfterEach
    void tearDown() {
        store.close();
        inputs.close();
    }

    private Tensor floats(Random r, int... shape) {
        Tensor t = inputs.floats(shape);
        float[] v = new float[(int) t.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        backend.copyIn(t, v);
        return t;
    }

    /** forward(xs) returns out; forward(out) is refused, naming xs; forward(a copy of out) runs, as does its backward. */
    private void check(String layer, Function<Tensor, Tensor> forward, Runnable backward) {
        Tensor xs = floats(new Random(1), T, N, H);
        Tensor out = forward.apply(xs);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> forward.apply(out), layer);
        assertTrue(e.getMessage().startsWith(layer + ".forward: xs lies in this layer's own buffers"), e.getMessage());
        Tensor copy = inputs.floats(T, N, H);
        backend.copy(copy, forward.apply(xs));
        forward.apply(copy);
        backward.run();
    }

    @Test
    void theRecurrentLayersRefuseTheirOwnOutputAsInput() {
        Tensor dhs = floats(new Random(2), T, N, H);
        try (TimeRNN rnn = new TimeRNN(backend, store.get("rnn.Wx"), store.get("rnn.Wh"), store.get("rnn.b"), false);
             TimeLSTM lstm = new TimeLSTM(backend, store.get("lstm.Wx"), store.get("lstm.Wh"), store.get("lstm.b"), false);
             TimeGRU gru = new TimeGRU(backend, store.get("gru.Wx"), store.get("gru.Wh"), store.get("gru.b"), false);
             TimeBiRecurrent bi = new TimeBiRecurrent(backend, Cell.LSTM, store.get("bf.Wx"), store.get("bf.Wh"),
                     store.get("bf.b"), store.get("bb.Wx"), store.get("bb.Wh"), store.get("bb.b"))) {
            check("TimeRNN", rnn::forward, () -> rnn.backward(dhs));
            check("TimeLSTM", lstm::forward, () -> lstm.backward(dhs));
            check("TimeGRU", gru::forward, () -> gru.backward(dhs));
            check("TimeBiRecurrent", bi::forward, () -> bi.backward(dhs));
        }
    }

    @Test
    void timeAttentionRefusesItsOwnOutputAsEitherInput() {
        try (TimeAttention attention = new TimeAttention(backend)) {
            Tensor enc = floats(new Random(3), T, N, H), dec = floats(new Random(4), T, N, H);
            Tensor out = attention.forward(enc, dec);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> attention.forward(enc, out));
            assertTrue(e.getMessage().startsWith("TimeAttention.forward: hsDec lies in this layer's own buffers"),
                    e.getMessage());
            Tensor again = attention.forward(enc, dec);
            e = assertThrows(IllegalArgumentException.class, () -> attention.forward(again, dec));
            assertTrue(e.getMessage().startsWith("TimeAttention.forward: hsEnc lies in this layer's own buffers"),
                    e.getMessage());
            Tensor copy = inputs.floats(T, N, H);
            backend.copy(copy, attention.forward(enc, dec));
            attention.forward(enc, copy);
            attention.backward(floats(new Random(5), T, N, H));
        }
    }
}
