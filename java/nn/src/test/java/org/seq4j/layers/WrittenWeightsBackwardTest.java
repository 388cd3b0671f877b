// A layer's backward follows only a forward over the weights as they still are: after a forward, a write to the
// weights (ParameterStore.copyIn, an optimizer step) and then a backward is refused with IllegalStateException, and
// leaves the parameter gradients as they were. Before, every layer with parameters ran it: the gradient mixed the
// forward's activations with the new weights' values, silently inconsistent (the models refused it at their level,
// a model built from layers directly did not). For every kind of layer with parameters and each of its backward
// methods: the refusal, then a new forward and backward that add what a fresh layer's add. A layer whose parameters
// come from two stores (any Parameter may be passed) checks each store's write counter, before either of the parts
// of its backward adds anything (TimeBiRecurrent's two directions, the embedding of TimeLSTM.backward(embed, dhs)).
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.seq4j.testing.TestBackends.values;

import java.util.Random;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.optim.SGD;

class WrittenWeightsBackwardTest {
    /**
     * A layer (closed after the test), its forward, and each of its backward methods for that forward; weight names a
     * parameter the layer reads, the one a copyIn writes.
     */
    record Calls(String layer, String weight, AutoCloseable owned, Runnable forward, Runnable... backwards) {
    }

    static Named<Function<LayerFixture, Calls>> of(String name, Function<LayerFixture, Calls> make) {
        return Named.of(name, make);
    }

    /** Every kind of layer with parameters, over the fixture's one store. */
    static Stream<Named<Function<LayerFixture, Calls>>> layers() {
        return Stream.of(
                of("Affine", c -> {
                    Affine l = new Affine(c.backend, c.p("affine.W"), c.p("affine.b"));
                    return new Calls("Affine", "affine.W", l, () -> l.forward(c.x2[0]), () -> l.backward(c.dV2[0]));
                }),
                of("MatMul", c -> {
                    MatMul l = new MatMul(c.backend, c.p("affine.W"));
                    return new Calls("MatMul", "affine.W", l, () -> l.forward(c.x2[0]), () -> l.backward(c.dV2[0]));
                }),
                of("Embedding", c -> {
                    Embedding l = new Embedding(c.backend, c.p("embed.W"));
                    return new Calls("Embedding", "embed.W", l, () -> l.forward(c.ids1[0]),
                            () -> l.backward(c.dD2[0]));
                }),
                of("RNN", c -> {
                    RNN l = new RNN(c.backend, c.p("rnn.Wx"), c.p("rnn.Wh"), c.p("rnn.b"));
                    return new Calls("RNN", "rnn.Wh", l, () -> l.forward(c.x2[0], c.h2[0]), () -> l.backward(c.dH2[0]));
                }),
                of("LSTM", c -> {
                    LSTM l = new LSTM(c.backend, c.p("lstm.Wx"), c.p("lstm.Wh"), c.p("lstm.b"));
                    return new Calls("LSTM", "lstm.Wh", l, () -> l.forward(c.x2[0], c.h2[0], c.c2[0]),
                            () -> l.backward(c.dH2[0], c.h2[0]));
                }),
                of("GRU", c -> {
                    GRU l = new GRU(c.backend, c.p("gru.Wx"), c.p("gru.Wh"), c.p("gru.b"));
                    return new Calls("GRU", "gru.Wh", l, () -> l.forward(c.x2[0], c.h2[0]), () -> l.backward(c.dH2[0]));
                }),
                of("TimeAffine", c -> {
                    TimeAffine l = new TimeAffine(c.backend, c.p("affine.W"), c.p("affine.b"));
                    return new Calls("TimeAffine", "affine.W", l, () -> l.forward(c.xs3[0]),
                            () -> l.backward(c.dV3[0]));
                }),
                of("TimeAffine transposed", c -> {
                    TimeAffine l = new TimeAffine(c.backend, c.p("embed.W"), c.p("affine.b"), true);
                    return new Calls("TimeAffine", "embed.W", l, () -> l.forward(c.xs3[0]), () -> l.backward(c.dV3[0]));
                }),
                of("TimeEmbedding", c -> {
                    TimeEmbedding l = new TimeEmbedding(c.backend, c.p("embed.W"));
                    return new Calls("TimeEmbedding", "embed.W", l, () -> l.forward(c.ids2[0]),
                            () -> l.backward(c.dD3[0]));
                }),
                of("TimeRNN", c -> {
                    TimeRNN l = new TimeRNN(c.backend, c.p("rnn.Wx"), c.p("rnn.Wh"), c.p("rnn.b"), false);
                    return new Calls("TimeRNN", "rnn.Wh", l, () -> l.forward(c.xs3[0]), () -> l.backward(c.dH3[0]));
                }),
                of("TimeLSTM", c -> {
                    TimeLSTM l = new TimeLSTM(c.backend, c.p("lstm.Wx"), c.p("lstm.Wh"), c.p("lstm.b"), false);
                    return new Calls("TimeLSTM", "lstm.Wh", l, () -> l.forward(c.xs3[0]), () -> l.backward(c.dH3[0]),
                            () -> l.backward(c.dH3[0], c.c2[0]), () -> l.backwardLast(c.dH2[0], c.c2[0]));
                }),
                of("TimeLSTM folded", c -> folded(c, "TimeLSTM", "embed.W",
                        new TimeLSTM(c.backend, c.p("lstm.Wx"), c.p("lstm.Wh"), c.p("lstm.b"), false))),
                of("TimeLSTM through an embedding", c -> through(c, "TimeLSTM", "lstm.Wx",
                        new TimeLSTM(c.backend, c.p("lstm.Wx"), c.p("lstm.Wh"), c.p("lstm.b"), false))),
                of("TimeGRU", c -> {
                    TimeGRU l = new TimeGRU(c.backend, c.p("gru.Wx"), c.p("gru.Wh"), c.p("gru.b"), false);
                    return new Calls("TimeGRU", "gru.Wh", l, () -> l.forward(c.xs3[0]), () -> l.backward(c.dH3[0]));
                }),
                of("TimeGRU folded", c -> folded(c, "TimeGRU", "gru.b",
                        new TimeGRU(c.backend, c.p("gru.Wx"), c.p("gru.Wh"), c.p("gru.b"), false))),
                of("TimeGRU through an embedding", c -> through(c, "TimeGRU", "gru.Wh",
                        new TimeGRU(c.backend, c.p("gru.Wx"), c.p("gru.Wh"), c.p("gru.b"), false))),
                of("TimeBiRecurrent LSTM", c -> {
                    TimeBiRecurrent l = new TimeBiRecurrent(c.backend, Cell.LSTM, c.p("lstm.Wx"), c.p("lstm.Wh"),
                            c.p("lstm.b"), c.p("lstmB.Wx"), c.p("lstmB.Wh"), c.p("lstmB.b"));
                    return new Calls("TimeBiRecurrent", "lstmB.Wh", l, () -> l.forward(c.xs3[0]),
                            () -> l.backward(c.d2H3[0]));
                }),
                of("TimeBiRecurrent GRU", c -> {
                    TimeBiRecurrent l = new TimeBiRecurrent(c.backend, Cell.GRU, c.p("gru.Wx"), c.p("gru.Wh"),
                            c.p("gru.b"), c.p("gruB.Wx"), c.p("gruB.Wh"), c.p("gruB.b"));
                    return new Calls("TimeBiRecurrent", "gru.Wx", l, () -> l.forward(c.xs3[0]),
                            () -> l.backward(c.d2H3[0]));
                }));
    }

    /** forward(embed, ids), folded (V < T*N), and its two backward methods. */
    static Calls folded(LayerFixture c, String name, String weight, TimeRecurrent r) {
        TimeEmbedding e = new TimeEmbedding(c.backend, c.p("embed.W"));
        return new Calls(name, weight, () -> {
            r.close();
            e.close();
        }, () -> r.forward(e, c.ids2[0]), () -> r.backward(e, c.dH3[0]), () -> r.backwardLast(e, c.dH2[0]));
    }

    /** forward(embed.forward(ids)), and backward(embed, ...): the layer's backward, then the embedding's. */
    static Calls through(LayerFixture c, String name, String weight, TimeRecurrent r) {
        TimeEmbedding e = new TimeEmbedding(c.backend, c.p("embed.W"));
        return new Calls(name, weight, () -> {
            r.close();
            e.close();
        }, () -> r.forward(e.forward(c.ids2[0])), () -> r.backward(e, c.dH3[0]), () -> r.backwardLast(e, c.dH2[0]));
    }

    /** How the weights are written between the forward and the backward. */
    static Stream<Named<BiConsumer<LayerFixture, String>>> writes() {
        return Stream.of(
                Named.of("copyIn", (c, name) -> {
                    float[] v = c.store.copyOut(name);
                    for (int i = 0; i < v.length; i++) {
                        v[i] += 0.25f * (float) c.rng.nextGaussian();
                    }
                    c.store.copyIn(name, v);
                }),
                // without valuesWritten: the store's version stays, the values' Tensor.writes moves (it was taken)
                Named.of("a write through the backend", (c, name) -> {
                    float[] v = c.store.copyOut(name);
                    v[0] += 0.5f;
                    c.backend.copyIn(c.p(name).value(), v);
                }),
                Named.of("SGD step", (c, name) -> {
                    randomGradients(c);
                    try (SGD sgd = new SGD(0.1f)) {
                        sgd.step(c.store);
                    }
                }));
    }

    static Stream<Arguments> layersAndWrites() {
        return layers().flatMap(l -> writes().map(w -> Arguments.of(l, w)));
    }

    /** Every parameter's gradient set to random values: a backward that adds anything changes them. */
    static void randomGradients(LayerFixture c) {
        for (Parameter p : c.store.parameters()) {
            c.backend.copyIn(p.grad(), GradientCheck.randn(c.rng, 1, (int) p.size()));
        }
    }

    static String refusal(String layer) {
        return layer + ".backward: its weights were written since its forward (an optimizer step, copyIn, a load or a"
                + " write through the backend); run forward again";
    }

    @ParameterizedTest(name = "{0} after {1}")
    @MethodSource("layersAndWrites")
    void aBackwardOverWeightsWrittenSinceItsForwardIsRefused(Function<LayerFixture, Calls> make,
                                                              BiConsumer<LayerFixture, String> write) throws Exception {
        try (LayerFixture c = new LayerFixture()) {
            Calls calls = make.apply(c);
            try (AutoCloseable owned = calls.owned()) {
                for (int b = 0; b < calls.backwards().length; b++) {
                    String what = calls.layer() + ": backward " + b + " after its weights were written";
                    c.store.zeroGrads();
                    calls.forward().run();
                    write.accept(c, calls.weight());
                    randomGradients(c);
                    float[] before = values(c.backend, c.store.grads());
                    IllegalStateException e = assertThrows(IllegalStateException.class, calls.backwards()[b]::run,
                            what + " should be refused");
                    assertEquals(refusal(calls.layer()), e.getMessage(), what);
                    assertArrayEquals(before, values(c.backend, c.store.grads()),
                            what + ": the refused backward changed the parameter gradients");

                    // a forward over the new weights may be followed by its backward, which adds what a fresh
                    // layer's adds
                    c.store.zeroGrads();
                    calls.forward().run();
                    calls.backwards()[b].run();
                    float[] after = values(c.backend, c.store.grads());
                    assertTrue(anyNonZero(after), what + ": the backward after a new forward added nothing");
                    Calls fresh = make.apply(c);
                    try (AutoCloseable freshOwned = fresh.owned()) {
                        c.store.zeroGrads();
                        fresh.forward().run();
                        fresh.backwards()[b].run();
                    }
                    assertArrayEquals(values(c.backend, c.store.grads()), after,
                            what + ": the backward of a new forward differs from a fresh layer's");
                }
            }
        }
    }

    /**
     * A layer over parameters of two stores (the fixture's and {@code other}), its calls, and the layer the refusal
     * names when only {@code other} is written.
     */
    static Named<BiFunction<LayerFixture, ParameterStore, Calls>> across(String name,
            BiFunction<LayerFixture, ParameterStore, Calls> make) {
        return Named.of(name, make);
    }

    static Stream<Named<BiFunction<LayerFixture, ParameterStore, Calls>>> acrossStores() {
        return Stream.of(
                across("LSTM, Wh of another store", (c, o) -> {
                    LSTM l = new LSTM(c.backend, c.p("lstm.Wx"), o.get("lstm.Wh"), c.p("lstm.b"));
                    return new Calls("LSTM", "lstm.Wh", l, () -> l.forward(c.x2[0], c.h2[0], c.c2[0]),
                            () -> l.backward(c.dH2[0], c.h2[0]));
                }),
                across("TimeAffine, b of another store", (c, o) -> {
                    TimeAffine l = new TimeAffine(c.backend, c.p("affine.W"), o.get("affine.b"));
                    return new Calls("TimeAffine", "affine.b", l, () -> l.forward(c.xs3[0]),
                            () -> l.backward(c.dV3[0]));
                }),
                across("TimeBiRecurrent, the backward direction of another store", (c, o) -> {
                    TimeBiRecurrent l = new TimeBiRecurrent(c.backend, Cell.LSTM, c.p("lstm.Wx"), c.p("lstm.Wh"),
                            c.p("lstm.b"), o.get("lstmB.Wx"), o.get("lstmB.Wh"), o.get("lstmB.b"));
                    return new Calls("TimeBiRecurrent", "lstmB.Wh", l, () -> l.forward(c.xs3[0]),
                            () -> l.backward(c.d2H3[0]));
                }),
                across("TimeGRU folded, the embedding of another store", (c, o) -> {
                    TimeEmbedding e = new TimeEmbedding(c.backend, o.get("embed.W"));
                    TimeGRU r = new TimeGRU(c.backend, c.p("gru.Wx"), c.p("gru.Wh"), c.p("gru.b"), false);
                    return new Calls("TimeGRU", "embed.W", () -> {
                        r.close();
                        e.close();
                    }, () -> r.forward(e, c.ids2[0]), () -> r.backward(e, c.dH3[0]), () -> r.backwardLast(e, c.dH2[0]));
                }),
                across("TimeLSTM folded, the embedding of another store", (c, o) -> {
                    TimeEmbedding e = new TimeEmbedding(c.backend, o.get("embed.W"));
                    TimeLSTM r = new TimeLSTM(c.backend, c.p("lstm.Wx"), c.p("lstm.Wh"), c.p("lstm.b"), false);
                    return new Calls("TimeLSTM", "embed.W", () -> {
                        r.close();
                        e.close();
                    }, () -> r.forward(e, c.ids2[0]), () -> r.backward(e, c.dH3[0]), () -> r.backwardLast(e, c.dH2[0]));
                }),
                across("TimeLSTM through an embedding of another store", (c, o) -> {
                    // the LSTM's backward would add its gradients before the embedding's refused: both checked first
                    TimeEmbedding e = new TimeEmbedding(c.backend, o.get("embed.W"));
                    TimeLSTM r = new TimeLSTM(c.backend, c.p("lstm.Wx"), c.p("lstm.Wh"), c.p("lstm.b"), false);
                    return new Calls("TimeEmbedding", "embed.W", () -> {
                        r.close();
                        e.close();
                    }, () -> r.forward(e.forward(c.ids2[0])), () -> r.backward(e, c.dH3[0]),
                            () -> r.backwardLast(e, c.dH2[0]));
                }));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("acrossStores")
    void eachStoreOfALayersParametersIsChecked(BiFunction<LayerFixture, ParameterStore, Calls> make) throws Exception {
        try (LayerFixture c = new LayerFixture();
             ParameterStore other = ParameterStore.builder(c.backend)
                     .declare("embed.W", Init.normal(1), LayerFixture.V, LayerFixture.D)
                     .declare("affine.b", Init.normal(0.3), LayerFixture.V)
                     .declare("lstm.Wh", Init.scaledNormal(LayerFixture.H), LayerFixture.H, 4 * LayerFixture.H)
                     .declare("lstmB.Wx", Init.scaledNormal(LayerFixture.D), LayerFixture.D, 4 * LayerFixture.H)
                     .declare("lstmB.Wh", Init.scaledNormal(LayerFixture.H), LayerFixture.H, 4 * LayerFixture.H)
                     .declare("lstmB.b", Init.normal(0.3), 4 * LayerFixture.H)
                     .build(29)) {
            Calls calls = make.apply(c, other);
            Random rng = new Random(3);
            try (AutoCloseable owned = calls.owned()) {
                for (int b = 0; b < calls.backwards().length; b++) {
                    String what = calls.layer() + ": backward " + b + " after the other store was written";
                    c.store.zeroGrads();
                    other.zeroGrads();
                    calls.forward().run();
                    float[] v = other.copyOut(calls.weight());
                    v[rng.nextInt(v.length)] += 0.5f;
                    other.copyIn(calls.weight(), v);   // the fixture's store, and its counter, stay as they were
                    float[] before = values(c.backend, c.store.grads()), otherBefore = values(c.backend, other.grads());
                    IllegalStateException e = assertThrows(IllegalStateException.class, calls.backwards()[b]::run,
                            what + " should be refused");
                    assertEquals(refusal(calls.layer()), e.getMessage(), what);
                    assertArrayEquals(before, values(c.backend, c.store.grads()),
                            what + ": the refused backward changed the fixture store's gradients");
                    assertArrayEquals(otherBefore, values(c.backend, other.grads()),
                            what + ": the refused backward changed the other store's gradients");
                    calls.forward().run();
                    calls.backwards()[b].run();
                    assertTrue(anyNonZero(values(c.backend, c.store.grads())), what + ": a new forward's backward");
                    assertTrue(anyNonZero(values(c.backend, other.grads())), what + ": a new forward's backward");
                }
            }
        }
    }

    private static boolean anyNonZero(float[] a) {
        for (float x : a) {
            if (x != 0f) {
                return true;
            }
        }
        return false;
    }
}
