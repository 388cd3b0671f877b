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
// The runs and the coverage check are OwnBufferAliasing's, shared with ComponentOwnBufferFuzzTest; the scripts, the
// parameters and the exclusions are here.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.seq4j.layers.OwnBufferAliasing.f;
import static org.seq4j.layers.OwnBufferAliasing.ins;

import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.layers.OwnBufferAliasing.Body;
import org.seq4j.layers.OwnBufferAliasing.In;
import org.seq4j.layers.OwnBufferAliasing.Script;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.PublicClasses;
import org.seq4j.testing.TestBackends;

class OwnBufferAliasFuzzTest {
    /** D = H = V = 4, and T = 4 too, where every (N, H), (N, T), (N, D) buffer fits every such input. */
    static final int K = OwnBufferAliasing.K, D = K, H = K, V = K;

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
    final class Run extends OwnBufferAliasing.Run {
        final List<Parameter> params = new ArrayList<>();

        Run() {
            super(OwnBufferAliasFuzzTest.this.backend);
        }

        Parameter p(String name, int... shape) {
            Tensor value = floats(name.hashCode(), shape);
            Tensor grad = backend.allocate(arena, DType.F32, shape);
            Parameter p = new Parameter(name, value, grad);
            params.add(p);
            return p;
        }

        @Override
        protected void grads(Map<String, float[]> out) {
            for (Parameter p : params) {
                out.put("grad " + p.name(), TestBackends.values(backend, p.grad()));
            }
        }
    }

    /** An int32 input: ids or labels below V. */
    static In ids(String name, int... shape) {
        return new In(name, shape, V);
    }

    static <L extends AutoCloseable> Script<Run, L> script(Class<?> layer, String name, Function<Run, L> make) {
        return new Script<>(layer, layer.getSimpleName(), name, make);
    }

    /** A TimeLSTM or TimeGRU with the embedding its fused calls read. */
    record Fused<R extends TimeRecurrent>(R layer, TimeEmbedding embed) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            layer.close();
            embed.close();
        }
    }

    List<Script<Run, ?>> scripts() {
        List<Script<Run, ?>> s = new ArrayList<>();
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
            Script<Run, TimeRNN> t = script(TimeRNN.class, stateful ? "stateful" : "",
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

    private void addTimeLstm(List<Script<Run, ?>> s) {
        for (boolean stateful : new boolean[] {false, true}) {
            Script<Run, TimeLSTM> t = script(TimeLSTM.class, stateful ? "stateful" : "", r -> new TimeLSTM(backend,
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

    private void addTimeGru(List<Script<Run, ?>> s) {
        for (boolean stateful : new boolean[] {false, true}) {
            Script<Run, TimeGRU> t = script(TimeGRU.class, stateful ? "stateful" : "", r -> new TimeGRU(backend,
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

    @ParameterizedTest(name = "{0}, T = {1}, N = {2}")
    @MethodSource("org.seq4j.layers.OwnBufferAliasing#backendsAndSizes")
    void everyLayerRefusesOrIgnoresItsOwnBuffersAsInputs(String backendName, int t, int n) throws Exception {
        backend = TestBackends.get(backendName);
        T = t;
        N = n;
        OwnBufferAliasing.fuzz(backend, scripts(), Run::new, shape -> shape).check(String.format(
                "OwnBufferAliasFuzzTest (%s, T = %d, N = %d)", backendName, T, N), 300);
    }

    /**
     * Every public class of org.seq4j.layers with a forward has a script or a reasoned exclusion, and its scripts make
     * every public call that takes a tensor.
     */
    @Test
    void everyLayerAndEveryTensorCallHasAScript() throws Exception {
        assertEquals(List.of(), OwnBufferAliasing.uncovered(scripts(),
                PublicClasses.of(Affine.class, List.of("org.seq4j.layers")),
                k -> Arrays.stream(k.getDeclaredMethods())
                        .anyMatch(m -> m.getName().equals("forward") && Modifier.isPublic(m.getModifiers())),
                EXCLUDED, false, (k, call) -> EXCLUDED_CALLS.containsKey(call)));
    }
}
