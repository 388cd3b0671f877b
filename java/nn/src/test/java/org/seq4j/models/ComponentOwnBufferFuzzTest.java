// OwnBufferAliasFuzzTest one level up: the seq2seq parts (Encoder, AttentionEncoder, AttentionBiEncoder, Decoder,
// PeekyDecoder, AttentionDecoder) and the language models' networks take tensors and hand out their own buffers
// (an encoding, scores, the encoding's gradient, attention weights, a beam step's scores). A call given one of the
// part's own buffers as an input either gives exactly the numbers it gives on a plain copy, or refuses up front with
// IllegalArgumentException "<Part>.<call>: <input> lies in ...", with nothing changed and the part still usable.
// Each part has a script of calls; every float input of every call is replaced in turn by every buffer the part
// handed out before it (whole, viewed in the input's shape, its first or last step, a stretch across a step's edge),
// with D = H = V = T (or T = 1) so that shapes line up. Two runs per case on fresh parts over the same weights: the
// reference passes a plain copy, the other the buffer itself, holding the buffer's own values or fresh ones.
// The hand-offs the seq2seq models make themselves (the encoder's encoding into the decoder, the decoder's gradient
// into the encoder's backward) are another part's buffers, not the part's own: they must run as on copies.
// Its first run found PeekyDecoder's and AttentionDecoder's generate and steps re-reading an encoding in their own
// scores or gradient after each step had rewritten it (other ids and scores, no word) or closed it (a kernel's
// closed-arena refusal, after setState), and AttentionDecoder.forward refusing its own dencHs in TimeAttention's
// words after the LSTM had run, or keeping its own scores as hsEnc for a backward that then refused them as written.
// The runs and the coverage check are OwnBufferAliasing's (org.seq4j.layers, shared with OwnBufferAliasFuzzTest); the
// scripts, the parameters, the exclusions and the hand-off test are here.
package org.seq4j.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.seq4j.layers.OwnBufferAliasing.f;
import static org.seq4j.layers.OwnBufferAliasing.ins;
import static org.seq4j.layers.OwnBufferAliasing.same;
import static org.seq4j.layers.OwnBufferAliasing.values;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.layers.Cell;
import org.seq4j.layers.OwnBufferAliasing;
import org.seq4j.layers.OwnBufferAliasing.Body;
import org.seq4j.layers.OwnBufferAliasing.In;
import org.seq4j.layers.OwnBufferAliasing.Script;
import org.seq4j.layers.ParameterStore;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.PublicClasses;
import org.seq4j.testing.TestBackends;

class ComponentOwnBufferFuzzTest {
    /** D = H = V = 4, and T = 4 too (the encoder's and the decoder's), where every buffer fits every input. */
    static final int K = OwnBufferAliasing.K, D = K, H = K, V = K;

    /** The steps and the batch: T = N = K; or N = 1 (the recurrent layers' per-step paths); or T = N = 1. */
    int T = K, N = K;

    Backend backend = TestBackends.reference();

    static final String WHOLE_MODEL = "a whole model: its calls copy the ids, labels or values they take into the "
            + "model's own buffers and answer a float or host arrays; it hands out no tensor that could come back";

    /**
     * Public classes of org.seq4j.models with a public method that takes a tensor, that get no script, with the
     * reason. Any other such class without a script (of its own or of an implementation) fails the coverage check.
     */
    static final Map<Class<?>, String> EXCLUDED = Map.of(
            Beam.Steps.class, "takes int32 ids and parents only; the decoders' steps(encoding) scripts step it and "
                    + "read its scores",
            BeamState.class, "reorder(layer, parents) takes int32 parents and hands out nothing; its steps are the "
                    + "decoders' steps(encoding), scripted there",
            WavePredictor.class, "predict(Tensor, int) copies xs into the model's own buffers and answers host "
                    + "arrays: it hands out no tensor that could come back",
            WaveSeq2seq.class, "predict(Tensor, int) copies xs into the model's own buffers and answers host "
                    + "arrays: it hands out no tensor that could come back",
            RegressionModel.class, "an interface whose implementations, WavePredictor and WaveSeq2seq, are excluded "
                    + "above for the same reason",
            Model.class, WHOLE_MODEL, AbstractModel.class, WHOLE_MODEL, Seq2seqModel.class, WHOLE_MODEL,
            AbstractSeq2seq.class, WHOLE_MODEL);

    /** Public tensor calls of a scripted class that no script makes, with the reason. */
    static final Map<String, String> EXCLUDED_CALLS = Map.of("Network.reorderState(BeamState,Tensor)",
            "takes int32 parents only, and hands out nothing");

    /** One run: the parameters (one store, the same weights in every run) and the plain inputs' memory. */
    final class Run extends OwnBufferAliasing.Run {
        ParameterStore store;
        AbstractModel owner;   // a model whose store this is, closed with the run

        Run() {
            super(ComponentOwnBufferFuzzTest.this.backend);
        }

        ParameterStore store(Consumer<ParameterStore.Builder> declare) {
            ParameterStore.Builder b = ParameterStore.builder(backend);
            declare.accept(b);
            store = b.build(7L);
            return store;
        }

        <M extends AbstractModel> M model(M m) {
            store = m.store();
            owner = m;
            return m;
        }

        @Override
        protected void grads(Map<String, float[]> out) {
            out.put("grads", TestBackends.values(backend, store.grads()));
        }

        @Override
        public void close() {
            if (owner != null) {
                owner.close();
            } else if (store != null) {
                store.close();
            }
            super.close();
        }
    }

    /** An int32 input: ids below V. */
    static In ids(String name, int... shape) {
        return new In(name, shape, V);
    }

    static <L extends AutoCloseable> Script<Run, L> script(Class<?> part, String name, Function<Run, L> make) {
        return new Script<>(part, part.getSimpleName(), name, make);
    }

    /** A language model's training network, with the model that owns its store. */
    record Net(AbstractRnnlm.Network net, AbstractRnnlm model) implements AutoCloseable {
        @Override
        public void close() {
            // the run closes the model
        }
    }

    /** The generate length: two steps, the second reading the encoding after the first wrote the scores. */
    static final int LENGTH = 2;

    /** Decoder calls shared by the three decoders; enc is the encoding's shape. */
    static <L extends SequenceDecoder> Script<Run, L> decoderCalls(Script<Run, L> s, In enc, boolean attention) {
        Body<L> forward = (l, in, o) -> {
            o.put("score", l.forward(in[0], in[1]));
            if (attention) {
                o.put("a", ((AttentionDecoder) l).attentionWeights());
            }
        };
        // steps and generate each after a forward and a backward of their own: their T = 1 forwards resize the
        // layers, which ends the buffers of a forward at T > 1
        Body<L> backward = (l, in, o) -> o.put("dencoding", l.backward(in[0]));
        return s.call("forward(Tensor,Tensor)", ins(ids("xs", K, 0), enc), forward)
                .call("backward(Tensor)", ins(f("dscore", K, 0, V)), backward)
                .call("steps(Tensor)", ins(enc, ids("ids", 1, 0)), (l, in, o) -> {
                    Beam.Steps steps = l.steps(in[0]);
                    steps.step(in[1]);
                    o.put("step score", steps.step(in[1]));   // the second step reads the encoding again
                })
                .call("forward(Tensor,Tensor)", ins(ids("xs", K, 0), enc), forward)
                .call("backward(Tensor)", ins(f("dscore", K, 0, V)), backward)
                .call("generate(Tensor,int,int)", ins(enc), (l, in, o) -> o.put("ids",
                        l.generate(in[0], 1, LENGTH)))
                .twice();
    }

    /** The shapes with T and N filled in: K in a shape stands for T (first) and 0 for N. */
    int[] shape(int[] spec) {
        int[] s = spec.clone();
        if (s.length >= 2 && s[0] == K) {
            s[0] = T;
        }
        for (int i = 0; i < s.length; i++) {
            if (s[i] == 0) {
                s[i] = N;
            }
        }
        return s;
    }

    List<Script<Run, ?>> scripts() {
        List<Script<Run, ?>> s = new ArrayList<>();
        int[] h = {0, H};
        int[] hs = {K, 0, H};
        for (Cell cell : Cell.values()) {
            // the encoders hand out their recurrent layer too (lstm()): its states and its dh are theirs
            s.add(script(Encoder.class, cell.name(), r -> new Encoder(backend,
                    r.store(b -> Encoder.declare(b, "", cell, V, D, H)), "", cell))
                    .call("forward(Tensor)", ins(ids("xs", K, 0)), (l, in, o) -> o.put("h", l.forward(in[0]))
                            .put("lstm.hs", l.lstm().hs()))
                    .call("backward(Tensor)", ins(f("dh", h)), (l, in, o) -> {
                        l.backward(in[0]);
                        o.put("lstm.dh", l.lstm().dh());
                    })
                    .twice());
            s.add(script(AttentionEncoder.class, cell.name(), r -> new AttentionEncoder(backend,
                    r.store(b -> Encoder.declare(b, "", cell, V, D, H)), "", cell))
                    .call("forward(Tensor)", ins(ids("xs", K, 0)), (l, in, o) -> o.put("hs", l.forward(in[0]))
                            .put("lstm.h", l.lstm().h()))
                    .call("backward(Tensor)", ins(f("dhs", hs)), (l, in, o) -> {
                        l.backward(in[0]);
                        o.put("lstm.dh", l.lstm().dh());
                    })
                    .twice());
            // H / 2 units a direction: its encoding (T, N, H) fits the gradient
            s.add(script(AttentionBiEncoder.class, cell.name(), r -> new AttentionBiEncoder(backend,
                    r.store(b -> AttentionBiEncoder.declare(b, "", cell, V, D, H / 2)), "", cell))
                    .call("forward(Tensor)", ins(ids("xs", K, 0)), (l, in, o) -> o.put("hs", l.forward(in[0])))
                    .call("backward(Tensor)", ins(f("dhs", hs)), (l, in, o) -> l.backward(in[0]))
                    .twice());
            s.add(decoderCalls(script(Decoder.class, cell.name(), r -> new Decoder(backend,
                    r.store(b -> Decoder.declare(b, "", cell, V, D, H)), "", cell)), f("h", h), false));
            s.add(decoderCalls(script(PeekyDecoder.class, cell.name(), r -> new PeekyDecoder(backend,
                    r.store(b -> PeekyDecoder.declare(b, "", cell, V, D, H)), "", cell)), f("h", h), false));
            s.add(decoderCalls(script(AttentionDecoder.class, cell.name(), r -> new AttentionDecoder(backend,
                    r.store(b -> AttentionDecoder.declare(b, "", cell, V, D, H)), "", cell)), f("encHs", hs),
                    true));
        }
        Map<String, Function<Run, AbstractRnnlm>> models = new LinkedHashMap<>();
        models.put("Rnnlm", r -> r.model(new Rnnlm(backend, V, D, H, 7L)));
        models.put("Rnnlm/GRU", r -> r.model(new Rnnlm(backend, V, D, H, Cell.GRU, 7L)));
        models.put("BetterRnnlm", r -> r.model(new BetterRnnlm(backend, V, D, H, 0.5f, 7L)));
        models.put("SimpleRnnlm", r -> r.model(new SimpleRnnlm(backend, V, D, H, 7L)));
        models.forEach((name, make) -> s.add(new Script<Run, Net>(AbstractRnnlm.Network.class, name.split("/")[0], name,
                r -> {
                    AbstractRnnlm m = make.apply(r);
                    return new Net(m.net, m);
                })
                .call("predict(Tensor)", ins(ids("xs", K, 0)), (l, in, o) -> o.put("score", l.net.predict(in[0])))
                .call("backward(Tensor)", ins(f("dscore", K, 0, V)), (l, in, o) -> l.net.backward(in[0]))
                .twice()));
        return s;
    }

    @ParameterizedTest(name = "{0}, T = {1}, N = {2}")
    @MethodSource("org.seq4j.layers.OwnBufferAliasing#backendsAndSizes")
    void everyPartRefusesOrIgnoresItsOwnBuffersAsInputs(String backendName, int t, int n) throws Exception {
        backend = TestBackends.get(backendName);
        T = t;
        N = n;
        OwnBufferAliasing.fuzz(backend, scripts(), Run::new, this::shape).check(String.format(
                "ComponentOwnBufferFuzzTest (%s, T = %d, N = %d)", backendName, T, N), 100);
    }

    /**
     * Every public class of org.seq4j.models with a public method that takes a tensor has a script (of its own, or of
     * a class that implements it) or a reasoned exclusion, and a concrete part's scripts make every such call.
     */
    @Test
    void everyPartAndEveryTensorCallHasAScript() throws Exception {
        assertEquals(List.of(), OwnBufferAliasing.uncovered(scripts(),
                PublicClasses.of(Encoder.class, List.of("org.seq4j.models")),
                k -> !OwnBufferAliasing.tensorCalls(k).isEmpty(), EXCLUDED, true,
                (k, call) -> EXCLUDED_CALLS.containsKey(k.getSimpleName() + "." + call)));
    }

    /**
     * The hand-offs the seq2seq models make (the encoder's encoding into the decoder's forward, generate and steps;
     * the decoder's dencoding into the encoder's backward) are the other part's buffers: they run, to the numbers of
     * the same calls on copies.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    void theModelsHandOffsRunAsOnCopies(String backendName) throws Exception {
        backend = TestBackends.get(backendName);
        List<String> findings = new ArrayList<>();
        for (Cell cell : Cell.values()) {
            for (String kind : List.of("Decoder", "PeekyDecoder", "AttentionDecoder", "AttentionBiEncoder")) {
                Map<String, float[]> copies = handOff(cell, kind, false);
                Map<String, float[]> direct = handOff(cell, kind, true);
                for (String key : copies.keySet()) {
                    if (!same(backend, copies.get(key), direct.get(key))) {
                        findings.add(cell + " " + kind + ": differs in " + key);
                    }
                }
            }
        }
        assertEquals(List.of(), findings);
    }

    private Map<String, float[]> handOff(Cell cell, String kind, boolean direct) throws Exception {
        Map<String, float[]> out = new LinkedHashMap<>();
        try (Run r = new Run()) {
            ParameterStore store = r.store(b -> {
                switch (kind) {
                    case "Decoder" -> Decoder.declare(b, "decoder.", cell, V, D, H);
                    case "PeekyDecoder" -> PeekyDecoder.declare(b, "decoder.", cell, V, D, H);
                    default -> AttentionDecoder.declare(b, "decoder.", cell, V, D, H);
                }
                if (kind.equals("AttentionBiEncoder")) {
                    AttentionBiEncoder.declare(b, "encoder.", cell, V, D, H / 2);
                } else {
                    Encoder.declare(b, "encoder.", cell, V, D, H);
                }
            });
            try (SequenceEncoder enc = switch (kind) {
                case "Decoder", "PeekyDecoder" -> new Encoder(backend, store, "encoder.", cell);
                case "AttentionDecoder" -> new AttentionEncoder(backend, store, "encoder.", cell);
                default -> new AttentionBiEncoder(backend, store, "encoder.", cell);
            }; SequenceDecoder dec = switch (kind) {
                case "Decoder" -> new Decoder(backend, store, "decoder.", cell);
                case "PeekyDecoder" -> new PeekyDecoder(backend, store, "decoder.", cell);
                default -> new AttentionDecoder(backend, store, "decoder.", cell);
            }) {
                for (int round = 0; round < 2; round++) {
                    Tensor enc0 = enc.forward(r.ints(round, V, T, N));
                    Tensor score = dec.forward(r.ints(10 + round, V, T, N), direct ? enc0 : copy(r, enc0));
                    out.put(round + " score", values(backend, score));
                    Tensor denc = dec.backward(r.floats(20 + round, T, N, V));
                    out.put(round + " dencoding", values(backend, denc));
                    enc.backward(direct ? denc : copy(r, denc));
                    out.put(round + " grads", values(backend, store.grads()));
                    Tensor enc1 = enc.forward(r.ints(30 + round, V, T, N));
                    out.put(round + " ids", values(backend, dec.generate(direct ? enc1 : copy(r, enc1), 1, 3)));
                    Beam.Steps steps = dec.steps(direct ? enc1 : copy(r, enc1));
                    steps.step(r.ints(40 + round, V, 1, N));
                    out.put(round + " step score", values(backend, steps.step(r.ints(50 + round, V, 1, N))));
                }
            }
        }
        return out;
    }

    private Tensor copy(Run r, Tensor t) {
        Tensor c = backend.allocate(r.arena, DType.F32, t.shape());
        backend.copy(c, t);
        return c;
    }
}
