// The engine of the own-buffer differential fuzzers, OwnBufferAliasFuzzTest (the layers) and
// ComponentOwnBufferFuzzTest (the model components): a script of calls on a fresh part, every float input of every
// call replaced in turn by every buffer the part handed out before it, two runs per case (a plain copy, then the buffer
// itself), compared call by call; and the check that every public tensor call has a script. Each test keeps its own
// scripts, its way of making a run's parameters, and its exclusions.
package org.seq4j.layers;

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
import java.util.function.BiPredicate;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

public final class OwnBufferAliasing {
    /** D = H = V = K in both tests, and T = K or 1, so that buffers of every shape fit inputs of others. */
    public static final int K = 4;

    private OwnBufferAliasing() {
    }

    /** Every backend at T = N = K; at N = 1 (the recurrent layers' per-step paths); and at T = N = 1. */
    public static Stream<Arguments> backendsAndSizes() {
        return TestBackends.all().flatMap(b -> Stream.of(Arguments.of(b, K, K), Arguments.of(b, K, 1),
                Arguments.of(b, 1, 1)));
    }

    /**
     * One run: the plain inputs' memory, and the parameters (the same weights in every run), which each test makes
     * its own way and reads back through grads.
     */
    public abstract static class Run implements AutoCloseable {
        public final Arena arena = Arena.ofConfined();
        protected final Backend backend;

        protected Run(Backend backend) {
            this.backend = backend;
        }

        public Tensor floats(long seed, int... shape) {
            Tensor t = backend.allocate(arena, DType.F32, shape);
            backend.copyIn(t, randoms(seed, (int) t.size()));
            return t;
        }

        public Tensor ints(long seed, int bound, int... shape) {
            Tensor t = backend.allocate(arena, DType.I32, shape);
            Random r = new Random(seed);
            int[] v = new int[(int) t.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = r.nextInt(bound);
            }
            backend.copyIn(t, v);
            return t;
        }

        /** Puts the values of the parameter gradients into out, by name. */
        protected abstract void grads(Map<String, float[]> out);

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
    public record In(String name, int[] shape, int intBound) {
    }

    public static In f(String name, int... shape) {
        return new In(name, shape, 0);
    }

    public static In[] ins(In... ins) {
        return ins;
    }

    /** What a call handed out: its result and the tensors of the accessors read after it. */
    public static final class Handed {
        final List<String> names = new ArrayList<>();
        final List<Tensor> tensors = new ArrayList<>();

        public Handed put(String name, Tensor t) {
            names.add(name);
            tensors.add(t);
            return this;
        }
    }

    public interface Body<L> {
        void call(L part, Tensor[] in, Handed out);
    }

    /** One call: the method's signature (for the coverage check), its inputs, and how to make it. */
    public record Call<L>(String signature, In[] ins, Body<L> body) {
    }

    /**
     * A part's class, the name its refusals start with, a name for the script, how to make the part over a run's
     * weights, and its calls in order.
     */
    public static final class Script<R extends Run, L extends AutoCloseable> {
        final Class<?> part;
        final String owner;
        final String name;
        final Function<R, L> make;
        final List<Call<L>> calls = new ArrayList<>();

        public Script(Class<?> part, String owner, String name, Function<R, L> make) {
            this.part = part;
            this.owner = owner;
            this.name = name;
            this.make = make;
        }

        public Script<R, L> call(String signature, In[] ins, Body<L> body) {
            calls.add(new Call<>(signature, ins, body));
            return this;
        }

        /** The calls so far once more: the second round is where the first round's buffers come back as inputs. */
        public Script<R, L> twice() {
            calls.addAll(List.copyOf(calls));
            return this;
        }

        @Override
        public String toString() {
            return part.getSimpleName() + "[" + name + "]";
        }
    }

    /** Which input of which call gets which earlier buffer, with the buffer's own values or fresh ones. */
    private record Alias(int call, int slot, int candidate, boolean fresh, boolean aliased) {
    }

    /** What a run gave: every call's handed-out values, the parameter gradients, and what the aliased call did. */
    private static final class Outcome {
        final Map<String, float[]> values = new LinkedHashMap<>();
        String refusal;            // the aliased call's message, if it was refused
        final List<String> problems = new ArrayList<>();
        int candidates = -1;       // at the aliased call's input
        String candidate;
    }

    /** The cases run, the calls refused, and what went wrong. */
    public record Summary(int cases, int refused, List<String> findings, double seconds) {
        /** Prints "label: cases, refused, seconds"; asserts no findings and more than minCases cases. */
        public void check(String label, int minCases) {
            System.out.printf("%s: %d cases, %d refused, %.1f s%n", label, cases, refused, seconds);
            assertTrue(findings.isEmpty(), findings.size() + " findings:\n" + String.join("\n", findings));
            assertTrue(cases > minCases, "only " + cases + " cases");
        }
    }

    /**
     * Runs every script with every float input of every call replaced in turn by every fitting buffer handed out
     * before it, with its own values and with fresh ones: once on a plain copy (the reference), once on the buffer
     * itself. Every call's outputs and the parameter gradients must agree (bit for bit on a host backend); a refused
     * call must name the call and the input and change nothing, and the run then goes on with the copy.
     *
     * @param runs   makes a fresh run (its memory and the parameters) for each run of a script
     * @param shapes an input's shape as the call gets it, from the shape in its script
     */
    public static <R extends Run> Summary fuzz(Backend backend, List<? extends Script<R, ?>> scripts, Supplier<R> runs,
            UnaryOperator<int[]> shapes) throws Exception {
        Engine<R> engine = new Engine<>(backend, runs, shapes);
        long start = System.nanoTime();
        List<String> findings = new ArrayList<>();
        int cases = 0, refused = 0;
        for (Script<R, ?> script : scripts) {
            for (int c = 0; c < script.calls.size(); c++) {
                for (int j = 0; j < script.calls.get(c).ins.length; j++) {
                    if (script.calls.get(c).ins[j].intBound > 0) {
                        // ids and labels: no layer hands out int32 buffers, and every int32 buffer a part hands out
                        // (generate's ids) is read by the host only
                        continue;
                    }
                    int count = engine.run(script, new Alias(c, j, -1, false, false)).candidates;
                    for (int k = 0; k < count; k++) {
                        for (boolean fresh : new boolean[] {false, true}) {
                            Outcome ref = engine.run(script, new Alias(c, j, k, fresh, false));
                            Outcome mine = engine.run(script, new Alias(c, j, k, fresh, true));
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
                                if (!same(backend, ref.values.get(key), mine.values.get(key))) {
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
        return new Summary(cases, refused, findings, (System.nanoTime() - start) / 1e9);
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

    /** The runs of the scripts on one backend. */
    private record Engine<R extends Run>(Backend backend, Supplier<R> runs, UnaryOperator<int[]> shapes) {
        /**
         * One run of a script on a fresh part. With alias.candidate < 0 it only counts the candidates at the input;
         * otherwise the input gets the candidate's values (its own, or fresh ones written into it), as a plain copy,
         * or, where alias.aliased, as the candidate itself.
         */
        <L extends AutoCloseable> Outcome run(Script<R, L> script, Alias alias) throws Exception {
            Outcome outcome = new Outcome();
            try (R r = runs.get(); L part = script.make.apply(r)) {
                Handed handed = new Handed();
                for (int c = 0; c < script.calls.size(); c++) {
                    Call<L> call = script.calls.get(c);
                    Tensor[] in = new Tensor[call.ins.length];
                    for (int j = 0; j < in.length; j++) {
                        In spec = call.ins[j];
                        long seed = 1000L * c + j;
                        int[] shape = shapes.apply(spec.shape);
                        in[j] = spec.intBound > 0 ? r.ints(seed, spec.intBound, shape) : r.floats(seed, shape);
                    }
                    Handed out = new Handed();
                    if (alias.call == c) {
                        List<String> labels = new ArrayList<>();
                        List<Tensor> fits = candidates(handed, labels, shapes.apply(call.ins[alias.slot].shape));
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
                        outcome.values.put(c + ":" + call.signature + " " + out.names.get(k),
                                values(backend, out.tensors.get(k)));
                        handed.put(c + ":" + out.names.get(k), out.tensors.get(k));
                    }
                }
                r.grads(outcome.values);
            } catch (Stop stopped) {
                // the aliased call, or a call after it, threw where it should have refused or run: in outcome.problems
            }
            return outcome;
        }

        /**
         * The call whose input alias.slot gets target's values: target itself where alias.aliased, else the plain
         * input with a copy. A refusal must name the call and the input and change nothing; the call then runs on
         * the copy.
         */
        private <L extends AutoCloseable> Handed aliasedCall(Script<R, L> script, Call<L> call, L part, Tensor[] in,
                Alias alias, Tensor target, Handed handed, R r, Outcome outcome, int c) {
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
                if (!outcome.refusal.startsWith(script.owner + "." + method + ": ")
                        || !outcome.refusal.contains(input)) {
                    outcome.problems.add("refused without naming " + script.owner + "." + method + " and " + input
                            + ": " + e);
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

        /** The values of every handed-out buffer still alive, and of every parameter gradient. */
        private Map<String, float[]> snapshot(Handed handed, R r) {
            Map<String, float[]> out = new LinkedHashMap<>();
            for (int i = 0; i < handed.tensors.size(); i++) {
                if (handed.tensors.get(i).isAlive()) {
                    out.put(handed.names.get(i), values(backend, handed.tensors.get(i)));
                }
            }
            r.grads(out);
            return out;
        }
    }

    /** Ends an aliased run whose aliased call, or a call after it, threw where it should have refused or run. */
    private static final class Stop extends RuntimeException {
        Stop() {
            super(null, null, false, false);
        }
    }

    /** A tensor's values as floats: float32 as they are, int32 ids converted. */
    public static float[] values(Backend backend, Tensor t) {
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

    /**
     * Whether two runs gave the same values: bit for bit on a host backend; on a device within 1e-5 of the largest
     * |value| (TestBackends.assertSameRun: cuBLAS may pick another order of a sum).
     */
    public static boolean same(Backend backend, float[] expected, float[] actual) {
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

    /** The public calls a class declares that take a tensor. */
    public static List<Method> tensorCalls(Class<?> k) {
        return Arrays.stream(k.getDeclaredMethods())
                .filter(m -> Modifier.isPublic(m.getModifiers()) && !m.isSynthetic() && !m.isBridge()
                        && Arrays.asList(m.getParameterTypes()).contains(Tensor.class))
                .toList();
    }

    /**
     * What the coverage check misses: of the given classes, those scriptable and not excluded, each must have a
     * script (where byImplementation, a script of a class that implements it will do), and a scripted class's scripts
     * must make every one of its tensorCalls that excludedCall does not pass over.
     */
    public static List<String> uncovered(List<? extends Script<?, ?>> scripts, List<Class<?>> classes,
            Predicate<Class<?>> scriptable, Map<Class<?>, String> excluded, boolean byImplementation,
            BiPredicate<Class<?>, String> excludedCall) {
        Map<Class<?>, Set<String>> covered = new LinkedHashMap<>();
        for (Script<?, ?> s : scripts) {
            covered.computeIfAbsent(s.part, k -> new TreeSet<>()).addAll(
                    s.calls.stream().map(Call::signature).collect(Collectors.toSet()));
        }
        List<String> missing = new ArrayList<>();
        for (Class<?> k : classes) {
            if (!scriptable.test(k) || excluded.containsKey(k)) {
                continue;
            }
            if (!covered.containsKey(k)) {
                if (!byImplementation || covered.keySet().stream().noneMatch(k::isAssignableFrom)) {
                    missing.add(k.getSimpleName() + ": no script");
                }
                continue;
            }
            for (Method m : tensorCalls(k)) {
                if (!covered.get(k).contains(signature(m)) && !excludedCall.test(k, signature(m))) {
                    missing.add(k.getSimpleName() + "." + signature(m) + ": no call");
                }
            }
        }
        return missing;
    }

    public static String signature(Method m) {
        return m.getName() + Arrays.stream(m.getParameterTypes()).map(Class::getSimpleName)
                .collect(Collectors.joining(",", "(", ")"));
    }
}
