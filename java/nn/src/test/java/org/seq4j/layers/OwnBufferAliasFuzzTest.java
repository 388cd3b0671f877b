// A differential fuzzer for the own-buffer rule (OwnBufferInputTest, Workspace.refuseOwn): a layer's call given one of
// the layer's own buffers as an input (a forward's output, a backward's output, an accessor's tensor: whatever it
// handed out before the call) either gives exactly the numbers it gives on a plain copy of the same values, or refuses
// with IllegalArgumentException naming the call and the input, with nothing changed. OwnBufferInputTest checks the
// pairs someone thought of; it missed TimeMSE.forward(dys, ts) under Steps.LAST, whose backward zeroed dys before
// reading the predictions from it (every gradient silently 0). Here every public layer class has scripts of calls
// (forward, backward, setState, the fused embedding calls), and every tensor input of every call is replaced in turn
// by every buffer the layer handed out before it (whole, viewed in the input's shape, or its first or last step), with
// the sizes equal (D = H = V = T, or T = 1) so that shapes line up. Two runs per case on fresh layers over the same
// weights: the reference passes a plain copy, the other the buffer itself; the values are the buffer's own (an output
// fed back) or fresh ones written into the buffer in both runs. Every call's outputs and the parameter gradients must
// agree bit for bit (on a host backend); a refused call must leave every handed-out buffer and gradient as it was, and
// the run then goes on with the copy, to the reference's numbers. Its first run found backwards that took their own
// last gradient as dout (Affine's dx, an LSTM cell's dcPrev, ...): refused by a kernel in the kernel's words after the
// backward had started, which left the forward used up; and TimeLSTM.backward(dhs, dcLast) at T = 1 with dhs its own
// dc() viewed as (1, N, H), whose gradients silently took dcLast's values for dhs.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.PublicClasses;
import org.seq4j.testing.TestBackends;

class OwnBufferAliasFuzzTest {
    /** D = H = V = 4, and T = 4 too, where every (N, H), (N, T), (N, D) buffer fits every such input. */
    static final int K = 4, D = K, H = K, V = K;

    /**
     * The steps and the batch: T = N = K; or N = 1, where the recurrent layers take their per-step paths
     * (KeptPack.packs: one row and under eight steps) instead of the packed sequence kernels; or T = N = 1, where an
     * (N, H) buffer fits a sequence (T, N, H).
     */
    int T = K, N = K;

    /** The java reference, or another backend for the fuzz itself (each run against a reference run on the same). */
    Backend backend = TestBackends.reference();

    /**
     * Public classes of org.seq4j.layers with a forward that get no script, with the reason. Any other such class
     * without a script fails the coverage check, so a new layer cannot slip past.
     */
    static final Map<Class<?>, String> EXCLUDED = Map.of(TimeRecurrent.class,
            "a sealed interface: its only implementations, TimeLSTM and TimeGRU, have scripts of their own");

    /**
     * Public calls that take a tensor but get no script, with the reason: the coverage check passes them over on
     * every class.
     */
    static final Map<String, String> EXCLUDED_CALLS = Map.of("holds(Tensor)",
            "reads only where t lies, never its values, and hands out nothing (the decoders' check of an encoding)");

    /** One run: the parameters' and the plain inputs' memory, and the weights, the same in every run. */
    final class Run implements AutoCloseable {
        final Arena arena = Arena.ofConfined();
        final List<Parameter> params = new ArrayList<>();

        Parameter p(String name, int... shape) {
            Tensor value = floats(name.hashCode(), shape);
            Tensor grad = backend.allocate(arena, DType.F32, shape);
            Parameter p = new Parameter(name, value, grad);
            params.add(p);
            return p;
        }

        Tensor floats(long seed, int... shape) {
            Tensor t = backend.allocate(arena, DType.F32, shape);
            backend.copyIn(t, randoms(seed, (int) t.size()));
            return t;
        }

        Tensor ints(long seed, int bound, int... shape) {
            Tensor t = backend.allocate(arena, DType.I32, shape);
            Random r = new Random(seed);
            int[] v = new int[(int) t.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = r.nextInt(bound);
            }
            backend.copyIn(t, v);
            return t;
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    static float[] randoms(long seed, int n) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    /** An input of a call: its parameter name, shape, and for int32 ids or labels their bound (0 for float32). */
    record In(String name, int[] shape, int intBound) {
    }

    static In f(String name, int... shape) {
        return new In(name, shape, 0);
    }

    static In ids(String name, int... shape) {
        return new In(name, shape, V);
    }

    /** What a call handed out: its result and the tensors of the accessors read after it. */
    static final class Handed {
        final List<String> names = new ArrayList<>();
        final List<Tensor> tensors = new ArrayList<>();

        Handed put(String name, Tensor t) {
            names.add(name);
            tensors.add(t);
            return this;
        }
    }

    interface Body<L> {
        void call(L layer, Tensor[] in, Handed out);
    }

    /** One call: the method's signature (for the coverage check), its inputs, and how to make it. */
    record Call<L>(String signature, In[] ins, Body<L> body) {
    }

    /** A layer's class, a name, how to make it over a run's weights, and its calls in order. */
    static final class Script<L extends AutoCloseable> {
        final Class<?> layer;
        final String name;
        final Function<Run, L> make;
        final List<Call<L>> calls = new ArrayList<>();

        Script(Class<?> layer, String name, Function<Run, L> make) {
            this.layer = layer;
            this.name = name;
            this.make = make;
        }

        Script<L> call(String signature, In[] ins, Body<L> body) {
            calls.add(new Call<>(signature, ins, body));
            return this;
        }

        /** The calls so far once more: the second round is where the first round's buffers come back as inputs. */
        Script<L> twice() {
            calls.addAll(List.copyOf(calls));
            return this;
        }

        @Override
        public String toString() {
            return layer.getSimpleName() + "[" + name + "]";
        }
    }

    static In[] ins(In... ins) {
        return ins;
    }

    static <L extends AutoCloseable> Script<L> script(Class<?> layer, String name, Function<Run, L> make) {
        return new Script<>(layer, name, make);
    }

    /** A TimeLSTM or TimeGRU with the embedding its fused calls read. */
    record Fused<R extends TimeRecurrent>(R layer, TimeEmbedding embed) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            layer.close();
            embed.close();
        }
    }

    List<Script<?>> scripts() {
        List<Script<?>> s = new ArrayList<>();
        s.add(script(Affine.class, "", r -> new Affine(backend, r.p("W", D, H), r.p("b", H)))
                .call("forward(Tensor)", ins(f("x", N, D)), (l, in, o) -> o.put("out", l.forward(in[0])))
                .call("backward(Tensor)", ins(f("dout", N, H)), (l, in, o) -> o.put("dx", l.backward(in[0])))
                .twice());
        s.add(script(MatMul.class, "", r -> new MatMul(backend, r.p("W", D, H)))
                .call("forward(Tensor)", ins(f("x", N, D)), (l, in, o) -> o.put("out", l.forward(in[0])))
                .call("backward(Tensor)", ins(f("dout", N, H)), (l, in, o) -> o.put("dx", l.backward(in[0])))
                .twice());
        for (boolean transposed : new boolean[] {false, true}) {
            s.add(script(TimeAffine.class, transposed ? "transposedW" : "",
                    r -> new TimeAffine(backend, r.p("W", D, V), r.p("b", V), transposed))
                    .call("forward(Tensor)", ins(f("x", T, N, D)), (l, in, o) -> o.put("out", l.forward(in[0])))
                    .call("backward(Tensor)", ins(f("dout", T, N, V)), (l, in, o) -> o.put("dx", l.backward(in[0])))
                    .twice());
        }
        s.add(script(Embedding.class, "", r -> new Embedding(backend, r.p("W", V, D)))
                .call("forward(Tensor)", ins(ids("ids", N)), (l, in, o) -> o.put("out", l.forward(in[0])))
                .call("backward(Tensor)", ins(f("dout", N, D)), (l, in, o) -> l.backward(in[0]))
                .twice());
        s.add(script(TimeEmbedding.class, "", r -> new TimeEmbedding(backend, r.p("W", V, D)))
                .call("forward(Tensor)", ins(ids("ids", T, N)), (l, in, o) -> o.put("out", l.forward(in[0])))
                .call("backward(Tensor)", ins(f("dout", T, N, D)), (l, in, o) -> l.backward(in[0]))
                .twice());
        s.add(script(Sigmoid.class, "", r -> new Sigmoid(backend))
                .call("forward(Tensor)", ins(f("x", N, K)), (l, in, o) -> o.put("y", l.forward(in[0])))
                .call("backward(Tensor)", ins(f("dout", N, K)), (l, in, o) -> o.put("dx", l.backward(in[0])))
                .twice());
        s.add(script(Softmax.class, "", r -> new Softmax(backend))
                .call("forward(Tensor)", ins(f("x", N, V)), (l, in, o) -> o.put("y", l.forward(in[0])))
                .call("backward(Tensor)", ins(f("dout", N, V)), (l, in, o) -> o.put("dx", l.backward(in[0])))
                .twice());
        s.add(script(SoftmaxWithLoss.class, "", r -> new SoftmaxWithLoss(backend))
                .call("forward(Tensor,Tensor)", ins(f("x", N, V), ids("t", N)),
                        (l, in, o) -> o.put("loss", l.forward(in[0], in[1])))
                .call("backward(float)", ins(), (l, in, o) -> o.put("dx", l.backward(1f)))
                .twice());
        s.add(script(TimeSoftmaxWithLoss.class, "", r -> new TimeSoftmaxWithLoss(backend))
                .call("forward(Tensor,Tensor)", ins(f("xs", T, N, V), ids("ts", T, N)),
                        (l, in, o) -> o.put("loss", l.forward(in[0], in[1])).put("probs", l.probs()))
                .call("backward(float)", ins(), (l, in, o) -> o.put("dxs", l.backward(1f)))
                .twice());
        for (TimeMSE.Steps steps : TimeMSE.Steps.values()) {
            In ts = steps == TimeMSE.Steps.ALL ? f("ts", T, N, H) : f("ts", N, H);
            s.add(script(TimeMSE.class, steps.name(), r -> new TimeMSE(backend, steps))
                    .call("forward(Tensor,Tensor)", ins(f("ys", T, N, H), ts),
                            (l, in, o) -> o.put("loss", l.forward(in[0], in[1])))
                    .call("backward(float)", ins(), (l, in, o) -> o.put("dys", l.backward(1f)))
                    .twice());
        }
        s.add(script(TimeDropout.class, "", r -> new TimeDropout(backend, 0.5f, 11))
                .call("forward(Tensor)", ins(f("xs", T, N, D)), (l, in, o) -> o.put("out", l.forward(in[0])))
                .call("backward(Tensor)", ins(f("dout", T, N, D)), (l, in, o) -> o.put("dxs", l.backward(in[0])))
                .twice());
        s.add(script(WeightSum.class, "", r -> new WeightSum(backend))
                .call("forward(Tensor,Tensor)", ins(f("hs", T, N, H), f("a", N, T)),
                        (l, in, o) -> o.put("c", l.forward(in[0], in[1])))
                .call("backward(Tensor)", ins(f("dc", N, H)), (l, in, o) -> o.put("dhs", l.backward(in[0]))
                        .put("da", l.da()))
                .twice());
        s.add(script(AttentionWeight.class, "", r -> new AttentionWeight(backend))
                .call("forward(Tensor,Tensor)", ins(f("hs", T, N, H), f("h", N, H)),
                        (l, in, o) -> o.put("a", l.forward(in[0], in[1])))
                .call("backward(Tensor)", ins(f("da", N, T)), (l, in, o) -> o.put("dhs", l.backward(in[0]))
                        .put("dh", l.dh()))
                .twice());
        s.add(script(Attention.class, "", r -> new Attention(backend))
                .call("forward(Tensor,Tensor)", ins(f("hs", T, N, H), f("h", N, H)),
                        (l, in, o) -> o.put("c", l.forward(in[0], in[1])).put("a", l.attentionWeight()))
                .call("backward(Tensor)", ins(f("dc", N, H)), (l, in, o) -> o.put("dhs", l.backward(in[0]))
                        .put("dh", l.dh()))
                .twice());
        s.add(script(TimeAttention.class, "", r -> new TimeAttention(backend))
                .call("forward(Tensor,Tensor)", ins(f("hsEnc", T, N, H), f("hsDec", T, N, H)),
                        (l, in, o) -> o.put("out", l.forward(in[0], in[1])).put("a", l.attentionWeights()))
                .call("backward(Tensor)", ins(f("dout", T, N, H)), (l, in, o) -> o.put("dhsEnc", l.backward(in[0]))
                        .put("dhsDec", l.dhsDec()))
                .twice());
        s.add(script(LSTM.class, "", r -> new LSTM(backend, r.p("Wx", D, 4 * H), r.p("Wh", H, 4 * H), r.p("b", 4 * H)))
                .call("forward(Tensor,Tensor,Tensor)", ins(f("x", N, D), f("hPrev", N, H), f("cPrev", N, H)),
                        (l, in, o) -> o.put("hNext", l.forward(in[0], in[1], in[2])).put("cNext", l.cNext()))
                .call("backward(Tensor,Tensor)", ins(f("dhNext", N, H), f("dcNext", N, H)),
                        (l, in, o) -> o.put("dx", l.backward(in[0], in[1])).put("dhPrev", l.dhPrev())
                                .put("dcPrev", l.dcPrev()))
                .twice());
        s.add(script(GRU.class, "", r -> new GRU(backend, r.p("Wx", D, 3 * H), r.p("Wh", H, 3 * H), r.p("b", 3 * H)))
                .call("forward(Tensor,Tensor)", ins(f("x", N, D), f("hPrev", N, H)),
                        (l, in, o) -> o.put("hNext", l.forward(in[0], in[1])))
                .call("backward(Tensor)", ins(f("dhNext", N, H)),
                        (l, in, o) -> o.put("dx", l.backward(in[0])).put("dhPrev", l.dhPrev()))
                .twice());
        s.add(script(RNN.class, "", r -> new RNN(backend, r.p("Wx", D, H), r.p("Wh", H, H), r.p("b", H)))
                .call("forward(Tensor,Tensor)", ins(f("x", N, D), f("hPrev", N, H)),
                        (l, in, o) -> o.put("hNext", l.forward(in[0], in[1])))
                .call("backward(Tensor)", ins(f("dhNext", N, H)),
                        (l, in, o) -> o.put("dx", l.backward(in[0])).put("dhPrev", l.dhPrev()))
                .twice());
        for (boolean stateful : new boolean[] {false, true}) {
            Script<TimeRNN> t = script(TimeRNN.class, stateful ? "stateful" : "",
                    r -> new TimeRNN(backend, r.p("Wx", D, H), r.p("Wh", H, H), r.p("b", H), stateful));
            Body<TimeRNN> forward = (l, in, o) -> o.put("hs", l.forward(in[0])).put("h", l.h());
            Body<TimeRNN> backward = (l, in, o) -> o.put("dxs", l.backward(in[0])).put("dh", l.dh());
            t.call("forward(Tensor)", ins(f("xs", T, N, D)), forward)
                    .call("backward(Tensor)", ins(f("dhs", T, N, H)), backward);
            if (stateful) {   // setState on a stateless layer is refused
                t.call("setState(Tensor)", ins(f("h", N, H)), (l, in, o) -> l.setState(in[0]));
            }
            t.call("forward(Tensor)", ins(f("xs", T, N, D)), forward)
                    .call("backward(Tensor)", ins(f("dhs", T, N, H)), backward);
            s.add(t);
        }
        addTimeLstm(s);
        addTimeGru(s);
        // inference: forwards over a bfloat16 copy of Wh, from a state handed back
        s.add(script(TimeLSTM.class, "stateful/BF16", r -> bf16(new TimeLSTM(backend, r.p("Wx", D, 4 * H),
                r.p("Wh", H, 4 * H), r.p("b", 4 * H), true)))
                .call("forward(Tensor)", ins(f("xs", T, N, D)), (l, in, o) -> o.put("hs", l.forward(in[0]))
                        .put("h", l.h()).put("c", l.c()))
                .call("setState(Tensor,Tensor)", ins(f("h", N, H), f("c", N, H)), (l, in, o) -> l.setState(in[0], in[1]))
                .call("forward(Tensor)", ins(f("xs", T, N, D)), (l, in, o) -> o.put("hs", l.forward(in[0]))
                        .put("h", l.h()).put("c", l.c())));
        s.add(script(TimeGRU.class, "stateful/BF16", r -> bf16(new TimeGRU(backend, r.p("Wx", D, 3 * H),
                r.p("Wh", H, 3 * H), r.p("b", 3 * H), true)))
                .call("forward(Tensor)", ins(f("xs", T, N, D)), (l, in, o) -> o.put("hs", l.forward(in[0]))
                        .put("h", l.h()))
                .call("setState(Tensor)", ins(f("h", N, H)), (l, in, o) -> l.setState(in[0]))
                .call("forward(Tensor)", ins(f("xs", T, N, D)), (l, in, o) -> o.put("hs", l.forward(in[0]))
                        .put("h", l.h())));
        for (Cell cell : Cell.values()) {
            // narrow directions (H / 2 units each): the output (T, N, H) fits the input; wide ones (H units): a
            // direction's buffers fit the input, the output (T, N, 2H) its gradient
            for (int h : new int[] {H / 2, H}) {
                int g = cell.gates() * h;
                s.add(script(TimeBiRecurrent.class, cell + "/" + h, r -> new TimeBiRecurrent(backend, cell,
                        r.p("Wx1", D, g), r.p("Wh1", h, g), r.p("b1", g), r.p("Wx2", D, g), r.p("Wh2", h, g),
                        r.p("b2", g)))
                        .call("forward(Tensor)", ins(f("xs", T, N, D)), (l, in, o) -> o.put("hs", l.forward(in[0]))
                                .put("forward.hs", l.forwardLayer().hs()).put("backward.hs", l.backwardLayer().hs()))
                        .call("backward(Tensor)", ins(f("dhs", T, N, 2 * h)), (l, in, o) -> o.put("dxs",
                                l.backward(in[0])))
                        .twice());
            }
        }
        return s;
    }

    static <R extends TimeRecurrent> R bf16(R layer) {
        layer.setInferencePrecision(org.seq4j.backend.PackedMatrix.Precision.BF16);
        return layer;
    }

    private void addTimeLstm(List<Script<?>> s) {
        for (boolean stateful : new boolean[] {false, true}) {
            Script<TimeLSTM> t = script(TimeLSTM.class, stateful ? "stateful" : "", r -> new TimeLSTM(backend,
                    r.p("Wx", D, 4 * H), r.p("Wh", H, 4 * H), r.p("b", 4 * H), stateful));
            Body<TimeLSTM> forward = (l, in, o) -> o.put("hs", l.forward(in[0])).put("h", l.h()).put("c", l.c());
            if (stateful) {   // setState on a stateless layer is refused
                t.call("setState(Tensor,Tensor)", ins(f("h", N, H), f("c", N, H)), (l, in, o) -> l.setState(in[0], in[1]));
            }
            t.call("forward(Tensor)", ins(f("xs", T, N, D)), forward)
                    .call("backward(Tensor)", ins(f("dhs", T, N, H)), (l, in, o) -> o.put("dxs", l.backward(in[0]))
                            .put("dh", l.dh()).put("dc", l.dc()));
            if (stateful) {
                t.call("setState(Tensor,Tensor)", ins(f("h", N, H), f("c", N, H)), (l, in, o) -> l.setState(in[0], in[1]));
            }
            t.call("forward(Tensor)", ins(f("xs", T, N, D)), forward)
                    .call("backward(Tensor,Tensor)", ins(f("dhs", T, N, H), f("dcLast", N, H)),
                            (l, in, o) -> o.put("dxs", l.backward(in[0], in[1])).put("dh", l.dh()).put("dc", l.dc()));
            if (stateful) {
                t.call("setState(Tensor)", ins(f("h", N, H)), (l, in, o) -> l.setState(in[0]));
            }
            t.call("forward(Tensor)", ins(f("xs", T, N, D)), forward)
                    .call("backwardLast(Tensor,Tensor)", ins(f("dhLast", N, H), f("dcLast", N, H)),
                            (l, in, o) -> o.put("dxs", l.backwardLast(in[0], in[1])).put("dh", l.dh())
                                    .put("dc", l.dc()));
            s.add(t);
        }
        s.add(script(TimeLSTM.class, "embedding", r -> new Fused<>(new TimeLSTM(backend, r.p("Wx", D, 4 * H),
                r.p("Wh", H, 4 * H), r.p("b", 4 * H), true), new TimeEmbedding(backend, r.p("E", V, D))))
                .call("forward(TimeEmbedding,Tensor)", ins(ids("ids", T, N)),
                        (l, in, o) -> o.put("hs", l.layer.forward(l.embed, in[0])).put("h", l.layer.h())
                                .put("c", l.layer.c()))
                .call("backward(TimeEmbedding,Tensor)", ins(f("dhs", T, N, H)), (l, in, o) -> {
                    l.layer.backward(l.embed, in[0]);
                    o.put("dh", l.layer.dh()).put("dc", l.layer.dc());
                })
                .call("forward(TimeEmbedding,Tensor)", ins(ids("ids", T, N)),
                        (l, in, o) -> o.put("hs", l.layer.forward(l.embed, in[0])).put("h", l.layer.h())
                                .put("c", l.layer.c()))
                .call("backward(TimeEmbedding,Tensor,Tensor)", ins(f("dhs", T, N, H), f("dcLast", N, H)),
                        (l, in, o) -> {
                            l.layer.backward(l.embed, in[0], in[1]);
                            o.put("dh", l.layer.dh()).put("dc", l.layer.dc());
                        })
                .call("forward(TimeEmbedding,Tensor)", ins(ids("ids", T, N)),
                        (l, in, o) -> o.put("hs", l.layer.forward(l.embed, in[0])).put("h", l.layer.h())
                                .put("c", l.layer.c()))
                .call("backwardLast(TimeEmbedding,Tensor)", ins(f("dhLast", N, H)), (l, in, o) -> {
                    l.layer.backwardLast(l.embed, in[0]);
                    o.put("dh", l.layer.dh()).put("dc", l.layer.dc());
                }));
    }

    private void addTimeGru(List<Script<?>> s) {
        for (boolean stateful : new boolean[] {false, true}) {
            Script<TimeGRU> t = script(TimeGRU.class, stateful ? "stateful" : "", r -> new TimeGRU(backend,
                    r.p("Wx", D, 3 * H), r.p("Wh", H, 3 * H), r.p("b", 3 * H), stateful));
            Body<TimeGRU> forward = (l, in, o) -> o.put("hs", l.forward(in[0])).put("h", l.h());
            Body<TimeGRU> backward = (l, in, o) -> o.put("dxs", l.backward(in[0])).put("dh", l.dh());
            t.call("forward(Tensor)", ins(f("xs", T, N, D)), forward)
                    .call("backward(Tensor)", ins(f("dhs", T, N, H)), backward);
            if (stateful) {   // setState on a stateless layer is refused
                t.call("setState(Tensor)", ins(f("h", N, H)), (l, in, o) -> l.setState(in[0]));
            }
            t.call("forward(Tensor)", ins(f("xs", T, N, D)), forward)
                    .call("backward(Tensor)", ins(f("dhs", T, N, H)), backward);
            s.add(t);
        }
        s.add(script(TimeGRU.class, "embedding", r -> new Fused<>(new TimeGRU(backend, r.p("Wx", D, 3 * H),
                r.p("Wh", H, 3 * H), r.p("b", 3 * H), true), new TimeEmbedding(backend, r.p("E", V, D))))
                .call("forward(TimeEmbedding,Tensor)", ins(ids("ids", T, N)),
                        (l, in, o) -> o.put("hs", l.layer.forward(l.embed, in[0])).put("h", l.layer.h()))
                .call("backward(TimeEmbedding,Tensor)", ins(f("dhs", T, N, H)), (l, in, o) -> {
                    l.layer.backward(l.embed, in[0]);
                    o.put("dh", l.layer.dh());
                })
                .call("forward(TimeEmbedding,Tensor)", ins(ids("ids", T, N)),
                        (l, in, o) -> o.put("hs", l.layer.forward(l.embed, in[0])).put("h", l.layer.h()))
                .call("backwardLast(TimeEmbedding,Tensor)", ins(f("dhLast", N, H)), (l, in, o) -> {
                    l.layer.backwardLast(l.embed, in[0]);
                    o.put("dh", l.layer.dh());
                }));
    }

    /** Which input of which call gets which earlier buffer, with the buffer's own values or fresh ones. */
    record Alias(int call, int slot, int candidate, boolean fresh, boolean aliased) {
    }

    /** What a run gave: every call's handed-out values, the parameter gradients, and what the aliased call did. */
    static final class Outcome {
        final Map<String, float[]> values = new LinkedHashMap<>();
        String refusal;            // the aliased call's message, if it was refused
        final List<String> problems = new ArrayList<>();
        int candidates = -1;       // at the aliased call's input
        String candidate;
    }

    /**
     * The buffers handed out so far that fit an input of the given shape, in a fixed order: each whole (or viewed in
     * the input's shape), for a sequence its first and last step, and for a larger buffer a stretch from its middle.
     */
    static List<Tensor> candidates(Handed handed, List<String> labels, int[] shape) {
        List<Tensor> out = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        long size = Tensor.sizeOf(shape);
        for (int i = 0; i < handed.tensors.size(); i++) {
            Tensor t = handed.tensors.get(i);
            if (t.dtype() != DType.F32 || !t.isAlive()) {
                continue;
            }
            List<Tensor> parts = new ArrayList<>(List.of(t));
            List<String> partNames = new ArrayList<>(List.of(handed.names.get(i)));
            if (t.rank() >= 2 && t.dim(0) > 1) {
                parts.add(t.get(0));
                partNames.add(handed.names.get(i) + "[0]");
                parts.add(t.get(t.dim(0) - 1));
                partNames.add(handed.names.get(i) + "[last]");
            }
            if (t.size() > size) {   // across a step's edge: half of one step, half of the next
                parts.add(t.flatSlice(Math.min(size / 2, t.size() - size), (int) size));
                partNames.add(handed.names.get(i) + "[mid]");
            }
            for (int j = 0; j < parts.size(); j++) {
                Tensor p = parts.get(j);
                if (p.size() != size) {
                    continue;
                }
                String key = p.segment().address() + "/" + p.byteSize();
                if (seen.add(key)) {
                    out.add(p.hasShape(shape) ? p : p.view(shape));
                    labels.add(partNames.get(j));
                }
            }
        }
        return out;
    }

    /**
     * One run of a script on a fresh layer. With alias.candidate < 0 it only counts the candidates at the input;
     * otherwise the input gets the candidate's values (its own, or fresh ones written into it), as a plain copy, or,
     * where alias.aliased, as the candidate itself.
     */
    <L extends AutoCloseable> Outcome run(Script<L> script, Alias alias) throws Exception {
        Outcome outcome = new Outcome();
        try (Run r = new Run(); L layer = script.make.apply(r)) {
            Handed handed = new Handed();
            for (int c = 0; c < script.calls.size(); c++) {
                Call<L> call = script.calls.get(c);
                Tensor[] in = new Tensor[call.ins.length];
                for (int j = 0; j < in.length; j++) {
                    In spec = call.ins[j];
                    long seed = 1000L * c + j;
                    in[j] = spec.intBound > 0 ? r.ints(seed, spec.intBound, spec.shape) : r.floats(seed, spec.shape);
                }
                Handed out = new Handed();
                if (alias.call == c) {
                    List<String> labels = new ArrayList<>();
                    List<Tensor> fits = candidates(handed, labels, call.ins[alias.slot].shape);
                    outcome.candidates = fits.size();
                    if (alias.candidate >= 0) {
                        outcome.candidate = labels.get(alias.candidate);
                        out = aliasedCall(script, call, layer, in, alias, fits.get(alias.candidate), handed, r, outcome,
                                c);
                    } else {
                        call.body.call(layer, in, out);
                    }
                } else {
                    call.body.call(layer, in, out);
                }
                for (int k = 0; k < out.tensors.size(); k++) {
                    outcome.values.put(c + ":" + call.signature + " " + out.names.get(k),
                            TestBackends.values(backend, out.tensors.get(k)));
                    handed.put(c + ":" + out.names.get(k), out.tensors.get(k));
                }
            }
            for (Parameter p : r.params) {
                outcome.values.put("grad " + p.name(), TestBackends.values(backend, p.grad()));
            }
        } catch (Stop stopped) {
            // the aliased call threw where it should have refused or run: recorded in outcome.problems
        }
        return outcome;
    }

    /**
     * The call whose input alias.slot gets target's values: target itself where alias.aliased, else the plain input
     * with a copy. A refusal must name the call and the input and change nothing; the call then runs on the copy.
     */
    private <L extends AutoCloseable> Handed aliasedCall(Script<L> script, Call<L> call, L layer, Tensor[] in,
            Alias alias, Tensor target, Handed handed, Run r, Outcome outcome, int c) {
        float[] v = alias.fresh ? randoms(77_000L + 10L * c + alias.slot, (int) target.size())
                : TestBackends.values(backend, target);
        if (alias.fresh) {
            backend.copyIn(target, v);
        }
        backend.copyIn(in[alias.slot], v);
        Handed out = new Handed();
        if (!alias.aliased) {
            call.body.call(layer, in, out);
            return out;
        }
        Map<String, float[]> before = snapshot(handed, r);
        Tensor[] aliasedIn = in.clone();
        aliasedIn[alias.slot] = target;
        try {
            call.body.call(layer, aliasedIn, out);
            return out;
        } catch (IllegalArgumentException e) {
            outcome.refusal = String.valueOf(e.getMessage());
            String method = call.signature.substring(0, call.signature.indexOf('('));
            String input = call.ins[alias.slot].name;
            if (!outcome.refusal.startsWith(script.layer.getSimpleName() + "." + method + ": ")
                    || !outcome.refusal.contains(input)) {
                outcome.problems.add("refused without naming " + script.layer.getSimpleName() + "." + method + " and "
                        + input + ": " + e);
            }
            Map<String, float[]> after = snapshot(handed, r);
            for (String k : before.keySet()) {
                if (!Arrays.equals(before.get(k), after.get(k))) {
                    outcome.problems.add("refused, but changed " + k);
                }
            }
            Handed retry = new Handed();
            try {
                call.body.call(layer, in, retry);
            } catch (RuntimeException later) {
                outcome.problems.add("refused, then the call on a copy threw " + later);
                throw new Stop();
            }
            return retry;
        } catch (RuntimeException other) {
            outcome.problems.add("threw " + other + " instead of a refusal (IllegalArgumentException)");
            throw new Stop();
        }
    }

    /** Ends an aliased run whose call threw where it should have refused or run. */
    static final class Stop extends RuntimeException {
        Stop() {
            super(null, null, false, false);
        }
    }

    /**
     * Whether two runs gave the same values: bit for bit on a host backend; on a device within 1e-5 of the largest
     * |value| (TestBackends.assertSameRun: cuBLAS may pick another order of a sum).
     */
    private boolean same(float[] expected, float[] actual) {
        if (backend.device().isHost() || expected == null || actual == null || expected.length != actual.length) {
            return Arrays.equals(expected, actual);
        }
        float max = 0f;
        for (float e : expected) {
            max = Math.max(max, Math.abs(e));
        }
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs(expected[i] - actual[i]) <= 1e-5f * max)) {
                return false;
            }
        }
        return true;
    }

    /** The values of every handed-out buffer still alive, and of every parameter gradient. */
    private Map<String, float[]> snapshot(Handed handed, Run r) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (int i = 0; i < handed.tensors.size(); i++) {
            if (handed.tensors.get(i).isAlive()) {
                out.put(handed.names.get(i), TestBackends.values(backend, handed.tensors.get(i)));
            }
        }
        for (Parameter p : r.params) {
            out.put("grad " + p.name(), TestBackends.values(backend, p.grad()));
        }
        return out;
    }

    static Stream<Arguments> backendsAndSizes() {
        return TestBackends.all().flatMap(b -> Stream.of(Arguments.of(b, K, K), Arguments.of(b, K, 1),
                Arguments.of(b, 1, 1)));
    }

    @ParameterizedTest(name = "{0}, T = {1}, N = {2}")
    @MethodSource("backendsAndSizes")
    void everyLayerRefusesOrIgnoresItsOwnBuffersAsInputs(String backendName, int t, int n) throws Exception {
        backend = TestBackends.get(backendName);
        T = t;
        N = n;
        long start = System.nanoTime();
        List<String> findings = new ArrayList<>();
        int cases = 0, refused = 0;
        for (Script<?> script : scripts()) {
            for (int c = 0; c < script.calls.size(); c++) {
                for (int j = 0; j < script.calls.get(c).ins.length; j++) {
                    if (script.calls.get(c).ins[j].intBound > 0) {
                        continue;   // ids and labels: no layer hands out int32 buffers
                    }
                    int count = run(script, new Alias(c, j, -1, false, false)).candidates;
                    for (int k = 0; k < count; k++) {
                        for (boolean fresh : new boolean[] {false, true}) {
                            Outcome ref = run(script, new Alias(c, j, k, fresh, false));
                            Outcome mine = run(script, new Alias(c, j, k, fresh, true));
                            cases++;
                            String what = script + " call " + c + " " + script.calls.get(c).signature + " "
                                    + script.calls.get(c).ins[j].name + " = own " + mine.candidate
                                    + (fresh ? " (fresh values)" : " (its own values)");
                            for (String p : mine.problems) {
                                findings.add(what + ": " + p);
                            }
                            if (mine.refusal != null) {
                                refused++;
                            }
                            List<String> differs = new ArrayList<>();
                            for (String key : ref.values.keySet()) {
                                if (!same(ref.values.get(key), mine.values.get(key))) {
                                    differs.add(key);
                                }
                            }
                            if (!differs.isEmpty()) {
                                findings.add(what + ": " + (mine.refusal == null ? "silently " : "refused, then ")
                                        + "differs in " + differs);
                            }
                        }
                    }
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("OwnBufferAliasFuzzTest (%s, T = %d, N = %d): %d cases, %d refused, %.1f s%n", backendName, T,
                N, cases, refused, seconds);
        assertTrue(findings.isEmpty(), findings.size() + " findings:\n" + String.join("\n", findings));
        assertTrue(cases > 300, "only " + cases + " cases");
    }

    /**
     * Every public class of org.seq4j.layers with a forward has a script or a reasoned exclusion, and its scripts make
     * every public call that takes a tensor.
     */
    @Test
    void everyLayerAndEveryTensorCallHasAScript() throws Exception {
        Map<Class<?>, Set<String>> covered = new LinkedHashMap<>();
        for (Script<?> s : scripts()) {
            covered.computeIfAbsent(s.layer, k -> new TreeSet<>()).addAll(
                    s.calls.stream().map(Call::signature).collect(Collectors.toSet()));
        }
        List<String> missing = new ArrayList<>();
        for (Class<?> k : PublicClasses.of(Affine.class, List.of("org.seq4j.layers"))) {
            boolean layer = Arrays.stream(k.getDeclaredMethods())
                    .anyMatch(m -> m.getName().equals("forward") && Modifier.isPublic(m.getModifiers()));
            if (!layer || EXCLUDED.containsKey(k)) {
                continue;
            }
            if (!covered.containsKey(k)) {
                missing.add(k.getSimpleName() + ": no script");
                continue;
            }
            for (Method m : k.getDeclaredMethods()) {
                boolean takesTensor = Arrays.stream(m.getParameterTypes()).anyMatch(p -> p == Tensor.class);
                if (Modifier.isPublic(m.getModifiers()) && !m.isSynthetic() && takesTensor
                        && !covered.get(k).contains(signature(m)) && !EXCLUDED_CALLS.containsKey(signature(m))) {
                    missing.add(k.getSimpleName() + "." + signature(m) + ": no call");
                }
            }
        }
        assertEquals(List.of(), missing);
    }

    static String signature(Method m) {
        return m.getName() + Arrays.stream(m.getParameterTypes()).map(Class::getSimpleName)
                .collect(Collectors.joining(",", "(", ")"));
    }
}
