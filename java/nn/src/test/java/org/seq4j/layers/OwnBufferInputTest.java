// A layer's forward refuses an input that lies in the layer's own buffers, such as its last forward's output fed back
// in (hs = lstm.forward(lstm.forward(xs)) with D = H): the forward overwrote the buffer its backward reads the input
// from again (dWx = xs^T dA), so that backward silently used the new output for xs. For the recurrent layers, whose
// forwards write their output in other kernels than the ones that read the input, and TimeAttention (its kernel's
// overlap check refused it, naming the kernel's arguments; now the layer names its own); the other layers' kernels
// refuse it themselves. A copy of the same output is taken as before. Later (a red-team find) the layers of one step
// and the attention parts, whose kernels did not refuse every such input (Affine's x = its own dx, an LSTM cell's
// h_prev = its h_next), and the bidirectional layer's input in a direction's buffers. Then TimeMSE's inputs in its
// own gradient dys, which its Steps.LAST backward zeroed before reading the predictions.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
            // the bidirectional layer again, with directions of H units over D = H: a direction's output fits its input
            .declare("wf.Wx", Init.scaledNormal(H), H, 4 * H).declare("wf.Wh", Init.scaledNormal(H), H, 4 * H)
            .declare("wf.b", Init.zeros(), 4 * H)
            .declare("wb.Wx", Init.scaledNormal(H), H, 4 * H).declare("wb.Wh", Init.scaledNormal(H), H, 4 * H)
            .declare("wb.b", Init.zeros(), 4 * H)
            .declare("affine.W", Init.scaledNormal(H), H, H).declare("affine.b", Init.zeros(), H)
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

    /** The call is refused, naming the layer and the input, as lying in the layer's own buffers. */
    private static void refused(String layer, String input, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call, layer + " " + input);
        assertTrue(e.getMessage().startsWith(layer + ".forward: " + input + " lies in this layer's own buffers"),
                e.getMessage());
    }

    /**
     * The layers whose forward kept an input that their backward overwrites before reading it (Affine's x = its dx:
     * dx = dout W^T is written, then dW += x^T dout read the new dx) or that their next forward overwrites (an LSTM
     * cell's h_prev = its h_next: dWh took the step's output for its input), with no word: now refused, naming the
     * input. Each still runs and trains on copies.
     */
    @Test
    void theOtherLayersRefuseTheirOwnBuffersAsInputs() {
        Random r = new Random(6);
        Tensor x = floats(r, N, H), h = floats(r, N, H), c = floats(r, N, H), dout = floats(r, N, H);
        Tensor xs = floats(r, T, N, H), a = floats(r, N, T);
        try (Affine affine = new Affine(backend, store.get("affine.W"), store.get("affine.b"));
             MatMul matMul = new MatMul(backend, store.get("affine.W"));
             TimeAffine timeAffine = new TimeAffine(backend, store.get("affine.W"), store.get("affine.b"));
             LSTM lstm = new LSTM(backend, store.get("lstm.Wx"), store.get("lstm.Wh"), store.get("lstm.b"));
             RNN rnn = new RNN(backend, store.get("rnn.Wx"), store.get("rnn.Wh"), store.get("rnn.b"));
             GRU gru = new GRU(backend, store.get("gru.Wx"), store.get("gru.Wh"), store.get("gru.b"));
             WeightSum weightSum = new WeightSum(backend);
             AttentionWeight attentionWeight = new AttentionWeight(backend);
             Attention attention = new Attention(backend)) {
            affine.forward(x);
            Tensor dx = affine.backward(dout);
            refused("Affine", "x", () -> affine.forward(dx));
            refused("Affine", "x", () -> affine.forward(affine.forward(x)));   // D = H: its output
            matMul.forward(x);
            Tensor mdx = matMul.backward(dout);
            refused("MatMul", "x", () -> matMul.forward(mdx));
            timeAffine.forward(xs);
            Tensor tdx = timeAffine.backward(floats(r, T, N, H));
            refused("TimeAffine", "x", () -> timeAffine.forward(tdx));

            // each layer's buffers taken first (an output is readable only until the next forward starts), then
            // offered back as inputs
            Tensor hNext = lstm.forward(x, h, c), cNext = lstm.cNext(), ldx = lstm.backward(dout, floats(r, N, H));
            refused("LSTM", "hPrev", () -> lstm.forward(x, hNext, c));   // a loop over one cell: h = lstm.forward(x, h, c)
            refused("LSTM", "cPrev", () -> lstm.forward(x, h, cNext));
            refused("LSTM", "x", () -> lstm.forward(ldx, h, c));
            Tensor rh = rnn.forward(x, h), rdx = rnn.backward(dout);
            refused("RNN", "hPrev", () -> rnn.forward(x, rh));
            refused("RNN", "x", () -> rnn.forward(rdx, h));
            Tensor gh = gru.forward(x, h), gdx = gru.backward(dout);
            refused("GRU", "hPrev", () -> gru.forward(x, gh));
            refused("GRU", "x", () -> gru.forward(gdx, h));

            weightSum.forward(xs, a);
            Tensor wdhs = weightSum.backward(dout), wda = weightSum.da();
            refused("WeightSum", "hs", () -> weightSum.forward(wdhs, a));
            refused("WeightSum", "a", () -> weightSum.forward(xs, wda));
            attentionWeight.forward(xs, h);
            Tensor adhs = attentionWeight.backward(floats(r, N, T)), adh = attentionWeight.dh();
            refused("AttentionWeight", "hs", () -> attentionWeight.forward(adhs, h));
            refused("AttentionWeight", "h", () -> attentionWeight.forward(xs, adh));
            Tensor ctx = attention.forward(xs, h);
            refused("Attention", "h", () -> attention.forward(xs, ctx));

            // copies run, and their backwards too
            Tensor copy = inputs.floats(N, H);
            backend.copy(copy, lstm.forward(x, h, c));
            lstm.forward(x, copy, c);
            lstm.backward(dout, floats(r, N, H));
            backend.copy(copy, affine.forward(x));
            affine.forward(copy);
            affine.backward(dout);
        }
    }

    /**
     * The bidirectional layer's input in a direction's buffers (its backward direction's last output, D = H): the
     * forward direction kept it, and the backward direction's forward then overwrote it, so that the forward
     * direction's dWx took the backward direction's output. Refused before either direction runs.
     */
    @Test
    void theBidirectionalLayerRefusesItsDirectionsBuffers() {
        Random r = new Random(7);
        Tensor xs = floats(r, T, N, H);
        try (TimeBiRecurrent bi = new TimeBiRecurrent(backend, Cell.LSTM, store.get("wf.Wx"), store.get("wf.Wh"),
                store.get("wf.b"), store.get("wb.Wx"), store.get("wb.Wh"), store.get("wb.b"))) {
            Tensor backwardOut = bi.backwardLayer().forward(xs);
            Tensor forwardOut = bi.forwardLayer().forward(xs);
            for (Tensor mine : new Tensor[] {backwardOut, forwardOut}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> bi.forward(mine));
                assertTrue(e.getMessage().startsWith("TimeBiRecurrent.forward: xs lies in the buffers of one of its "
                        + "directions' layers"), e.getMessage());
            }
            bi.forward(xs);
            bi.backward(floats(r, T, N, 2 * H));
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

    /**
     * TimeMSE's dys (its last backward's output) fed back as the predictions or the targets. With Steps.LAST the
     * backward filled dys with zeros before it read the last step's predictions from it: every gradient silently 0.
     * Refused for both step kinds and both inputs; a copy trains, to the gradient (y - t) / N on the last step.
     */
    @Test
    void timeMseRefusesItsOwnGradientAsEitherInput() {
        for (TimeMSE.Steps steps : TimeMSE.Steps.values()) {
            try (TimeMSE mse = new TimeMSE(backend, steps)) {
                Random r = new Random(8);
                Tensor ys = floats(r, T, N, H);
                Tensor ts = steps == TimeMSE.Steps.ALL ? floats(r, T, N, H) : floats(r, N, H);
                mse.forward(ys, ts);
                Tensor dys = mse.backward(1f);
                refused("TimeMSE", "ys", () -> mse.forward(dys, ts));
                Tensor dysAsTargets = steps == TimeMSE.Steps.ALL ? dys : dys.get(T - 1);
                refused("TimeMSE", "ts", () -> mse.forward(ys, dysAsTargets));

                Tensor copy = inputs.floats(T, N, H);
                backend.copy(copy, ys);
                mse.forward(copy, ts);
                float[] y = TestBackends.values(backend, ys), t = TestBackends.values(backend, ts);
                float[] d = TestBackends.values(backend, mse.backward(1f));
                int step = N * H, first = steps == TimeMSE.Steps.ALL ? 0 : (T - 1) * step;
                for (int i = 0; i < d.length; i++) {
                    float want = i < first ? 0f : (y[i] - t[i - first]) / N;
                    assertEquals(want, d[i], 1e-6f, steps + " dys[" + i + "]");
                }
            }
        }
    }
}
