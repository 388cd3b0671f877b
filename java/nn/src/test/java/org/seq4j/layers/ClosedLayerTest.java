// A layer used after close() is refused in its own words, at any size: every forward, backward and accessor of a
// closed layer, and the calls that set what its next forward does, throw IllegalStateException "<Layer>.<call>: this
// <Layer> is already closed" and change no parameter gradient. Before, only a forward at a new size was refused (by the
// workspace: "TimeLSTM: this TimeLSTM is already closed"); at the size it last ran at, the first kernel refused the
// closed buffers in its own argument names ("gemm: c Tensor(3, 2, 16) ... belongs to an arena that is already
// closed"), an accessor handed out a buffer of the closed arena, a TimeDropout in evaluation mode passed its input
// through as if open, and an Embedding's or TimeEmbedding's backward added to W's gradient.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.seq4j.testing.TestBackends.values;

import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.backend.PackedMatrix;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class ClosedLayerTest {

    /** The call throws IllegalStateException "layer.call: this layer is already closed". */
    private static void refused(String layer, String call, Executable run) {
        IllegalStateException e = assertThrows(IllegalStateException.class, run, layer + "." + call + " after close");
        assertEquals(layer + "." + call + ": this " + layer + " is already closed", e.getMessage());
    }

    /**
     * Every kind of layer (SecondBackwardTest's cases: each with its forward and each of its backward methods), closed
     * after a forward and its backward and another forward, whose backward is still open: the forward at the size it
     * ran at and every backward are refused naming the layer, with the gradients as they were (an Embedding's and a
     * TimeEmbedding's backward read only the caller's ids and gradient, and added to W's gradient after close); closing
     * again does nothing.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.layers.SecondBackwardTest#cases")
    void aClosedLayersForwardAndBackwardAreRefused(Function<LayerFixture, SecondBackwardTest.Calls> make)
            throws Exception {
        try (LayerFixture c = new LayerFixture()) {
            SecondBackwardTest.Calls calls = make.apply(c);
            AutoCloseable layer = calls.owned();
            calls.forward().run();
            calls.backwards()[0].run();
            calls.forward().run();   // its backward is open when the layer closes
            float[] grads = values(c.backend, c.store.grads());
            layer.close();
            for (Runnable backward : calls.backwards()) {
                refused(calls.layer(), "backward", backward::run);
            }
            assertArrayEquals(grads, values(c.backend, c.store.grads()),
                    calls.layer() + ": a refused backward changed the parameter gradients");
            refused(calls.layer(), "forward", calls.forward()::run);
            layer.close();   // closing again does nothing
            refused(calls.layer(), "forward", calls.forward()::run);
        }
    }

    /** Every accessor of a call's output (CallOutputsTest's cases), after that call returned and the layer closed. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.layers.CallOutputsTest#accessors")
    void aClosedLayersOutputsAreRefused(Function<LayerFixture, CallOutputsTest.Accessor> make) throws Exception {
        try (LayerFixture c = new LayerFixture()) {
            CallOutputsTest.Accessor a = make.apply(c);
            a.forward().run();
            if (a.of() == CallOutputsTest.Of.BACKWARD) {
                a.backward().run();
            }
            a.read().get();   // it answers while the layer is open
            a.owned().close();
            int dot = a.name().indexOf('.');
            refused(a.name().substring(0, dot), a.name().substring(dot + 1), a.read()::get);
        }
    }

    /** The calls that set what a recurrent layer's next forward starts from, or how it multiplies. */
    @Test
    void aClosedRecurrentLayersStateAndPrecisionAreRefused() {
        try (LayerFixture c = new LayerFixture()) {
            Tensor h = c.h2[0], cState = c.c2[0];
            TimeLSTM lstm = new TimeLSTM(c.backend, c.p("lstm.Wx"), c.p("lstm.Wh"), c.p("lstm.b"), true);
            TimeGRU gru = new TimeGRU(c.backend, c.p("gru.Wx"), c.p("gru.Wh"), c.p("gru.b"), true);
            TimeRNN rnn = new TimeRNN(c.backend, c.p("rnn.Wx"), c.p("rnn.Wh"), c.p("rnn.b"), true);
            TimeBiRecurrent bi = new TimeBiRecurrent(c.backend, Cell.LSTM, c.p("lstm.Wx"), c.p("lstm.Wh"),
                    c.p("lstm.b"), c.p("lstmB.Wx"), c.p("lstmB.Wh"), c.p("lstmB.b"));
            lstm.setState(h, cState);
            lstm.forward(c.xs3[0]);
            gru.setState(h);
            gru.forward(c.xs3[0]);
            rnn.setState(h);
            rnn.forward(c.xs3[0]);
            bi.forward(c.xs3[0]);
            lstm.close();
            gru.close();
            rnn.close();
            bi.close();
            refused("TimeLSTM", "setState", () -> lstm.setState(h, cState));
            refused("TimeLSTM", "setState", () -> lstm.setState(h));
            refused("TimeLSTM", "resetState", lstm::resetState);
            refused("TimeLSTM", "setInferencePrecision", () -> lstm.setInferencePrecision(PackedMatrix.Precision.BF16));
            refused("TimeGRU", "setState", () -> gru.setState(h));
            refused("TimeGRU", "resetState", gru::resetState);
            refused("TimeGRU", "setInferencePrecision", () -> gru.setInferencePrecision(PackedMatrix.Precision.BF16));
            refused("TimeRNN", "setState", () -> rnn.setState(h));
            refused("TimeRNN", "resetState", rnn::resetState);
            refused("TimeBiRecurrent", "setInferencePrecision",
                    () -> bi.setInferencePrecision(PackedMatrix.Precision.BF16));
            // the configuration still answers
            assertEquals(LayerFixture.H, lstm.hiddenSize());
            assertEquals(PackedMatrix.Precision.F32, lstm.inferencePrecision());
        }
    }

    /** In evaluation mode a dropout's forward and backward pass through, reaching no kernel that would refuse. */
    @Test
    void aClosedDropoutIsRefusedInEvaluationModeToo() {
        try (LayerFixture c = new LayerFixture()) {
            TimeDropout drop = new TimeDropout(c.backend, 0.5f, 3);
            drop.setTraining(false);
            drop.forward(c.xs3[0]);
            drop.close();
            refused("TimeDropout", "forward", () -> drop.forward(c.xs3[0]));
            refused("TimeDropout", "backward", () -> drop.backward(c.dD3[0]));
            refused("TimeDropout", "setTraining", () -> drop.setTraining(true));
            refused("TimeDropout", "setSeed", () -> drop.setSeed(4));
            assertEquals(0.5f, drop.ratio());
        }
    }

    /** At a new size too (where the workspace used to refuse, naming the layer but not the call). */
    @Test
    void aClosedLayersForwardIsRefusedAtAnotherSize() throws Exception {
        try (LayerFixture c = new LayerFixture()) {
            TimeLSTM lstm = new TimeLSTM(c.backend, c.p("lstm.Wx"), c.p("lstm.Wh"), c.p("lstm.b"), false);
            TimeAffine affine = new TimeAffine(c.backend, c.p("affine.W"), c.p("affine.b"));
            TimeDropout dropout = new TimeDropout(c.backend, 0.5f, 1);
            lstm.forward(c.xs3[0]);
            affine.forward(c.xs3[0]);
            dropout.forward(c.xs3[0]);
            lstm.close();
            affine.close();
            dropout.close();
            refused("TimeLSTM", "forward", () -> lstm.forward(c.xs3[1]));
            refused("TimeAffine", "forward", () -> affine.forward(c.xs3[1]));
            refused("TimeDropout", "forward", () -> dropout.forward(c.xs3[1]));
        }
    }

    /**
     * A layer whose parameters' store was closed refuses its forward naming the layer and the parameter, on every
     * backend, both cells. The folded forward(embed, ids) over unchanged weights answered from its kept table and
     * packed Wh, reading no parameter, after the store's close(): stale weights that no longer existed, with no word.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    void aForwardAfterItsParametersStoreClosedIsRefused(String backendName) {
        Backend backend = TestBackends.get(backendName);
        int d = 3, h = 4, v = 7;
        for (Cell cell : Cell.values()) {
            int g = cell.columns(h);
            try (ParameterStore embedStore = ParameterStore.builder(backend).declare("E", Init.normal(1), v, d).build(1);
                 ParameterStore store = ParameterStore.builder(backend).declare("Wx", Init.normal(0.5), d, g)
                         .declare("Wh", Init.normal(0.5), h, g).declare("b", Init.zeros(), g).build(2);
                 TimeEmbedding embed = new TimeEmbedding(backend, embedStore.get("E"));
                 TimeRecurrent layer = cell.time(backend, store.get("Wx"), store.get("Wh"), store.get("b"), false);
                 Workspace ws = new Workspace(backend)) {
                Tensor ids = GradientCheck.ints(backend, ws, new int[] {1, 2, 3, 4}, 2, 2);
                layer.forward(embed, ids);
                layer.forward(embed, ids);   // the table and the packed Wh are kept
                embedStore.close();
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> layer.forward(embed, ids));
                assertEquals("Time" + cell.name() + ".forward: E", e.getMessage().substring(0, e.getMessage()
                        .indexOf(' ', ("Time" + cell.name() + ".forward: ").length())), e.getMessage());
                store.close();
                e = assertThrows(IllegalStateException.class, () -> layer.forward(embed, ids));
                assertEquals("Time" + cell.name() + ".forward: Wx", e.getMessage().substring(0, e.getMessage()
                        .indexOf(' ', ("Time" + cell.name() + ".forward: ").length())), e.getMessage());
                assertTrue(e.getMessage().endsWith("belongs to an arena that is already closed"), e.getMessage());
            }
        }
    }

    @Test
    void aWorkspaceOfNoNamedOwnerNamesItself() {
        Backend backend = TestBackends.reference();
        Workspace ws = new Workspace(backend);
        ws.floats(2);
        ws.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ws.floats(2));
        assertEquals("Workspace: this Workspace is already closed", e.getMessage());
    }
}
