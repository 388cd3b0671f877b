// A layer whose buffers are being resized by a forward when an allocation fails (out of memory, part-way through)
// must not keep the old size's key over buffers of a closed arena, or of the new size: the next forward at either
// size must run and give what a fresh layer gives. For every kind of layer, failing at each allocation of the
// resizing step in turn: a forward and backward at size A, then one at size B whose k-th allocation throws
// OutOfMemoryError, then forward and backward at A and at B, compared bit for bit with a fresh layer's; the same
// with the failure in the layer's very first step, where nothing was sized yet. Before the fix a failed resize left
// e.g. Affine's sizedN at A over the closed arena's tensors, and its next forward at A threw "Already closed".
// Also: a stateful layer's carried state survives a failed resize, and a setState that fails leaves no state.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.seq4j.layers.LayerFixture.D;
import static org.seq4j.layers.LayerFixture.N;
import static org.seq4j.testing.TestBackends.values;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.backend.PackedMatrix;
import org.seq4j.tensor.Tensor;

class FailedAllocationTest {
    /** Collects a copy of each tensor a step hands out. */
    interface Out {
        void add(Tensor t);
    }

    /** Forward and backward at size s (0: A, 1: B), every output and gradient handed to out. */
    interface Step {
        void run(int s, Out out);
    }

    /** Layers under test: a step, and what to close. */
    record Subject(Step step, AutoCloseable... owned) implements AutoCloseable {
        @Override
        public void close() {
            for (AutoCloseable c : owned) {
                try {
                    c.close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    /** Builds the layers of a case on a backend (the plain one, or one whose allocations fail). */
    interface Case extends BiFunction<Backend, LayerFixture, Subject> {
    }

    static Named<Case> of(String name, Case c) {
        return Named.of(name, c);
    }

    static TimeLSTM lstm(Backend b, LayerFixture c, boolean stateful) {
        return new TimeLSTM(b, c.p("lstm.Wx"), c.p("lstm.Wh"), c.p("lstm.b"), stateful);
    }

    static TimeGRU gru(Backend b, LayerFixture c, boolean stateful) {
        return new TimeGRU(b, c.p("gru.Wx"), c.p("gru.Wh"), c.p("gru.b"), stateful);
    }

    static TimeRNN rnn(Backend b, LayerFixture c, boolean stateful) {
        return new TimeRNN(b, c.p("rnn.Wx"), c.p("rnn.Wh"), c.p("rnn.b"), stateful);
    }

    /** forward(embed, ids) over two embeddings, V = 7 at size A and V = 5 at size B: the folded table is resized. */
    static Subject folded(Backend b, LayerFixture c, TimeRecurrent r) {
        TimeEmbedding[] e = {new TimeEmbedding(b, c.p("embed.W")), new TimeEmbedding(b, c.p("embed2.W"))};
        return new Subject((s, out) -> {
            out.add(r.forward(e[s], c.ids2[s]));
            r.backward(e[s], c.dH3[s]);
            out.add(r.dh());
        }, r, e[0], e[1]);
    }

    static Stream<Named<Case>> cases() {
        return Stream.of(
                of("Affine", (b, c) -> {
                    Affine l = new Affine(b, c.p("affine.W"), c.p("affine.b"));
                    return new Subject((s, out) -> {
                        out.add(l.forward(c.x2[s]));
                        out.add(l.backward(c.dV2[s]));
                    }, l);
                }),
                of("MatMul", (b, c) -> {
                    MatMul l = new MatMul(b, c.p("affine.W"));
                    return new Subject((s, out) -> {
                        out.add(l.forward(c.x2[s]));
                        out.add(l.backward(c.dV2[s]));
                    }, l);
                }),
                of("Embedding", (b, c) -> {
                    Embedding l = new Embedding(b, c.p("embed.W"));
                    return new Subject((s, out) -> {
                        out.add(l.forward(c.ids1[s]));
                        l.backward(c.dD2[s]);
                    }, l);
                }),
                of("Sigmoid", (b, c) -> {
                    Sigmoid l = new Sigmoid(b);
                    return new Subject((s, out) -> {
                        out.add(l.forward(c.x2[s]));
                        out.add(l.backward(c.dD2[s]));
                    }, l);
                }),
                of("Softmax", (b, c) -> {
                    Softmax l = new Softmax(b);
                    return new Subject((s, out) -> {
                        out.add(l.forward(c.x2[s]));
                        out.add(l.backward(c.dD2[s]));
                    }, l);
                }),
                of("SoftmaxWithLoss", (b, c) -> {
                    SoftmaxWithLoss l = new SoftmaxWithLoss(b);
                    return new Subject((s, out) -> {
                        out.add(l.forward(c.dV2[s], c.labels1[s]));
                        out.add(l.backward(1f));
                    }, l);
                }),
                of("RNN", (b, c) -> {
                    RNN l = new RNN(b, c.p("rnn.Wx"), c.p("rnn.Wh"), c.p("rnn.b"));
                    return new Subject((s, out) -> {
                        out.add(l.forward(c.x2[s], c.h2[s]));
                        out.add(l.backward(c.dH2[s]));
                        out.add(l.dhPrev());
                    }, l);
                }),
                of("LSTM", (b, c) -> {
                    LSTM l = new LSTM(b, c.p("lstm.Wx"), c.p("lstm.Wh"), c.p("lstm.b"));
                    return new Subject((s, out) -> {
                        out.add(l.forward(c.x2[s], c.h2[s], c.c2[s]));
                        out.add(l.cNext());
                        out.add(l.backward(c.dH2[s], c.h2[s]));
                        out.add(l.dhPrev());
                        out.add(l.dcPrev());
                    }, l);
                }),
                of("GRU", (b, c) -> {
                    GRU l = new GRU(b, c.p("gru.Wx"), c.p("gru.Wh"), c.p("gru.b"));
                    return new Subject((s, out) -> {
                        out.add(l.forward(c.x2[s], c.h2[s]));
                        out.add(l.backward(c.dH2[s]));
                        out.add(l.dhPrev());
                    }, l);
                }),
                of("AttentionWeight", (b, c) -> {
                    AttentionWeight l = new AttentionWeight(b);
                    return new Subject((s, out) -> {
                        out.add(l.forward(c.hs3[s], c.h2[s]));
                        out.add(l.backward(c.a2[s]));
                        out.add(l.dh());
                    }, l);
                }),
                of("WeightSum", (b, c) -> {
                    WeightSum l = new WeightSum(b);
                    return new Subject((s, out) -> {
                        out.add(l.forward(c.hs3[s], c.a2[s]));
                        out.add(l.backward(c.dH2[s]));
                        out.add(l.da());
                    }, l);
                }),
                of("Attention", (b, c) -> {
                    Attention l = new Attention(b);
                    return new Subject((s, out) -> {
                        out.add(l.forward(c.hs3[s], c.h2[s]));
                        out.add(l.attentionWeight());
                        out.add(l.backward(c.dH2[s]));
                        out.add(l.dh());
                    }, l);
                }),
                of("TimeAffine", (b, c) -> {
                    TimeAffine l = new TimeAffine(b, c.p("affine.W"), c.p("affine.b"));
                    return new Subject((s, out) -> {
                        out.add(l.forward(c.xs3[s]));
                        out.add(l.backward(c.dV3[s]));
                    }, l);
                }),
                of("TimeEmbedding", (b, c) -> {
                    TimeEmbedding l = new TimeEmbedding(b, c.p("embed.W"));
                    return new Subject((s, out) -> {
                        out.add(l.forward(c.ids2[s]));
                        l.backward(c.dD3[s]);
                    }, l);
                }),
                of("TimeDropout", (b, c) -> {
                    TimeDropout l = new TimeDropout(b, 0.4f, 1);
                    return new Subject((s, out) -> {
                        l.setSeed(99);   // the mask of a fresh layer's first forward
                        out.add(l.forward(c.xs3[s]));
                        out.add(l.backward(c.dD3[s]));
                    }, l);
                }),
                of("TimeMSE ALL", (b, c) -> {
                    TimeMSE l = new TimeMSE(b, TimeMSE.Steps.ALL);
                    return new Subject((s, out) -> {
                        out.add(l.forward(c.xs3[s], c.ts3[s]));
                        out.add(l.backward(1f));
                    }, l);
                }),
                of("TimeMSE LAST", (b, c) -> {
                    TimeMSE l = new TimeMSE(b, TimeMSE.Steps.LAST);
                    return new Subject((s, out) -> {
                        out.add(l.forward(c.xs3[s], c.dD2[s]));
                        out.add(l.backward(1f));
                    }, l);
                }),
                of("TimeSoftmaxWithLoss", (b, c) -> {
                    TimeSoftmaxWithLoss l = new TimeSoftmaxWithLoss(b);
                    return new Subject((s, out) -> {
                        out.add(l.forward(c.dV3[s], c.labels2[s]));
                        out.add(l.backward(1f));
                    }, l);
                }),
                of("TimeAttention", (b, c) -> {
                    TimeAttention l = new TimeAttention(b);
                    return new Subject((s, out) -> {
                        out.add(l.forward(c.hs3[s], c.dec3[s]));
                        out.add(l.attentionWeights());
                        out.add(l.backward(c.dDec3[s]));
                        out.add(l.dhsDec());
                    }, l);
                }),
                of("TimeRNN", (b, c) -> {
                    TimeRNN l = rnn(b, c, false);
                    return new Subject((s, out) -> {
                        out.add(l.forward(c.xs3[s]));
                        out.add(l.backward(c.dH3[s]));
                        out.add(l.dh());
                    }, l);
                }),
                of("TimeRNN stateful", (b, c) -> {
                    TimeRNN l = rnn(b, c, true);
                    return new Subject((s, out) -> {
                        l.setState(c.h2[s]);   // sizes the carried state for N
                        out.add(l.forward(c.xs3[s]));
                        out.add(l.backward(c.dH3[s]));
                        out.add(l.dh());
                    }, l);
                }),
                of("TimeLSTM", (b, c) -> {
                    TimeLSTM l = lstm(b, c, false);
                    return new Subject((s, out) -> {
                        out.add(l.forward(c.xs3[s]));
                        out.add(l.backward(c.dH3[s], c.h2[s]));
                        out.add(l.dh());
                        out.add(l.dc());
                    }, l);
                }),
                of("TimeLSTM stateful", (b, c) -> {
                    TimeLSTM l = lstm(b, c, true);
                    return new Subject((s, out) -> {
                        l.resetState();   // the carried state is sized by the forward, for N
                        out.add(l.forward(c.xs3[s]));
                        out.add(l.backward(c.dH3[s]));
                        out.add(l.dh());
                    }, l);
                }),
                of("TimeLSTM folded", (b, c) -> folded(b, c, lstm(b, c, false))),
                of("TimeLSTM BF16 inference", (b, c) -> {
                    TimeLSTM l = lstm(b, c, false);
                    l.setInferencePrecision(PackedMatrix.Precision.BF16);
                    return new Subject((s, out) -> out.add(l.forward(c.xs3[s])), l);
                }),
                of("TimeGRU", (b, c) -> {
                    TimeGRU l = gru(b, c, false);
                    return new Subject((s, out) -> {
                        out.add(l.forward(c.xs3[s]));
                        out.add(l.backward(c.dH3[s]));
                        out.add(l.dh());
                    }, l);
                }),
                of("TimeGRU stateful", (b, c) -> {
                    TimeGRU l = gru(b, c, true);
                    return new Subject((s, out) -> {
                        l.setState(c.h2[s]);
                        out.add(l.forward(c.xs3[s]));
                        out.add(l.backward(c.dH3[s]));
                        out.add(l.dh());
                    }, l);
                }),
                of("TimeGRU folded", (b, c) -> folded(b, c, gru(b, c, false))),
                of("TimeBiRecurrent LSTM", (b, c) -> bi(b, c, Cell.LSTM)),
                of("TimeBiRecurrent GRU", (b, c) -> bi(b, c, Cell.GRU)));
    }

    static Subject bi(Backend b, LayerFixture c, Cell cell) {
        String f = cell.lower(), r = cell.lower() + "B";
        TimeBiRecurrent l = new TimeBiRecurrent(b, cell, c.p(f + ".Wx"), c.p(f + ".Wh"), c.p(f + ".b"),
                c.p(r + ".Wx"), c.p(r + ".Wh"), c.p(r + ".b"));
        return new Subject((s, out) -> {
            out.add(l.forward(c.xs3[s]));
            out.add(l.backward(c.d2H3[s]));
        }, l);
    }

    /** One step at size s from the weights as they are: what it hands out, then the parameter gradients. */
    private static List<float[]> step(LayerFixture c, Subject subject, int s) {
        // every step takes a first step's path: packed Wh and the folded table made anew, as a fresh layer makes them
        c.store.valuesWritten();
        c.store.zeroGrads();
        List<float[]> out = new ArrayList<>();
        subject.step().run(s, t -> out.add(values(c.backend, t)));
        out.add(values(c.backend, c.store.grads()));
        return out;
    }

    private static void assertSame(List<float[]> expected, List<float[]> actual, String what) {
        assertEquals(expected.size(), actual.size(), what + ": outputs");
        for (int i = 0; i < expected.size(); i++) {
            String name = i == expected.size() - 1 ? "the parameter gradients" : "output " + i;
            assertArrayEquals(expected.get(i), actual.get(i), what + ": " + name + " differs from a fresh layer's");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void aFailedAllocationLeavesTheLayerAsAFreshOne(Case make) {
        try (LayerFixture c = new LayerFixture()) {
            List<List<float[]>> fresh = new ArrayList<>();
            for (int s = 0; s < 2; s++) {
                try (Subject f = make.apply(c.backend, c)) {
                    fresh.add(step(c, f, s));
                }
            }
            FailingAllocations failing = new FailingAllocations(c.backend);
            for (boolean firstStep : new boolean[] {true, false}) {
                int failures = 0;
                for (int k = 0; ; k++) {
                    String what = (firstStep ? "failing the first step" : "failing the step at size B after one at A")
                            + " at its allocation " + k;
                    try (Subject layer = make.apply(failing.backend(), c)) {
                        if (!firstStep) {
                            step(c, layer, 0);
                        }
                        if (!failing.refuseDuring(k, () -> step(c, layer, firstStep ? 0 : 1), what)) {
                            break;   // the step makes fewer than k + 1 allocations: every one has failed once
                        }
                        failures++;
                        for (int s : new int[] {0, 1, 0}) {
                            assertSame(fresh.get(s), step(c, layer, s), what + ", then a step at size " + "AB".charAt(s));
                        }
                    }
                }
                if (firstStep) {
                    assertTrue(failures > 0, "the layer's first step allocates nothing: the test proves nothing");
                }
            }
        }
    }

    /** A stateful layer's carried state survives a forward whose resize failed: the next forward continues from it. */
    @Test
    void aCarriedStateSurvivesAFailedResize() {
        try (LayerFixture c = new LayerFixture()) {
            FailingAllocations failing = new FailingAllocations(c.backend);
            // N stays, T changes: the workspace is resized, the carried state kept (in the state's own buffers)
            Tensor a = c.xs3[0], b = GradientCheck.tensor(c.backend, c.ws, GradientCheck.randn(c.rng, 1, 5 * N[0] * D),
                    5, N[0], D);
            for (Cell cell : Cell.values()) {
                float[] expected;
                try (TimeRecurrent r = cell == Cell.LSTM ? lstm(c.backend, c, true) : gru(c.backend, c, true)) {
                    r.forward(a);
                    expected = values(c.backend, r.forward(a));
                }
                for (int k = 0; ; k++) {
                    try (TimeRecurrent r = cell == Cell.LSTM ? lstm(failing.backend(), c, true)
                            : gru(failing.backend(), c, true)) {
                        r.forward(a);
                        failing.arm(k);
                        try {
                            r.forward(b);
                        } catch (OutOfMemoryError e) {
                            assertEquals(FailingAllocations.MESSAGE, e.getMessage());
                        } finally {
                            failing.disarm();
                        }
                        if (!failing.fired()) {
                            assertTrue(k > 0, cell + ": the resize allocates nothing: the test proves nothing");
                            break;
                        }
                        assertArrayEquals(expected, values(c.backend, r.forward(a)), cell + " failing at allocation " + k
                                + ": the forward after the failed one should continue from the state before it");
                    }
                }
            }
        }
    }

    /**
     * A setState whose allocation fails (a state of another N) leaves no carried state; before, the layer kept the old
     * N's key and flags over the closed buffer that held the state, and its next forward threw "already closed".
     */
    @Test
    void aFailedSetStateLeavesNoState() {
        try (LayerFixture c = new LayerFixture()) {
            FailingAllocations failing = new FailingAllocations(c.backend);
            Tensor xs = c.xs3[0];
            for (String kind : new String[] {"TimeLSTM", "TimeGRU", "TimeRNN"}) {
                BiFunction<Backend, Boolean, AutoCloseable> make = (b, stateful) -> switch (kind) {
                    case "TimeLSTM" -> lstm(b, c, stateful);
                    case "TimeGRU" -> gru(b, c, stateful);
                    default -> rnn(b, c, stateful);
                };
                float[] fromZero;
                try (AutoCloseable fresh = make.apply(c.backend, false)) {
                    fromZero = values(c.backend, forward(fresh, xs));
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
                try (AutoCloseable layer = make.apply(failing.backend(), true)) {
                    setState(layer, c.h2[0]);
                    forward(layer, xs);
                    setState(layer, c.h2[0]);   // the state now in the state's own buffers, which the next one closes
                    failing.arm(0);
                    OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> setState(layer, c.h2[1]),
                            kind + ".setState for another N");
                    failing.disarm();
                    assertEquals(FailingAllocations.MESSAGE, e.getMessage());
                    assertArrayEquals(fromZero, values(c.backend, forward(layer, xs)),
                            kind + ": after a setState that failed, the next forward should start from zeros");
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }
        }
    }

    private static Tensor forward(AutoCloseable layer, Tensor xs) {
        return layer instanceof TimeRNN r ? r.forward(xs) : ((TimeRecurrent) layer).forward(xs);
    }

    private static void setState(AutoCloseable layer, Tensor h) {
        if (layer instanceof TimeRNN r) {
            r.setState(h);
        } else {
            ((TimeRecurrent) layer).setState(h);
        }
    }
}
