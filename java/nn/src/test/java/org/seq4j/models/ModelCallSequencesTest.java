// Random sequences of public calls (seeded) on every model, its optimizer, its store, checkpoints and its backend:
// forwards of changing (N, T) and bad ids, backward once, twice or without a forward, steps (on another model's store
// too), generate and beam search between steps, setTraining, setInferencePrecision, copyIn, writes through the
// backend, checkpoint write and load, closes, and a call now and then from another thread. Two oracles: the calls that
// succeeded, replayed alone on a fresh world, give the same bits (a refused call changed nothing), and every answer
// of the inference paths (and a seq2seq model's loss and first gradients) is a fresh model's over a copy of the
// weights (no cache is stale). A refusal must be one of the documented exception types, with a message.
// -Dseq4j.test.callSequences=N runs N sequences per model and backend (2 by default; 25 found nothing more).
package org.seq4j.models;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.backend.PackedMatrix;
import org.seq4j.layers.Cell;
import org.seq4j.layers.Parameter;
import org.seq4j.optim.AdaGrad;
import org.seq4j.optim.Adam;
import org.seq4j.optim.Momentum;
import org.seq4j.optim.Optimizer;
import org.seq4j.optim.RMSprop;
import org.seq4j.optim.SGD;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;
import org.seq4j.train.Checkpoint;

class ModelCallSequencesTest {
    static final int V = 11, D = 8, H = 8;
    static final String[] KINDS = {"seq2seq-lstm", "seq2seq-gru", "peeky-lstm", "peeky-gru", "attention-lstm",
        "attention-gru", "attention-bi-lstm", "attention-bi-gru", "rnnlm-lstm", "rnnlm-gru", "better-lstm",
        "better-gru", "simple", "wave-seq2seq", "wave-predictor"};

    @TempDir
    Path tmp;

    static Stream<Arguments> cases() {
        int seeds = Integer.getInteger("seq4j.test.callSequences", 2);
        return TestBackends.all().flatMap(b -> Arrays.stream(KINDS).flatMap(k -> java.util.stream.IntStream
                .range(0, seeds).mapToObj(s -> Arguments.of(b, k, s))));
    }

    static Model build(Backend b, String kind, long seed) {
        Cell c = kind.endsWith("gru") ? Cell.GRU : Cell.LSTM;
        return switch (kind.substring(0, kind.indexOf('-') < 0 ? kind.length() : kind.indexOf('-'))) {
            case "seq2seq" -> new Seq2seq(b, V, D, H, c, seed);
            case "peeky" -> new PeekySeq2seq(b, V, D, H, c, seed);
            case "attention" -> new AttentionSeq2seq(b, V, D, H, c, seed, kind.contains("-bi-"));
            case "rnnlm" -> new Rnnlm(b, V, D, H, c, seed);
            case "better" -> new BetterRnnlm(b, V, D, H, 0.3f, c, seed);
            case "simple" -> new SimpleRnnlm(b, V, D, H, seed);
            case "wave" -> kind.equals("wave-seq2seq") ? new WaveSeq2seq(b, 1, 1, H, seed)
                    : new WavePredictor(b, 1, H, seed);
            default -> throw new IllegalArgumentException(kind);
        };
    }

    static Optimizer optimizer(int which) {
        return switch (which) {
            case 0 -> new SGD(0.1f);
            case 1 -> new Momentum(0.1f, 0.9f);
            case 2 -> new AdaGrad(0.1f);
            case 3 -> new RMSprop(0.01f, 0.99f);
            default -> new Adam(0.01f);
        };
    }

    /** One world: the model, a second one of the same kind, an optimizer. */
    final class World implements AutoCloseable {
        final Backend b;
        final Model m, other;
        final Optimizer opt;
        final Arena arena = Arena.ofShared();
        final Path dir;
        final String kind;
        int[] lastXs, lastTs;
        int lastN, lastTin, lastTt;
        boolean gradsZero = true;

        World(Backend shared, String kind, int optimizer, Path dir) {
            this.b = TestBackends.fresh(shared.name());   // javadevice too (the rerun), which Backends does not know
            this.kind = kind;
            m = build(b, kind, 1);
            other = build(b, kind, 2);
            opt = optimizer(optimizer);
            this.dir = dir;
        }

        @Override
        public void close() {
            m.close();
            other.close();
            opt.close();
            arena.close();
            b.close();
        }
    }

    interface Op {
        String run(World w) throws Exception;
    }

    record Step(String name, Op op, boolean otherThread, boolean lmBadForward) {
    }

    static int[] randomIds(Random r, int n, int bad) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = r.nextInt(V);
        }
        if (bad != Integer.MIN_VALUE) {
            a[r.nextInt(n)] = bad;
        }
        return a;
    }

    static Tensor ids(World w, int[] ids, int n, int t) {
        Tensor x = w.b.allocate(w.arena, DType.I32, n, t);
        w.b.copyIn(x, ids);
        return x;
    }

    static int[][] rows(int[] flat, int n, int t) {
        int[][] q = new int[n][t];
        for (int i = 0; i < n; i++) {
            System.arraycopy(flat, i * t, q[i], 0, t);
        }
        return q;
    }

    List<Step> script(Random r, boolean lm, int length, String kind) {
        List<Step> steps = new ArrayList<>();
        int lmN = 1 + r.nextInt(3);
        for (int i = 0; i < length; i++) {
            int k = r.nextInt(100);
            boolean thread = r.nextInt(8) == 0;
            long s = r.nextLong();
            Random q = new Random(s);
            int n = lm ? (r.nextInt(6) == 0 ? 1 + r.nextInt(3) : lmN) : 1 + q.nextInt(3);
            int tin = 1 + q.nextInt(4), tout = 1 + q.nextInt(3);
            boolean wave = kind.startsWith("wave");
            if (wave && k < 25) {
                float[] xs = new float[n * tin];
                int tt = kind.equals("wave-seq2seq") ? tout : 1;
                float[] ts = new float[n * tt];
                for (int j = 0; j < xs.length; j++) {
                    xs[j] = (float) q.nextGaussian();
                }
                for (int j = 0; j < ts.length; j++) {
                    ts[j] = (float) q.nextGaussian();
                }
                boolean badN = q.nextInt(6) == 0;
                int tsN = badN ? n + 1 : n;
                float[] tsb = badN ? new float[tsN * tt] : ts;
                steps.add(new Step("forward wave N=" + n + " T=" + tin + "/" + tt + (badN ? " bad" : ""), w -> {
                    Tensor x = w.b.allocate(w.arena, DType.F32, n, tin, 1);
                    w.b.copyIn(x, xs);
                    Tensor t = kind.equals("wave-seq2seq") ? w.b.allocate(w.arena, DType.F32, tsN, tt, 1)
                            : w.b.allocate(w.arena, DType.F32, tsN, 1);
                    w.b.copyIn(t, tsb);
                    float loss = w.m.forward(x, t);
                    try (Model f = fresh(w)) {
                        float want = f.forward(x, t);
                        if (Float.floatToRawIntBits(want) != Float.floatToRawIntBits(loss)) {
                            throw new AssertionError("STALE forward: " + loss + " but a fresh copy gives " + want);
                        }
                    }
                    return Integer.toHexString(Float.floatToRawIntBits(loss));
                }, thread, false));
            } else if (wave && k >= 60 && k < 73) {
                float[][] xs = new float[n][tin];
                for (float[] row : xs) {
                    for (int j = 0; j < tin; j++) {
                        row[j] = (float) q.nextGaussian();
                    }
                }
                int len = q.nextInt(8) == 0 ? 0 : 1 + q.nextInt(3);
                steps.add(new Step("predict len=" + len, w -> {
                    String got = Arrays.deepToString(((RegressionModel) w.m).predict(xs, len));
                    try (Model f = fresh(w)) {
                        same(got, Arrays.deepToString(((RegressionModel) f).predict(xs, len)));
                    }
                    return got;
                }, thread, false));
            } else if (k < 25) {
                int bad = q.nextInt(6) == 0 ? (q.nextBoolean() ? V : -1) : Integer.MIN_VALUE;
                boolean badTs = q.nextBoolean();
                int[] xs = randomIds(q, n * tin, bad != Integer.MIN_VALUE && !badTs ? bad : Integer.MIN_VALUE);
                int tt = lm ? tin : tout + 1;
                int[] ts = randomIds(q, n * tt, bad != Integer.MIN_VALUE && badTs ? (bad == -1 && lm ? V : bad)
                        : Integer.MIN_VALUE);
                boolean isBad = bad != Integer.MIN_VALUE;
                steps.add(new Step("forward N=" + n + " T=" + tin + "/" + tt + (isBad ? " bad " + (badTs ? "ts" : "xs")
                        : ""), w -> {
                    float loss = w.m.forward(ids(w, xs, n, tin), ids(w, ts, n, tt));
                    w.lastXs = xs;
                    w.lastTs = ts;
                    w.lastN = n;
                    w.lastTin = tin;
                    w.lastTt = tt;
                    if (!lm) {
                        try (Model f = fresh(w)) {
                            float want = f.forward(ids(w, xs, n, tin), ids(w, ts, n, tt));
                            if (Float.floatToRawIntBits(want) != Float.floatToRawIntBits(loss)) {
                                throw new AssertionError("STALE forward: " + loss + " but a fresh copy gives " + want);
                            }
                        }
                    }
                    return Integer.toHexString(Float.floatToRawIntBits(loss));
                }, thread, lm && isBad));
            } else if (k < 45) {
                steps.add(new Step("backward", w -> {
                    w.m.backward();
                    if (!lm && !w.kind.startsWith("wave") && w.gradsZero) {
                        try (Model f = fresh(w)) {
                            f.forward(ids(w, w.lastXs, w.lastN, w.lastTin), ids(w, w.lastTs, w.lastN, w.lastTt));
                            f.backward();
                            if (!grads(f).equals(grads(w.m))) {
                                throw new AssertionError("STALE backward grads");
                            }
                        }
                    }
                    w.gradsZero = false;
                    return grads(w.m);
                }, thread, false));
            } else if (k < 55) {
                boolean clip = q.nextBoolean();
                boolean onOther = q.nextInt(8) == 0;
                steps.add(new Step((clip ? "clipAndStep" : "step") + (onOther ? " other" : ""), w -> {
                    Model target = onOther ? w.other : w.m;
                    if (clip) {
                        String norm = Float.toString(w.opt.clipAndStep(target.store(), 0.5f));
                        w.gradsZero |= target == w.m;
                        return norm;
                    }
                    w.opt.step(target.store());
                    w.gradsZero |= target == w.m;
                    return "";
                }, thread, false));
            } else if (k < 60) {
                steps.add(new Step("zeroGrads", w -> {
                    w.m.store().zeroGrads();
                    w.gradsZero = true;
                    return "";
                }, thread, false));
            } else if (k < 68) {
                int len = q.nextInt(8) == 0 ? 0 : 1 + q.nextInt(3);
                int[] xs = randomIds(q, n * tin, q.nextInt(8) == 0 ? V : Integer.MIN_VALUE);
                int start = q.nextInt(V);
                steps.add(new Step("generate N=" + n + " T=" + tin + " len=" + len, w -> {
                    String got;
                    if (w.m instanceof Seq2seqModel s2) {
                        got = Arrays.deepToString(q.nextBoolean() ? s2.generate(rows(xs, n, tin), start, len)
                                : s2.generate(ids(w, xs, n, tin), start, len));
                        try (Model f = fresh(w)) {
                            same(got, Arrays.deepToString(((Seq2seqModel) f).generate(rows(xs, n, tin), start, len)));
                        }
                        return got;
                    }
                    got = Arrays.deepToString(((LanguageModel) w.m).generate(rows(xs, n, tin), len,
                            LanguageModel.Sampling.SAMPLE, 5));
                    try (Model f = fresh(w)) {
                        same(got, Arrays.deepToString(((LanguageModel) f).generate(rows(xs, n, tin), len,
                                LanguageModel.Sampling.SAMPLE, 5)));
                    }
                    return got;
                }, thread, false));
            } else if (k < 73) {
                int len = 1 + q.nextInt(3);
                int beam = q.nextInt(6) == 0 ? 0 : 1 + q.nextInt(3);
                int[] xs = randomIds(q, n * tin, Integer.MIN_VALUE);
                int start = q.nextInt(V);
                steps.add(new Step("beamSearch K=" + beam, w -> {
                    if (w.m instanceof Seq2seqModel s2) {
                        String got = s2.beamSearch(rows(xs, n, tin), start, len, beam).toString();
                        try (Model f = fresh(w)) {
                            same(got, ((Seq2seqModel) f).beamSearch(rows(xs, n, tin), start, len, beam).toString());
                        }
                        return got;
                    }
                    if (w.m instanceof SimpleRnnlm) {
                        return "";
                    }
                    String got = ((LanguageModel) w.m).beamSearch(rows(xs, n, tin), len, beam, 0.5, 3).toString();
                    try (Model f = fresh(w)) {
                        same(got, ((LanguageModel) f).beamSearch(rows(xs, n, tin), len, beam, 0.5, 3).toString());
                    }
                    return got;
                }, thread, false));
            } else if (k < 77) {
                boolean mode = q.nextBoolean();
                steps.add(new Step("setTraining " + mode, w -> {
                    w.m.setTraining(mode);
                    return "";
                }, thread, false));
            } else if (k < 82) {
                PackedMatrix.Precision p = q.nextBoolean() ? PackedMatrix.Precision.BF16 : PackedMatrix.Precision.F32;
                steps.add(new Step("setInferencePrecision " + p, w -> {
                    w.m.setInferencePrecision(p);
                    return "";
                }, thread, false));
            } else if (k < 86) {
                long ps = q.nextLong();
                boolean wrongSize = q.nextInt(5) == 0;
                steps.add(new Step("copyIn" + (wrongSize ? " wrong size" : ""), w -> {
                    Random pr = new Random(ps);
                    List<Parameter> params = w.m.parameters();
                    Parameter p = params.get(pr.nextInt(params.size()));
                    float[] v = new float[(int) p.size() + (wrongSize ? 1 : 0)];
                    for (int j = 0; j < v.length; j++) {
                        v[j] = (float) (pr.nextGaussian() * 0.3);
                    }
                    w.m.store().copyIn(p.name(), v);
                    return p.name();
                }, thread, false));
            } else if (k < 88) {
                long ps = q.nextLong();
                boolean announce = q.nextBoolean();
                steps.add(new Step("raw write" + (announce ? " + valuesWritten" : ""), w -> {
                    Random pr = new Random(ps);
                    List<Parameter> params = w.m.parameters();
                    Parameter p = params.get(pr.nextInt(params.size()));
                    float[] v = new float[(int) p.size()];
                    for (int j = 0; j < v.length; j++) {
                        v[j] = (float) (pr.nextGaussian() * 0.3);
                    }
                    w.b.copyIn(p.value(), v);
                    if (announce) {
                        w.m.store().valuesWritten();
                    }
                    return p.name();
                }, thread, false));
            } else if (k < 90) {
                boolean fromOther = q.nextInt(3) == 0;
                steps.add(new Step("checkpoint" + (fromOther ? " from other" : ""), w -> {
                    Path f = Files.createTempFile(w.dir, "ck", ".npz");
                    Checkpoint.write(f, fromOther ? w.other : w.m, new Properties());
                    Checkpoint.load(f, w.m);
                    return "";
                }, thread, false));
            } else if (k < 93) {
                float lr = q.nextInt(4) == 0 ? Float.NaN : 0.001f * (1 + q.nextInt(50));
                steps.add(new Step("setLearningRate " + lr, w -> {
                    w.opt.setLearningRate(lr);
                    return "";
                }, thread, false));
            } else if (k < 96 && lm) {
                steps.add(new Step("resetState", w -> {
                    ((LanguageModel) w.m).resetState();
                    return "";
                }, thread, false));
            } else if (k < 97) {
                steps.add(new Step("close optimizer", w -> {
                    w.opt.close();
                    return "";
                }, thread, false));
            } else if (k < 98 && r.nextBoolean()) {
                steps.add(new Step("close backend", w -> {
                    w.b.close();
                    return "";
                }, thread, false));
            } else if (k < 98) {
                steps.add(new Step("close model", w -> {
                    w.m.close();
                    return "";
                }, thread, false));
            } else {
                steps.add(new Step("attention/values", w -> {
                    if (w.m instanceof AttentionSeq2seq a) {
                        return Arrays.toString(TestBackends.values(w.b, a.attentionWeights()));
                    }
                    return "";
                }, thread, false));
            }
        }
        return steps;
    }

    static Model fresh(World w) {
        Model f = build(w.b, w.kind, 9);
        f.store().copyInAll(w.m.store().copyOutAll());
        f.setInferencePrecision(w.m.inferencePrecision());
        return f;
    }

    static void same(String got, String fresh) {
        if (!got.equals(fresh)) {
            throw new AssertionError("STALE: " + got + " but a fresh copy gives " + fresh);
        }
    }

    static String grads(Model m) {
        StringBuilder sb = new StringBuilder();
        for (Parameter p : m.parameters()) {
            sb.append(Arrays.hashCode(m.store().copyOutGrad(p.name()))).append(',');
        }
        return sb.toString();
    }

    static String weights(Model m) {
        StringBuilder sb = new StringBuilder();
        Map<String, float[]> all = m.store().copyOutAll();
        for (Parameter p : m.parameters()) {
            sb.append(p.name()).append('=').append(Arrays.hashCode(all.get(p.name()))).append(',');
        }
        return sb.toString() + " grads " + grads(m);
    }

    /** The result of op, or the exception it threw (as "!" + type + message), run on this thread or another. */
    static String[] run(World w, Step s) {
        AtomicReference<String[]> out = new AtomicReference<>();
        Runnable body = () -> {
            try {
                out.set(new String[] {s.op.run(w), null});
            } catch (Throwable e) {
                out.set(new String[] {null, e.getClass().getName() + ": " + e.getMessage()});
                if (!(e instanceof IllegalArgumentException || e instanceof IllegalStateException
                        || e instanceof NullPointerException || e instanceof UnsupportedOperationException
                        || e instanceof java.io.IOException) || e.getMessage() == null
                        || e instanceof IndexOutOfBoundsException) {
                    e.printStackTrace();
                    out.set(new String[] {null, "UNEXPECTED " + e});
                }
            }
        };
        if (s.otherThread) {
            Thread t = new Thread(body, "other");
            t.start();
            try {
                t.join();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        } else {
            body.run();
        }
        return out.get();
    }

    static boolean closed(List<Step> steps, List<String[]> results) {
        for (int i = 0; i < steps.size(); i++) {
            if (steps.get(i).name.startsWith("close model") && results.get(i)[0] != null
                    || steps.get(i).name.startsWith("close backend") && results.get(i)[0] != null) {
                return true;
            }
        }
        return false;
    }

    @ParameterizedTest(name = "{0} {1} seed {2}")
    @MethodSource("cases")
    void refusedCallsChangeNothing(String backendName, String kind, int seed) throws Exception {
        Backend b = TestBackends.get(backendName);
        Random r = new Random(seed * 7919L + kind.hashCode());
        boolean lm = kind.startsWith("rnnlm") || kind.startsWith("better") || kind.startsWith("simple");
        List<Step> steps = script(r, lm, 40, kind);
        int optimizer = r.nextInt(5);
        List<String> log = new ArrayList<>();
        List<String[]> first = new ArrayList<>();
        String finalA;
        try (World a = new World(b, kind, optimizer, tmp)) {
            for (Step s : steps) {
                String[] res = run(a, s);
                first.add(res);
                log.add(s.name + (s.otherThread ? " [thread]" : "") + " -> " + (res[0] != null ? "ok" : res[1]));
                if (res[1] != null && res[1].startsWith("UNEXPECTED")) {
                    throw new AssertionError("unexpected exception at " + log.size() + ":\n" + String.join("\n", log));
                }
            }
            if (Boolean.getBoolean("seq4j.test.callSequences.print")) {
                System.out.println("== " + backendName + " " + kind + " " + seed + "\n" + String.join("\n", log));
            }
            finalA = closed(steps, first) ? "closed" : weights(a.m);
        }
        try (World c = new World(b, kind, optimizer, tmp)) {
            for (int i = 0; i < steps.size(); i++) {
                Step s = steps.get(i);
                if (first.get(i)[0] == null) {
                    // documented: a forward refused for an id after its network ran resets the carried state
                    if (s.lmBadForward && first.get(i)[1].startsWith("java.lang.IllegalArgumentException")) {
                        ((LanguageModel) c.m).resetState();
                    }
                    continue;
                }
                String[] res = run(c, s);
                assertEquals(first.get(i)[0], res[0], "step " + i + " " + s.name + " (replay: " + res[1] + ")\n"
                        + String.join("\n", log.subList(0, i + 1)));
            }
            String finalC = closed(steps, first) ? "closed" : weights(c.m);
            assertEquals(finalA, finalC, "final weights\n" + String.join("\n", log));
        }
    }
}
