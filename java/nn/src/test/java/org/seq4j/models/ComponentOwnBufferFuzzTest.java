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
package org.seq4j.models;

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
import org.seq4j.layers.Cell;
import org.seq4j.layers.ParameterStore;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.PublicClasses;
import org.seq4j.testing.TestBackends;

class ComponentOwnBufferFuzzTest {
    /** D = H = V = 4, and T = 4 too (the encoder's and the decoder's), where every buffer fits every input. */
    static final int K = 4, D = K, H = K, V = K;

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
    final class Run implements AutoCloseable {
        final Arena arena = Arena.ofConfined();
        ParameterStore store;
        AutoCloseable owner;   // a model whose store this is, closed with the run

        ParameterStore store(java.util.function.Consumer<ParameterStore.Builder> declare) {
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
        public void close() throws Exception {
            if (owner != null) {
                owner.close();
            } else if (store != null) {
                store.close();
            }
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

    /** An input of a call: its parameter name, shape, and for int32 ids their bound (0 for float32). */
    record In(String name, int[] shape, int intBound) {
    }

    static In f(String name, int... shape) {
        return new In(name, shape, 0);
    }

    static In ids(String name, int... shape) {
        return new In(name, shape, V);
    }

    static In[] ins(In... ins) {
        return ins;
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
        void call(L part, Tensor[] in, Handed out);
    }

    record Call<L>(String signature, In[] ins, Body<L> body) {
    }

    /** A part's class, the name its refusals start with, how to make it over a run's weights, and its calls. */
    static final class Script<L extends AutoCloseable> {
        final Class<?> part;
        final String owner;
        final String name;
        final Function<Run, L> make;
        final List<Call<L>> calls = new ArrayList<>();

        Script(Class<?> part, String owner, String name, Function<Run, L> make) {
            this.part = part;
            this.owner = owner;
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
            return part.getSimpleName() + "[" + name + "]";
        }
    }

    static <L extends AutoCloseable> Script<L> script(Class<?> part, String name, Function<Run, L> make) {
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
    static <L extends SequenceDecoder> Script<L> decoderCalls(Script<L> s, In enc, boolean attention) {
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

    List<Script<?>> scripts() {
        List<Script<?>> s = new ArrayList<>();
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
        models.forEach((name, make) -> s.add(new Script<Net>(AbstractRnnlm.Network.class, name.split("/")[0], name,
                r -> {
                    AbstractRnnlm m = make.apply(r);
                    return new Net(m.net, m);
                })
                .call("predict(Tensor)", ins(ids("xs", K, 0)), (l, in, o) -> o.put("score", l.net.predict(in[0])))
                .call("backward(Tensor)", ins(f("dscore", K, 0, V)), (l, in, o) -> l.net.backward(in[0]))
                .twice()));
        return s;
    }

    record Alias(int call, int slot, int candidate, boolean fresh, boolean aliased) {
    }

    static final class Outcome {
        final Map<String, float[]> values = new LinkedHashMap<>();
        String refusal;
        final List<String> problems = new ArrayList<>();
        int candidates = -1;
        String candidate;
    }

    /** The handed-out float buffers still alive that fit an input of the given shape, as OwnBufferAliasFuzzTest. */
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
            if (t.size() > size) {
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

    /** A tensor's values as floats: float32 as they are, int32 ids converted. */
    float[] values(Tensor t) {
        if (t.dtype() == DType.F32) {
            return TestBackends.values(backend, t);
        }
        int[] v = new int[Math.toIntExact(t.size())];
        backend.copyOut(v, t);
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i];
        }
        return out;
    }

    <L extends AutoCloseable> Outcome run(Script<L> script, Alias alias) throws Exception {
        Outcome outcome = new Outcome();
        try (Run r = new Run(); L part = script.make.apply(r)) {
            Handed handed = new Handed();
            for (int c = 0; c < script.calls.size(); c++) {
                Call<L> call = script.calls.get(c);
                Tensor[] in = new Tensor[call.ins.length];
                for (int j = 0; j < in.length; j++) {
                    In spec = call.ins[j];
                    long seed = 1000L * c + j;
                    int[] shape = shape(spec.shape);
                    in[j] = spec.intBound > 0 ? r.ints(seed, spec.intBound, shape) : r.floats(seed, shape);
                }
                Handed out = new Handed();
                if (alias.call == c) {
                    List<String> labels = new ArrayList<>();
                    List<Tensor> fits = candidates(handed, labels, shape(call.ins[alias.slot].shape));
                    outcome.candidates = fits.size();
                    if (alias.candidate >= 0) {
                        outcome.candidate = labels.get(alias.candidate);
                        out = aliasedCall(script, call, part, in, alias, fits.get(alias.candidate), handed, r,
                                outcome, c);
                    } else {
                        call.body.call(part, in, out);
                    }
                } else if (alias.aliased && c > alias.call) {
                    try {
                        call.body.call(part, in, out);
                    } catch (RuntimeException later) {   // a call after the aliased one, on plain inputs
                        outcome.problems.add("then call " + c + " " + call.signature + " threw " + later);
                        throw new Stop();
                    }
                } else {
                    call.body.call(part, in, out);
                }
                for (int k = 0; k < out.tensors.size(); k++) {
                    outcome.values.put(c + ":" + call.signature + " " + out.names.get(k), values(out.tensors.get(k)));
                    handed.put(c + ":" + out.names.get(k), out.tensors.get(k));
                }
            }
            outcome.values.put("grads", TestBackends.values(backend, r.store.grads()));
        } catch (Stop stopped) {
            // recorded in outcome.problems
        }
        return outcome;
    }

    private <L extends AutoCloseable> Handed aliasedCall(Script<L> script, Call<L> call, L part, Tensor[] in,
            Alias alias, Tensor target, Handed handed, Run r, Outcome outcome, int c) {
        float[] v = alias.fresh ? randoms(77_000L + 10L * c + alias.slot, (int) target.size())
                : TestBackends.values(backend, target);
        if (alias.fresh) {
            backend.copyIn(target, v);
        }
        backend.copyIn(in[alias.slot], v);
        Handed out = new Handed();
        if (!alias.aliased) {
            call.body.call(part, in, out);
            return out;
        }
        Map<String, float[]> before = snapshot(handed, r);
        Tensor[] aliasedIn = in.clone();
        aliasedIn[alias.slot] = target;
        try {
            call.body.call(part, aliasedIn, out);
            return out;
        } catch (IllegalArgumentException e) {
            outcome.refusal = String.valueOf(e.getMessage());
            String method = call.signature.substring(0, call.signature.indexOf('('));
            String input = call.ins[alias.slot].name;
            if (!outcome.refusal.startsWith(script.owner + "." + method + ": ") || !outcome.refusal.contains(input)) {
                outcome.problems.add("refused without naming " + script.owner + "." + method + " and " + input + ": "
                        + e);
            }
            Map<String, float[]> after = snapshot(handed, r);
            for (String k : before.keySet()) {
                if (!Arrays.equals(before.get(k), after.get(k))) {
                    outcome.problems.add("refused, but changed " + k);
                }
            }
            Handed retry = new Handed();
            try {
                call.body.call(part, in, retry);
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

    static final class Stop extends RuntimeException {
        Stop() {
            super(null, null, false, false);
        }
    }

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

    private Map<String, float[]> snapshot(Handed handed, Run r) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (int i = 0; i < handed.tensors.size(); i++) {
            if (handed.tensors.get(i).isAlive()) {
                out.put(handed.names.get(i), values(handed.tensors.get(i)));
            }
        }
        out.put("grads", TestBackends.values(backend, r.store.grads()));
        return out;
    }

    static Stream<Arguments> backendsAndSizes() {
        return TestBackends.all().flatMap(b -> Stream.of(Arguments.of(b, K, K), Arguments.of(b, K, 1),
                Arguments.of(b, 1, 1)));
    }

    @ParameterizedTest(name = "{0}, T = {1}, N = {2}")
    @MethodSource("backendsAndSizes")
    void everyPartRefusesOrIgnoresItsOwnBuffersAsInputs(String backendName, int t, int n) throws Exception {
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
                        continue;   // ids: every int32 buffer handed out (generate's ids) is read by the host only
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
        System.out.printf("ComponentOwnBufferFuzzTest (%s, T = %d, N = %d): %d cases, %d refused, %.1f s%n",
                backendName, T, N, cases, refused, seconds);
        assertTrue(findings.isEmpty(), findings.size() + " findings:\n" + String.join("\n", findings));
        assertTrue(cases > 100, "only " + cases + " cases");
    }

    /**
     * Every public class of org.seq4j.models with a public method that takes a tensor has a script (of its own, or of
     * a class that implements it) or a reasoned exclusion, and a concrete part's scripts make every such call.
     */
    @Test
    void everyPartAndEveryTensorCallHasAScript() throws Exception {
        Map<Class<?>, Set<String>> covered = new LinkedHashMap<>();
        for (Script<?> s : scripts()) {
            covered.computeIfAbsent(s.part, k -> new TreeSet<>()).addAll(
                    s.calls.stream().map(Call::signature).collect(Collectors.toSet()));
        }
        List<String> missing = new ArrayList<>();
        for (Class<?> k : PublicClasses.of(Encoder.class, List.of("org.seq4j.models"))) {
            List<Method> tensorCalls = Arrays.stream(k.getDeclaredMethods())
                    .filter(m -> Modifier.isPublic(m.getModifiers()) && !m.isSynthetic() && !m.isBridge()
                            && Arrays.asList(m.getParameterTypes()).contains(Tensor.class))
                    .toList();
            if (tensorCalls.isEmpty() || EXCLUDED.containsKey(k)) {
                continue;
            }
            if (!covered.containsKey(k)) {
                if (covered.keySet().stream().noneMatch(k::isAssignableFrom)) {
                    missing.add(k.getSimpleName() + ": no script");
                }
                continue;
            }
            for (Method m : tensorCalls) {
                if (!covered.get(k).contains(signature(m))
                        && !EXCLUDED_CALLS.containsKey(k.getSimpleName() + "." + signature(m))) {
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
                    if (!same(copies.get(key), direct.get(key))) {
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
                    out.put(round + " score", values(score));
                    Tensor denc = dec.backward(r.floats(20 + round, T, N, V));
                    out.put(round + " dencoding", values(denc));
                    enc.backward(direct ? denc : copy(r, denc));
                    out.put(round + " grads", values(store.grads()));
                    Tensor enc1 = enc.forward(r.ints(30 + round, V, T, N));
                    out.put(round + " ids", values(dec.generate(direct ? enc1 : copy(r, enc1), 1, 3)));
                    Beam.Steps steps = dec.steps(direct ? enc1 : copy(r, enc1));
                    steps.step(r.ints(40 + round, V, 1, N));
                    out.put(round + " step score", values(steps.step(r.ints(50 + round, V, 1, N))));
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
