// A backward takes its gradient in the shape of its forward's output, and refuses every other shape, even one of the
// same size. The kernels under TimeAffine, TimeEmbedding, TimeDropout, Sigmoid, RNN and the recurrent Time layers
// take element counts, and those layers checked only the count: after a forward over (T, N, .), a gradient laid out
// batch-major (N, T, .) (the layout the models take, an easy mistake in a model of one's own) was read as time-major,
// and the weight gradients came out wrong with no error. Here every backward of every layer, given its gradient with
// the first two axes swapped, throws IllegalArgumentException naming the shape it got and the one it expected, and
// adds nothing to the parameter gradients; and the refusal leaves the forward: a backward of it with the right shape
// then adds what a backward of one forward adds (before, a refused gradient used the forward up: a layer of its own
// kept the kernel's shape check, in the kernel's words, after the forward was spent).
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.seq4j.testing.TestBackends.values;

import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.tensor.Tensor;

class GradientShapeTest {
    /** Size B of the fixture: T = 4, N = 2, so that (N, T, .) and (T, N, .) differ, as (H, N) and (N, H) do. */
    static final int S = 1;

    /**
     * A layer (closed after the test), its forward, one of its backward methods taking the gradient, the gradient of
     * the right shape, and the start of the refusal's message ("TimeAffine.backward: dout"; for the layers whose
     * kernel compares the whole shape itself, the kernel's, "timeAttentionBackward: dc").
     */
    record Call(String refusal, AutoCloseable owned, Runnable forward, Consumer<Tensor> backward, Tensor right,
                boolean parameters) {
    }

    static Named<Function<LayerFixture, Call>> of(String name, Function<LayerFixture, Call> make) {
        return Named.of(name, make);
    }

    static Stream<Named<Function<LayerFixture, Call>>> cases() {
        return Stream.of(
                of("TimeAffine", c -> {
                    TimeAffine l = new TimeAffine(c.backend, c.p("affine.W"), c.p("affine.b"));
                    return new Call("TimeAffine.backward: dout", l, () -> l.forward(c.xs3[S]), l::backward, c.dV3[S],
                            true);
                }),
                of("TimeAffine transposedW", c -> {
                    TimeAffine l = new TimeAffine(c.backend, c.p("embed.W"), c.p("affine.b"), true);
                    return new Call("TimeAffine.backward: dout", l, () -> l.forward(c.xs3[S]), l::backward, c.dV3[S],
                            true);
                }),
                of("TimeEmbedding", c -> {
                    TimeEmbedding l = new TimeEmbedding(c.backend, c.p("embed.W"));
                    return new Call("TimeEmbedding.backward: dout", l, () -> l.forward(c.ids2[S]), l::backward,
                            c.dD3[S], true);
                }),
                of("TimeDropout", c -> {
                    TimeDropout l = new TimeDropout(c.backend, 0.4f, 5);
                    return new Call("TimeDropout.backward: dout", l, () -> l.forward(c.xs3[S]), l::backward, c.dD3[S],
                            false);
                }),
                of("TimeDropout in evaluation", c -> {
                    // backward hands dout back as it is: the next layer would read it in the forward's layout
                    TimeDropout l = new TimeDropout(c.backend, 0.4f, 5);
                    l.setTraining(false);
                    return new Call("TimeDropout.backward: dout", l, () -> l.forward(c.xs3[S]), l::backward, c.dD3[S],
                            false);
                }),
                of("TimeRNN", c -> {
                    TimeRNN l = new TimeRNN(c.backend, c.p("rnn.Wx"), c.p("rnn.Wh"), c.p("rnn.b"), false);
                    return new Call("TimeRNN.backward: dhs", l, () -> l.forward(c.xs3[S]), l::backward, c.dH3[S], true);
                }),
                of("TimeLSTM", c -> {
                    TimeLSTM l = new TimeLSTM(c.backend, c.p("lstm.Wx"), c.p("lstm.Wh"), c.p("lstm.b"), false);
                    return new Call("TimeLSTM.backward: dhs", l, () -> l.forward(c.xs3[S]), l::backward, c.dH3[S],
                            true);
                }),
                of("TimeLSTM dcLast", c -> {
                    TimeLSTM l = new TimeLSTM(c.backend, c.p("lstm.Wx"), c.p("lstm.Wh"), c.p("lstm.b"), false);
                    return new Call("TimeLSTM.backward: dcLast", l, () -> l.forward(c.xs3[S]),
                            dc -> l.backward(c.dH3[S], dc), c.c2[S], true);
                }),
                of("TimeLSTM backwardLast", c -> {
                    TimeLSTM l = new TimeLSTM(c.backend, c.p("lstm.Wx"), c.p("lstm.Wh"), c.p("lstm.b"), false);
                    return new Call("TimeLSTM.backwardLast: dhLast", l, () -> l.forward(c.xs3[S]),
                            dh -> l.backwardLast(dh, null), c.dH2[S], true);
                }),
                of("TimeLSTM through an embedding", c -> through(c, "TimeLSTM",
                        new TimeLSTM(c.backend, c.p("lstm.Wx"), c.p("lstm.Wh"), c.p("lstm.b"), false), false)),
                of("TimeLSTM folded", c -> through(c, "TimeLSTM",
                        new TimeLSTM(c.backend, c.p("lstm.Wx"), c.p("lstm.Wh"), c.p("lstm.b"), false), true)),
                of("TimeGRU", c -> {
                    TimeGRU l = new TimeGRU(c.backend, c.p("gru.Wx"), c.p("gru.Wh"), c.p("gru.b"), false);
                    return new Call("TimeGRU.backward: dhs", l, () -> l.forward(c.xs3[S]), l::backward, c.dH3[S], true);
                }),
                of("TimeGRU through an embedding", c -> through(c, "TimeGRU",
                        new TimeGRU(c.backend, c.p("gru.Wx"), c.p("gru.Wh"), c.p("gru.b"), false), false)),
                of("TimeGRU folded", c -> through(c, "TimeGRU",
                        new TimeGRU(c.backend, c.p("gru.Wx"), c.p("gru.Wh"), c.p("gru.b"), false), true)),
                of("TimeGRU backwardLast", c -> {
                    TimeGRU l = new TimeGRU(c.backend, c.p("gru.Wx"), c.p("gru.Wh"), c.p("gru.b"), false);
                    TimeEmbedding e = new TimeEmbedding(c.backend, c.p("embed.W"));
                    return new Call("TimeGRU.backwardLast: dhLast", () -> {
                        l.close();
                        e.close();
                    }, () -> l.forward(e, c.ids2[S]), dh -> l.backwardLast(e, dh), c.dH2[S], true);
                }),
                of("TimeBiRecurrent", c -> {
                    TimeBiRecurrent l = new TimeBiRecurrent(c.backend, Cell.GRU, c.p("gru.Wx"), c.p("gru.Wh"),
                            c.p("gru.b"), c.p("gruB.Wx"), c.p("gruB.Wh"), c.p("gruB.b"));
                    return new Call("TimeBiRecurrent.backward: dhs", l, () -> l.forward(c.xs3[S]), l::backward,
                            c.d2H3[S], true);
                }),
                of("TimeAttention", c -> {
                    TimeAttention l = new TimeAttention(c.backend);
                    return new Call("TimeAttention.backward: dout", l, () -> l.forward(c.hs3[S], c.dec3[S]), l::backward,
                            c.dDec3[S], false);
                }),
                of("Sigmoid", c -> {
                    Sigmoid l = new Sigmoid(c.backend);
                    return new Call("Sigmoid.backward: dout", l, () -> l.forward(c.h2[S]), l::backward, c.dH2[S],
                            false);
                }),
                of("RNN", c -> {
                    RNN l = new RNN(c.backend, c.p("rnn.Wx"), c.p("rnn.Wh"), c.p("rnn.b"));
                    return new Call("RNN.backward: dhNext", l, () -> l.forward(c.x2[S], c.h2[S]), l::backward,
                            c.dH2[S], true);
                }),
                of("GRU", c -> {
                    GRU l = new GRU(c.backend, c.p("gru.Wx"), c.p("gru.Wh"), c.p("gru.b"));
                    return new Call("GRU.backward: dhNext", l, () -> l.forward(c.x2[S], c.h2[S]), l::backward,
                            c.dH2[S], true);
                }),
                of("LSTM dhNext", c -> {
                    LSTM l = new LSTM(c.backend, c.p("lstm.Wx"), c.p("lstm.Wh"), c.p("lstm.b"));
                    return new Call("LSTM.backward: dhNext", l, () -> l.forward(c.x2[S], c.h2[S], c.c2[S]),
                            dh -> l.backward(dh, c.c2[S]), c.dH2[S], true);
                }),
                of("LSTM dcNext", c -> {
                    LSTM l = new LSTM(c.backend, c.p("lstm.Wx"), c.p("lstm.Wh"), c.p("lstm.b"));
                    return new Call("LSTM.backward: dcNext", l, () -> l.forward(c.x2[S], c.h2[S], c.c2[S]),
                            dc -> l.backward(c.dH2[S], dc), c.c2[S], true);
                }),
                of("Affine", c -> {
                    Affine l = new Affine(c.backend, c.p("affine.W"), c.p("affine.b"));
                    return new Call("Affine.backward: dout", l, () -> l.forward(c.x2[S]), l::backward, c.dV2[S], true);
                }),
                of("MatMul", c -> {
                    MatMul l = new MatMul(c.backend, c.p("affine.W"));
                    return new Call("MatMul.backward: dout", l, () -> l.forward(c.x2[S]), l::backward, c.dV2[S], true);
                }),
                of("Embedding", c -> {
                    Embedding l = new Embedding(c.backend, c.p("embed.W"));
                    return new Call("Embedding.backward: dout", l, () -> l.forward(c.ids1[S]), l::backward, c.dD2[S],
                            true);
                }),
                of("Softmax", c -> {
                    Softmax l = new Softmax(c.backend);
                    return new Call("Softmax.backward: dout", l, () -> l.forward(c.x2[S]), l::backward, c.dD2[S], false);
                }),
                of("AttentionWeight", c -> {
                    AttentionWeight l = new AttentionWeight(c.backend);
                    return new Call("AttentionWeight.backward: da", l, () -> l.forward(c.hs3[S], c.h2[S]), l::backward,
                            c.a2[S], false);
                }),
                of("WeightSum", c -> {
                    WeightSum l = new WeightSum(c.backend);
                    return new Call("WeightSum.backward: dc", l, () -> l.forward(c.hs3[S], c.a2[S]), l::backward,
                            c.dH2[S], false);
                }),
                of("Attention", c -> {
                    Attention l = new Attention(c.backend);
                    return new Call("Attention.backward: dc", l, () -> l.forward(c.hs3[S], c.h2[S]), l::backward,
                            c.dH2[S], false);
                }));
    }

    /**
     * forward(embed, ids) and backward(embed, dhs): folded into the embedding (V < T*N), or not (T = 4, N = 1: fewer
     * tokens than V, at the first forward), two paths to the same check.
     */
    static Call through(LayerFixture c, String name, TimeRecurrent r, boolean folded) {
        TimeEmbedding e = new TimeEmbedding(c.backend, c.p("embed.W"));
        Tensor ids = folded ? c.ids2[S] : GradientCheck.ints(c.backend, c.ws, new int[] {0, 1, 2, 3}, 4, 1);
        Tensor dhs = folded ? c.dH3[S]
                : GradientCheck.tensor(c.backend, c.ws, GradientCheck.randn(c.rng, 1, 4 * LayerFixture.H), 4, 1,
                        LayerFixture.H);
        return new Call(name + ".backward: dhs", () -> {
            r.close();
            e.close();
        }, () -> r.forward(e, ids), d -> r.backward(e, d), dhs, true);
    }

    /** A gradient of {@code right}'s size with its first two axes swapped, random (a refused one must add nothing). */
    static Tensor swapped(LayerFixture c, Tensor right) {
        int[] shape = right.shape();
        int d0 = shape[0];
        shape[0] = shape[1];
        shape[1] = d0;
        return GradientCheck.tensor(c.backend, c.ws, GradientCheck.randn(c.rng, 1, Math.toIntExact(right.size())), shape);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void aGradientOfTheSameSizeInAnotherShapeIsRefused(Function<LayerFixture, Call> make) throws Exception {
        try (LayerFixture c = new LayerFixture()) {
            Call call = make.apply(c);
            try (AutoCloseable owned = call.owned()) {
                Tensor wrong = swapped(c, call.right());
                c.store.zeroGrads();
                call.forward().run();
                float[] before = values(c.backend, c.store.grads());
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> call.backward().accept(wrong),
                        call.refusal() + ": a gradient " + wrong + " after a forward whose output is " + call.right());
                assertTrue(e.getMessage().startsWith(call.refusal() + " has shape " + Tensor.shapeString(wrong.shape())
                        + ", expected " + Tensor.shapeString(call.right().shape())), e.getMessage());
                assertArrayEquals(before, values(c.backend, c.store.grads()),
                        call.refusal() + ": the refused backward changed the parameter gradients");
                // the refusal left the forward: the backward given the right shape runs, and adds what one adds
                call.backward().accept(call.right());
                float[] corrected = values(c.backend, c.store.grads());
                c.store.zeroGrads();
                call.forward().run();
                call.backward().accept(call.right());
                assertArrayEquals(values(c.backend, c.store.grads()), corrected,
                        call.refusal() + ": the corrected backward after a refused one");
                boolean added = false;
                for (float g : corrected) {
                    added |= g != 0f;
                }
                assertEquals(call.parameters(), added, call.refusal() + ": parameter gradients added by a backward");
            }
        }
    }

    /** The message in full: the call, the gradient, what it is the shape of. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void theRefusalSaysWhatTheShapeShouldBe(Function<LayerFixture, Call> make) throws Exception {
        try (LayerFixture c = new LayerFixture()) {
            Call call = make.apply(c);
            try (AutoCloseable owned = call.owned()) {
                call.forward().run();
                Tensor wrong = swapped(c, call.right());
                String message = assertThrows(IllegalArgumentException.class, () -> call.backward().accept(wrong))
                        .getMessage();
                assertTrue(message.matches(".*, expected \\([0-9, ]+\\), the shape of the (forward's (output|h_next|c_next)"
                        + "( \\([A-Za-z_2, ]+\\))?|last hidden state \\(N, H\\)|last cell state \\(N, H\\))"), message);
            }
        }
    }
}
