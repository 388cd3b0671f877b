// Behaviour of the recurrent layers' state: a stateful layer run over two halves of a sequence gives the same
// hidden states as one run over the whole; a stateless one starts from zero every time; misuse is reported.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class StatefulLayersTest {
    static final int D = 3, H = 4, N = 2, T = 6;
    Backend backend;
    Workspace ws;
    ParameterStore store;
    float[] xs;

    @BeforeEach
    void setUp() {
        backend = TestBackends.reference();
        ws = new Workspace(backend);
        store = ParameterStore.builder(backend)
                .declare("lstm.Wx", Init.scaledNormal(D), D, 4 * H).declare("lstm.Wh", Init.scaledNormal(H), H, 4 * H)
                .declare("lstm.b", Init.normal(0.1), 4 * H)
                .declare("rnn.Wx", Init.scaledNormal(D), D, H).declare("rnn.Wh", Init.scaledNormal(H), H, H)
                .declare("rnn.b", Init.normal(0.1), H)
                .declare("gru.Wx", Init.scaledNormal(D), D, 3 * H).declare("gru.Wh", Init.scaledNormal(H), H, 3 * H)
                .declare("gru.b", Init.normal(0.1), 3 * H).build(4);
        xs = GradientCheck.randn(new Random(8), 1, T * N * D);
    }

    @AfterEach
    void tearDown() {
        store.close();
        ws.close();
    }

    private TimeLSTM lstm(boolean stateful) {
        return new TimeLSTM(backend, store.get("lstm.Wx"), store.get("lstm.Wh"), store.get("lstm.b"), stateful);
    }

    private Tensor steps(int from, int to) {
        return GradientCheck.tensor(backend, ws, Arrays.copyOfRange(xs, from * N * D, to * N * D), to - from, N, D);
    }

    @Test
    void statefulTimeLSTMContinuesAcrossForwards() {
        try (TimeLSTM whole = lstm(false); TimeLSTM halves = lstm(true)) {
            float[] all = whole.forward(steps(0, T)).toFloatArray();
            float[] first = halves.forward(steps(0, 2)).toFloatArray();
            float[] second = halves.forward(steps(2, T)).toFloatArray();   // also re-sizes the workspace (T 2 -> 4)
            float[] joined = new float[all.length];
            System.arraycopy(first, 0, joined, 0, first.length);
            System.arraycopy(second, 0, joined, first.length, second.length);
            // the same arithmetic in the same order: bit-identical on the reference backend
            assertArrayEquals(all, joined, "two stateful halves must equal one pass over the whole sequence");

            halves.resetState();
            assertArrayEquals(Arrays.copyOfRange(all, 0, first.length), halves.forward(steps(0, 2)).toFloatArray(),
                    "after resetState the layer starts from zero again");
        }
    }

    @Test
    void statelessTimeLSTMStartsFromZeroEveryTime() {
        try (TimeLSTM layer = lstm(false)) {
            float[] a = layer.forward(steps(0, 3)).toFloatArray();
            layer.forward(steps(3, T));
            assertArrayEquals(a, layer.forward(steps(0, 3)).toFloatArray());
            assertThrows(IllegalStateException.class, () -> layer.setState(ws.floats(N, H)),
                    "setState on a stateless layer would be ignored, so it is refused");
        }
    }

    @Test
    void statefulTimeRNNContinuesAcrossForwards() {
        try (TimeRNN whole = new TimeRNN(backend, store.get("rnn.Wx"), store.get("rnn.Wh"), store.get("rnn.b"), false);
             TimeRNN halves = new TimeRNN(backend, store.get("rnn.Wx"), store.get("rnn.Wh"), store.get("rnn.b"), true)) {
            float[] all = whole.forward(steps(0, T)).toFloatArray();
            float[] first = halves.forward(steps(0, 4)).toFloatArray();
            float[] second = halves.forward(steps(4, T)).toFloatArray();
            float[] joined = new float[all.length];
            System.arraycopy(first, 0, joined, 0, first.length);
            System.arraycopy(second, 0, joined, first.length, second.length);
            assertArrayEquals(all, joined);
        }
    }

    @Test
    void aHeldStateOfAnotherBatchSizeIsReported() {
        try (TimeLSTM layer = lstm(true)) {
            layer.forward(steps(0, 2));
            Tensor threeRows = ws.floats(2, 3, D);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> layer.forward(threeRows));
            assertTrue(e.getMessage().contains("N=2") && e.getMessage().contains("N=3") && e.getMessage().contains("resetState"),
                    e.getMessage());
            layer.resetState();
            layer.forward(threeRows);   // fine after a reset
        }
    }

    @Test
    void wrongInputShapesAreReported() {
        try (TimeLSTM layer = lstm(false);
             TimeAffine affine = new TimeAffine(backend, store.get("rnn.Wh"), store.get("rnn.b"))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> layer.forward(ws.floats(2, N, D + 1)));
            assertTrue(e.getMessage().contains("D=3"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> affine.forward(ws.floats(2, N, H + 1)));
            assertTrue(e.getMessage().contains("D=4"), e.getMessage());
            assertThrows(IllegalStateException.class, () -> layer.backward(ws.floats(2, N, H)), "backward before forward");
        }
    }

    /**
     * setState with an int32 h of the right shape, or one whose memory was freed: refused by the copy ("copy: dst is
     * F32 but src is I32") after the carried state had been dropped. Checked first now, naming setState and h; the
     * state set before stays.
     */
    @Test
    void aRefusedSetStateKeepsTheStateSetBefore() {
        try (TimeLSTM lstm = lstm(true);
             TimeGRU gru = new TimeGRU(backend, store.get("gru.Wx"), store.get("gru.Wh"), store.get("gru.b"), true);
             TimeRNN rnn = new TimeRNN(backend, store.get("rnn.Wx"), store.get("rnn.Wh"), store.get("rnn.b"), true);
             Workspace freed = new Workspace(backend)) {
            Tensor h = GradientCheck.tensor(backend, ws, GradientCheck.randn(new Random(9), 1, N * H), N, H);
            Tensor ints = ws.ints(N, H);
            Tensor closed = freed.floats(N, H);
            freed.reset();
            // TimeRNN is no TimeRecurrent: each layer as its name, setState and forward
            record Layer(String name, java.util.function.Consumer<Tensor> setState,
                         java.util.function.UnaryOperator<Tensor> forward) {
            }
            Layer[] layers = {new Layer("TimeLSTM", lstm::setState, lstm::forward),
                new Layer("TimeGRU", gru::setState, gru::forward), new Layer("TimeRNN", rnn::setState, rnn::forward)};
            for (Layer layer : layers) {
                String name = layer.name();
                layer.setState().accept(h);
                IllegalArgumentException dtype = assertThrows(IllegalArgumentException.class,
                        () -> layer.setState().accept(ints));
                assertTrue(dtype.getMessage().startsWith(name + ".setState: h must be float32"), dtype.getMessage());
                assertTrue(dtype.getMessage().contains("I32"), dtype.getMessage());
                IllegalStateException dead = assertThrows(IllegalStateException.class,
                        () -> layer.setState().accept(closed));
                assertTrue(dead.getMessage().startsWith(name + ".setState: h ") && dead.getMessage().contains("closed"),
                        dead.getMessage());
                NullPointerException none = assertThrows(NullPointerException.class,
                        () -> layer.setState().accept(null));
                assertTrue(none.getMessage().startsWith(name + ".setState: h is null"), none.getMessage());
                float[] after = layer.forward().apply(steps(0, 2)).toFloatArray();
                layer.setState().accept(h);
                assertArrayEquals(layer.forward().apply(steps(0, 2)).toFloatArray(), after,
                        name + ": a refused setState dropped the state set before it");
            }
            lstm.setState(h);
            assertThrows(IllegalArgumentException.class, () -> lstm.setState(h, ints));
            float[] after = lstm.forward(steps(0, 2)).toFloatArray();
            lstm.setState(h);
            assertArrayEquals(lstm.forward(steps(0, 2)).toFloatArray(), after, "a refused c dropped the state");
        }
    }
}
