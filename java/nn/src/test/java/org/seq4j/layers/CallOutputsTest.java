// What a layer hands out besides a call's result belongs to that call, and is refused (IllegalStateException, one
// line naming the layer, the accessor and what must have run) when that call has not returned: an output of the
// backward (LSTM.dhPrev, Attention.dh, WeightSum.da, TimeAttention.dhsDec, ...) before a backward of the last forward
// returned, or once a later forward started; an output of the forward (LSTM.cNext, Attention.attentionWeight, ...)
// before a forward returned, or after one that threw. TimeSoftmaxWithLoss.probs also after the backward, which turns
// the probabilities into the gradient in place. Before, the secondary accessors of the cells and the attention
// layers handed out their buffers whatever had run: the last backward's gradient after a new forward, stale or zero
// values before any call. The Time layers' h, c, hs and dh, already guarded, are checked here too.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.tensor.Tensor;

class CallOutputsTest {
    /** Which call an accessor's tensor comes from. */
    enum Of {
        /** the backward's: readable from its return until the next forward starts */
        BACKWARD,
        /** the forward's: readable from its return until the next forward starts */
        FORWARD,
        /** the forward's until its backward starts (which overwrites it) */
        FORWARD_UNTIL_BACKWARD
    }

    /**
     * One accessor of a layer: the layer (closed after the test), a forward that returns, one that throws
     * IllegalArgumentException, the backward, and the accessor.
     */
    record Accessor(String name, Of of, AutoCloseable owned, Runnable forward, Runnable badForward, Runnable backward,
                    Supplier<Tensor> read) {
    }

    static Named<Function<LayerFixture, Accessor>> of(String name, Function<LayerFixture, Accessor> make) {
        return Named.of(name, make);
    }

    static Stream<Named<Function<LayerFixture, Accessor>>> accessors() {
        return Stream.of(
                of("LSTM.cNext", c -> lstm(c, "LSTM.cNext", Of.FORWARD)),
                of("LSTM.dhPrev", c -> lstm(c, "LSTM.dhPrev", Of.BACKWARD)),
                of("LSTM.dcPrev", c -> lstm(c, "LSTM.dcPrev", Of.BACKWARD)),
                of("GRU.dhPrev", c -> {
                    GRU l = new GRU(c.backend, c.p("gru.Wx"), c.p("gru.Wh"), c.p("gru.b"));
                    return new Accessor("GRU.dhPrev", Of.BACKWARD, l, () -> l.forward(c.x2[0], c.h2[0]),
                            () -> l.forward(c.h2[0], c.h2[0]), () -> l.backward(c.dH2[0]), l::dhPrev);
                }),
                of("RNN.dhPrev", c -> {
                    RNN l = new RNN(c.backend, c.p("rnn.Wx"), c.p("rnn.Wh"), c.p("rnn.b"));
                    return new Accessor("RNN.dhPrev", Of.BACKWARD, l, () -> l.forward(c.x2[0], c.h2[0]),
                            () -> l.forward(c.h2[0], c.h2[0]), () -> l.backward(c.dH2[0]), l::dhPrev);
                }),
                of("Attention.dh", c -> attention(c, "Attention.dh", Of.BACKWARD)),
                of("Attention.attentionWeight", c -> attention(c, "Attention.attentionWeight", Of.FORWARD)),
                of("AttentionWeight.dh", c -> {
                    AttentionWeight l = new AttentionWeight(c.backend);
                    return new Accessor("AttentionWeight.dh", Of.BACKWARD, l, () -> l.forward(c.hs3[0], c.h2[0]),
                            () -> l.forward(c.hs3[0], c.x2[0]), () -> l.backward(c.a2[0]), l::dh);
                }),
                of("WeightSum.da", c -> {
                    WeightSum l = new WeightSum(c.backend);
                    return new Accessor("WeightSum.da", Of.BACKWARD, l, () -> l.forward(c.hs3[0], c.a2[0]),
                            () -> l.forward(c.hs3[0], c.a2[1]), () -> l.backward(c.dH2[0]), l::da);
                }),
                of("TimeAttention.dhsDec", c -> timeAttention(c, "TimeAttention.dhsDec", Of.BACKWARD)),
                of("TimeAttention.attentionWeights", c -> timeAttention(c, "TimeAttention.attentionWeights", Of.FORWARD)),
                of("TimeSoftmaxWithLoss.probs", c -> {
                    TimeSoftmaxWithLoss l = new TimeSoftmaxWithLoss(c.backend);
                    return new Accessor("TimeSoftmaxWithLoss.probs", Of.FORWARD_UNTIL_BACKWARD, l,
                            () -> l.forward(c.dV3[0], c.labels2[0]), () -> l.forward(c.dV3[0], c.labels2[1]),
                            () -> l.backward(1f), l::probs);
                }),
                of("TimeLSTM.h", c -> timeLstm(c, "TimeLSTM.h", Of.FORWARD)),
                of("TimeLSTM.c", c -> timeLstm(c, "TimeLSTM.c", Of.FORWARD)),
                of("TimeLSTM.hs", c -> timeLstm(c, "TimeLSTM.hs", Of.FORWARD)),
                of("TimeLSTM.dh", c -> timeLstm(c, "TimeLSTM.dh", Of.BACKWARD)),
                of("TimeLSTM.dc", c -> timeLstm(c, "TimeLSTM.dc", Of.BACKWARD)),
                of("TimeGRU.h", c -> timeGru(c, "TimeGRU.h", Of.FORWARD)),
                of("TimeGRU.hs", c -> timeGru(c, "TimeGRU.hs", Of.FORWARD)),
                of("TimeGRU.dh", c -> timeGru(c, "TimeGRU.dh", Of.BACKWARD)),
                of("TimeRNN.h", c -> timeRnn(c, "TimeRNN.h", Of.FORWARD)),
                of("TimeRNN.dh", c -> timeRnn(c, "TimeRNN.dh", Of.BACKWARD)));
    }

    static Accessor lstm(LayerFixture c, String name, Of of) {
        LSTM l = new LSTM(c.backend, c.p("lstm.Wx"), c.p("lstm.Wh"), c.p("lstm.b"));
        return new Accessor(name, of, l, () -> l.forward(c.x2[0], c.h2[0], c.c2[0]),
                () -> l.forward(c.h2[0], c.h2[0], c.c2[0]), () -> l.backward(c.dH2[0], c.c2[0]),
                switch (name) {
                    case "LSTM.cNext" -> l::cNext;
                    case "LSTM.dhPrev" -> l::dhPrev;
                    default -> l::dcPrev;
                });
    }

    static Accessor attention(LayerFixture c, String name, Of of) {
        Attention l = new Attention(c.backend);
        return new Accessor(name, of, l, () -> l.forward(c.hs3[0], c.h2[0]), () -> l.forward(c.hs3[0], c.x2[0]),
                () -> l.backward(c.dH2[0]), name.endsWith(".dh") ? l::dh : l::attentionWeight);
    }

    static Accessor timeAttention(LayerFixture c, String name, Of of) {
        TimeAttention l = new TimeAttention(c.backend);
        return new Accessor(name, of, l, () -> l.forward(c.hs3[0], c.dec3[0]), () -> l.forward(c.hs3[0], c.dec3[1]),
                () -> l.backward(c.dDec3[0]), name.endsWith("dhsDec") ? l::dhsDec : l::attentionWeights);
    }

    static Accessor timeLstm(LayerFixture c, String name, Of of) {
        TimeLSTM l = new TimeLSTM(c.backend, c.p("lstm.Wx"), c.p("lstm.Wh"), c.p("lstm.b"), false);
        return new Accessor(name, of, l, () -> l.forward(c.xs3[0]), () -> l.forward(c.hs3[0]),
                () -> l.backward(c.dH3[0]), switch (name) {
                    case "TimeLSTM.h" -> l::h;
                    case "TimeLSTM.c" -> l::c;
                    case "TimeLSTM.hs" -> l::hs;
                    case "TimeLSTM.dh" -> l::dh;
                    default -> l::dc;
                });
    }

    static Accessor timeGru(LayerFixture c, String name, Of of) {
        TimeGRU l = new TimeGRU(c.backend, c.p("gru.Wx"), c.p("gru.Wh"), c.p("gru.b"), false);
        return new Accessor(name, of, l, () -> l.forward(c.xs3[0]), () -> l.forward(c.hs3[0]),
                () -> l.backward(c.dH3[0]), switch (name) {
                    case "TimeGRU.h" -> l::h;
                    case "TimeGRU.hs" -> l::hs;
                    default -> l::dh;
                });
    }

    static Accessor timeRnn(LayerFixture c, String name, Of of) {
        TimeRNN l = new TimeRNN(c.backend, c.p("rnn.Wx"), c.p("rnn.Wh"), c.p("rnn.b"), false);
        return new Accessor(name, of, l, () -> l.forward(c.xs3[0]), () -> l.forward(c.hs3[0]),
                () -> l.backward(c.dH3[0]), name.endsWith(".h") ? l::h : l::dh);
    }

    /** The accessor throws IllegalStateException, in one line that names it and begins with {@code expected}. */
    private static void refused(Accessor a, String when, String expected) {
        IllegalStateException e = assertThrows(IllegalStateException.class, a.read()::get, a.name() + " " + when
                + " should be refused");
        assertTrue(e.getMessage().startsWith(expected), a.name() + " " + when + ": expected a message starting '"
                + expected + "', got: " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }

    /** The accessor answers: the layer's buffer. */
    private static void answers(Accessor a, String when) {
        Tensor t = a.read().get();
        assertTrue(t != null && t.isAlive(), a.name() + " " + when + " should answer with the layer's buffer, got " + t);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("accessors")
    void anOutputIsReadOnlyWhileItsCallsResultIsCurrent(Function<LayerFixture, Accessor> make) throws Exception {
        try (LayerFixture c = new LayerFixture()) {
            Accessor a = make.apply(c);
            try (AutoCloseable owned = a.owned()) {
                String beforeForward = a.name() + " before forward", beforeBackward = a.name() + " before backward";
                refused(a, "before any call", a.of() == Of.BACKWARD ? beforeBackward : beforeForward);
                a.forward().run();
                switch (a.of()) {
                    case BACKWARD -> {
                        refused(a, "after a forward, before its backward", beforeBackward);
                        a.backward().run();
                        answers(a, "after the backward");
                        a.forward().run();
                        refused(a, "after a later forward", beforeBackward);
                        a.backward().run();
                        answers(a, "after that forward's backward");
                    }
                    case FORWARD -> {
                        answers(a, "after the forward");
                        a.backward().run();
                        answers(a, "after the forward's backward");
                    }
                    case FORWARD_UNTIL_BACKWARD -> {
                        answers(a, "after the forward");
                        a.backward().run();
                        refused(a, "after the forward's backward", a.name() + " after backward");
                        a.forward().run();
                        answers(a, "after a later forward");
                    }
                }
                assertThrows(IllegalArgumentException.class, a.badForward()::run, a.name() + ": the bad forward");
                refused(a, "after a forward that threw", a.of() == Of.BACKWARD ? beforeBackward : beforeForward);
                a.forward().run();
                if (a.of() == Of.BACKWARD) {
                    a.backward().run();
                }
                answers(a, "after a forward (and backward) that returned again");
                assertEquals(a.name().substring(0, a.name().indexOf('.')), a.owned().getClass().getSimpleName(),
                        "the case's name should name its layer");
            }
        }
    }
}
