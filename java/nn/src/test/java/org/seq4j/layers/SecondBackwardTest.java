// A layer's backward uses its forward up: a second backward of one forward, through any of the layer's backward
// methods, is refused with IllegalStateException, and leaves the parameter gradients as the one backward left them.
// Before, every layer but the two softmax losses ran it again, and the ones with parameters added their weight
// gradients a second time: silently doubled gradients. After the refusal, a new forward and backward run as before.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.seq4j.testing.TestBackends.values;

import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class SecondBackwardTest {
    /** A layer (closed after the test), its forward, and each of its backward methods for that forward. */
    record Calls(String layer, AutoCloseable owned, Runnable forward, Runnable... backwards) {
    }

    static Named<Function<LayerFixture, Calls>> of(String name, Function<LayerFixture, Calls> make) {
        return Named.of(name, make);
    }

    static Stream<Named<Function<LayerFixture, Calls>>> cases() {
        return Stream.of(
                of("Affine", c -> {
                    Affine l = new Affine(c.backend, c.p("affine.W"), c.p("affine.b"));
                    return new Calls("Affine", l, () -> l.forward(c.x2[0]), () -> l.backward(c.dV2[0]));
                }),
                of("MatMul", c -> {
                    MatMul l = new MatMul(c.backend, c.p("affine.W"));
                    return new Calls("MatMul", l, () -> l.forward(c.x2[0]), () -> l.backward(c.dV2[0]));
                }),
                of("Embedding", c -> {
                    Embedding l = new Embedding(c.backend, c.p("embed.W"));
                    return new Calls("Embedding", l, () -> l.forward(c.ids1[0]), () -> l.backward(c.dD2[0]));
                }),
                of("Sigmoid", c -> {
                    Sigmoid l = new Sigmoid(c.backend);
                    return new Calls("Sigmoid", l, () -> l.forward(c.x2[0]), () -> l.backward(c.dD2[0]));
                }),
                of("Softmax", c -> {
                    Softmax l = new Softmax(c.backend);
                    return new Calls("Softmax", l, () -> l.forward(c.x2[0]), () -> l.backward(c.dD2[0]));
                }),
                of("SoftmaxWithLoss", c -> {
                    SoftmaxWithLoss l = new SoftmaxWithLoss(c.backend);
                    return new Calls("SoftmaxWithLoss", l, () -> l.forward(c.dV2[0], c.labels1[0]), () -> l.backward(1f));
                }),
                of("RNN", c -> {
                    RNN l = new RNN(c.backend, c.p("rnn.Wx"), c.p("rnn.Wh"), c.p("rnn.b"));
                    return new Calls("RNN", l, () -> l.forward(c.x2[0], c.h2[0]), () -> l.backward(c.dH2[0]));
                }),
                of("LSTM", c -> {
                    LSTM l = new LSTM(c.backend, c.p("lstm.Wx"), c.p("lstm.Wh"), c.p("lstm.b"));
                    return new Calls("LSTM", l, () -> l.forward(c.x2[0], c.h2[0], c.c2[0]),
                            () -> l.backward(c.dH2[0], c.h2[0]));
                }),
                of("GRU", c -> {
                    GRU l = new GRU(c.backend, c.p("gru.Wx"), c.p("gru.Wh"), c.p("gru.b"));
                    return new Calls("GRU", l, () -> l.forward(c.x2[0], c.h2[0]), () -> l.backward(c.dH2[0]));
                }),
                of("AttentionWeight", c -> {
                    AttentionWeight l = new AttentionWeight(c.backend);
                    return new Calls("AttentionWeight", l, () -> l.forward(c.hs3[0], c.h2[0]), () -> l.backward(c.a2[0]));
                }),
                of("WeightSum", c -> {
                    WeightSum l = new WeightSum(c.backend);
                    return new Calls("WeightSum", l, () -> l.forward(c.hs3[0], c.a2[0]), () -> l.backward(c.dH2[0]));
                }),
                of("Attention", c -> {
                    Attention l = new Attention(c.backend);
                    return new Calls("Attention", l, () -> l.forward(c.hs3[0], c.h2[0]), () -> l.backward(c.dH2[0]));
                }),
                of("TimeAffine", c -> {
                    TimeAffine l = new TimeAffine(c.backend, c.p("affine.W"), c.p("affine.b"));
                    return new Calls("TimeAffine", l, () -> l.forward(c.xs3[0]), () -> l.backward(c.dV3[0]));
                }),
                of("TimeEmbedding", c -> {
                    TimeEmbedding l = new TimeEmbedding(c.backend, c.p("embed.W"));
                    return new Calls("TimeEmbedding", l, () -> l.forward(c.ids2[0]), () -> l.backward(c.dD3[0]));
                }),
                of("TimeDropout", c -> {
                    TimeDropout l = new TimeDropout(c.backend, 0.4f, 5);
                    return new Calls("TimeDropout", l, () -> l.forward(c.xs3[0]), () -> l.backward(c.dD3[0]));
                }),
                of("TimeMSE", c -> {
                    TimeMSE l = new TimeMSE(c.backend, TimeMSE.Steps.ALL);
                    return new Calls("TimeMSE", l, () -> l.forward(c.xs3[0], c.ts3[0]), () -> l.backward(1f));
                }),
                of("TimeSoftmaxWithLoss", c -> {
                    TimeSoftmaxWithLoss l = new TimeSoftmaxWithLoss(c.backend);
                    return new Calls("TimeSoftmaxWithLoss", l, () -> l.forward(c.dV3[0], c.labels2[0]),
                            () -> l.backward(1f));
                }),
                of("TimeAttention", c -> {
                    TimeAttention l = new TimeAttention(c.backend);
                    return new Calls("TimeAttention", l, () -> l.forward(c.hs3[0], c.dec3[0]),
                            () -> l.backward(c.dDec3[0]));
                }),
                of("TimeRNN", c -> {
                    TimeRNN l = new TimeRNN(c.backend, c.p("rnn.Wx"), c.p("rnn.Wh"), c.p("rnn.b"), false);
                    return new Calls("TimeRNN", l, () -> l.forward(c.xs3[0]), () -> l.backward(c.dH3[0]));
                }),
                of("TimeLSTM", c -> {
                    TimeLSTM l = new TimeLSTM(c.backend, c.p("lstm.Wx"), c.p("lstm.Wh"), c.p("lstm.b"), false);
                    return new Calls("TimeLSTM", l, () -> l.forward(c.xs3[0]), () -> l.backward(c.dH3[0]),
                            () -> l.backward(c.dH3[0], c.c2[0]), () -> l.backwardLast(c.dH2[0], c.c2[0]));
                }),
                of("TimeLSTM folded", c -> folded(c, "TimeLSTM",
                        new TimeLSTM(c.backend, c.p("lstm.Wx"), c.p("lstm.Wh"), c.p("lstm.b"), false))),
                of("TimeGRU", c -> {
                    TimeGRU l = new TimeGRU(c.backend, c.p("gru.Wx"), c.p("gru.Wh"), c.p("gru.b"), false);
                    return new Calls("TimeGRU", l, () -> l.forward(c.xs3[0]), () -> l.backward(c.dH3[0]));
                }),
                of("TimeGRU folded", c -> folded(c, "TimeGRU",
                        new TimeGRU(c.backend, c.p("gru.Wx"), c.p("gru.Wh"), c.p("gru.b"), false))),
                of("TimeBiRecurrent", c -> {
                    TimeBiRecurrent l = new TimeBiRecurrent(c.backend, Cell.LSTM, c.p("lstm.Wx"), c.p("lstm.Wh"),
                            c.p("lstm.b"), c.p("lstmB.Wx"), c.p("lstmB.Wh"), c.p("lstmB.b"));
                    return new Calls("TimeBiRecurrent", l, () -> l.forward(c.xs3[0]), () -> l.backward(c.d2H3[0]));
                }));
    }

    /** forward(embed, ids), folded (V < T*N), and its two backward methods. */
    static Calls folded(LayerFixture c, String name, TimeRecurrent r) {
        TimeEmbedding e = new TimeEmbedding(c.backend, c.p("embed.W"));
        return new Calls(name, () -> {
            r.close();
            e.close();
        }, () -> r.forward(e, c.ids2[0]), () -> r.backward(e, c.dH3[0]), () -> r.backwardLast(e, c.dH2[0]));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void aSecondBackwardOfOneForwardIsRefused(Function<LayerFixture, Calls> make) throws Exception {
        try (LayerFixture c = new LayerFixture()) {
            Calls calls = make.apply(c);
            try (AutoCloseable owned = calls.owned()) {
                for (int first = 0; first < calls.backwards().length; first++) {
                    c.store.zeroGrads();
                    calls.forward().run();
                    calls.backwards()[first].run();
                    float[] once = values(c.backend, c.store.grads());
                    for (int second = 0; second < calls.backwards().length; second++) {
                        String what = calls.layer() + ": backward " + second + " after backward " + first
                                + " of one forward";
                        IllegalStateException e = assertThrows(IllegalStateException.class,
                                calls.backwards()[second]::run, what + " should be refused");
                        assertEquals(calls.layer() + ".backward: already ran for this forward; run forward again",
                                e.getMessage(), what);
                        assertArrayEquals(once, values(c.backend, c.store.grads()),
                                what + ": the refused backward changed the parameter gradients");
                    }
                    // a new forward may be followed by a backward again, adding what one backward adds
                    c.store.zeroGrads();
                    calls.forward().run();
                    calls.backwards()[first].run();
                    assertArrayEquals(once, values(c.backend, c.store.grads()),
                            calls.layer() + ": a backward of a new forward after a refused one");
                }
                boolean parameters = false;
                for (float g : values(c.backend, c.store.grads())) {
                    parameters |= g != 0f;
                }
                assertTrue(parameters == usesParameters(calls.layer()),
                        calls.layer() + ": parameter gradients " + (parameters ? "" : "not ") + "added by a backward");
            }
        }
    }

    /** Whether the layer has parameters, whose gradients its backward adds (so that the check above has teeth). */
    private static boolean usesParameters(String layer) {
        return switch (layer) {
            case "Sigmoid", "Softmax", "SoftmaxWithLoss", "AttentionWeight", "WeightSum", "Attention", "TimeDropout",
                 "TimeMSE", "TimeSoftmaxWithLoss", "TimeAttention" -> false;
            default -> true;
        };
    }
}
