// Where the time of a workload goes, kernel by kernel: runs W1..W4 through a Proxy over the backend that
// times every call (synchronising after each, so GPU time lands on the right kernel) and prints a table of
// kernels by total time. A profile, not a benchmark: the proxy adds about a microsecond per call, which
// the table reports as "calls". For the benchmark figures use JMH (W1Seq2seqStepBench etc.).
//   java -cp bench/target/benchmarks.jar org.seq4j.bench.Profile w1|w1gru|w2|w3|w4|date|date64 openblas [steps]
// GEMMs and packs are listed by shape; with -Dseq4j.profile.shapes every other call is too, by its first
// tensor's shape (which fill, which copy: "fill [150576]" is the step's flat gradient buffer). Steps are
// timed after at least 3 s of warm-up.
package org.seq4j.bench;

import java.lang.foreign.Arena;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.seq4j.backend.Backend;
import org.seq4j.backend.Backends;
import org.seq4j.layers.Cell;
import org.seq4j.layers.Init;
import org.seq4j.layers.ParameterStore;
import org.seq4j.layers.TimeEmbedding;
import org.seq4j.layers.TimeLSTM;
import org.seq4j.models.AttentionSeq2seq;
import org.seq4j.models.Seq2seq;
import org.seq4j.models.Seq2seqModel;
import org.seq4j.optim.Adam;
import org.seq4j.tensor.Tensor;

public final class Profile {
    private static final class Stat {
        long calls;
        long nanos;
    }

    // Warm-up lasts at least this long: a fixed ten steps left W1's at twice its JMH time (the JIT still at work)
    private static final long WARM_UP_NANOS = 3_000_000_000L;

    public static void main(String[] args) throws Exception {
        String workload = args.length > 0 ? args[0] : "w1";
        String backendName = args.length > 1 ? args[1] : "openblas";
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 50;
        if (steps < 1) {   // 0 printed NaN and Infinity a step
            throw new IllegalArgumentException("steps must be at least 1, got " + steps);
        }
        Map<String, Stat> stats = new TreeMap<>();
        boolean[] on = {false};
        try (Backend real = Backends.create(backendName); Arena arena = Arena.ofShared()) {
            Backend timed = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(),
                    new Class<?>[] {Backend.class}, (proxy, method, a) -> {
                        long t0 = System.nanoTime();
                        Object r;
                        try {
                            r = method.invoke(real, a);
                            real.synchronize();
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                        if (on[0]) {
                            String key = method.getName();
                            if (key.equals("gemm")) { // by shape: m x n x k and the transposes
                                key = "gemm " + a[2] + "x" + a[3] + "x" + a[4] + " " + (a[0] == org.seq4j.backend.Transpose.YES ? "T" : "N")
                                        + (a[1] == org.seq4j.backend.Transpose.YES ? "T" : "N");
                            } else if (key.equals("pack")) { // by the packed op(w)'s rows x cols, and w's transpose
                                org.seq4j.backend.PackedMatrix p = (org.seq4j.backend.PackedMatrix) a[0];
                                key = "pack " + p.rows() + "x" + p.cols() + (a[1] == org.seq4j.backend.Transpose.YES ? " T" : " N");
                            } else if (System.getProperty("seq4j.profile.shapes") != null && a != null && a.length > 0
                                    && a[0] instanceof org.seq4j.tensor.Tensor t) {
                                key += " " + java.util.Arrays.toString(t.shape());
                            }
                            Stat s = stats.computeIfAbsent(key, k -> new Stat());
                            s.calls++;
                            s.nanos += System.nanoTime() - t0;
                        }
                        return r;
                    });
            Runnable step = build(workload, timed, arena);
            long warmUntil = System.nanoTime() + WARM_UP_NANOS;
            for (int i = 0; i < Math.max(5, steps / 5) || System.nanoTime() < warmUntil; i++) {
                step.run(); // warm-up, not counted
            }
            on[0] = true;
            long t0 = System.nanoTime();
            for (int i = 0; i < steps; i++) {
                step.run();
            }
            long wall = System.nanoTime() - t0;
            print(workload, backendName, steps, wall, stats);
        }
    }

    private static Runnable build(String workload, Backend b, Arena arena) {
        SplittableRandom r = new SplittableRandom(Workloads.SEED);
        switch (workload) {
            case "w1" -> {
                Tensor xs = Workloads.ids(b, arena, r, 13, 128, 7), ts = Workloads.ids(b, arena, r, 13, 128, 5);
                Seq2seqModel m = new Seq2seq(b, 13, 16, 128, Workloads.SEED);
                Adam adam = new Adam(0.001f);
                return () -> Workloads.trainStep(m, adam, xs, ts, 5f);
            }
            case "w1gru" -> {   // W1GruSeq2seqStepBench's step: the addition seq2seq with GRU cells
                Tensor xs = Workloads.ids(b, arena, r, 13, 128, 7), ts = Workloads.ids(b, arena, r, 13, 128, 5);
                Seq2seqModel m = new Seq2seq(b, 13, 16, 128, Cell.GRU, Workloads.SEED);
                Adam adam = new Adam(0.001f);
                return () -> Workloads.trainStep(m, adam, xs, ts, 5f);
            }
            case "w4" -> {
                Tensor xs = Workloads.ids(b, arena, r, 59, 128, 29), ts = Workloads.ids(b, arena, r, 59, 128, 11);
                Seq2seqModel m = new AttentionSeq2seq(b, 59, 16, 256, Workloads.SEED);
                Adam adam = new Adam(0.001f);
                return () -> Workloads.trainStep(m, adam, xs, ts, 5f);
            }
            case "w2" -> {
                ParameterStore p = Workloads.lstmParameters(b, 650, 650);
                TimeLSTM lstm = Workloads.lstm(b, p, false);
                Fixtures f = new Fixtures(b, arena, Workloads.SEED);
                Tensor xs = f.uniform(-1, 1, 35, 64, 650), dhs = f.uniform(-1, 1, 35, 64, 650);
                return () -> {
                    lstm.forward(xs);
                    lstm.backward(dhs);
                    p.zeroGrads();
                };
            }
            case "w3" -> {
                ParameterStore p = ParameterStore.builder(b).declare("embed.W", Init.normal(0.01), 59, 16)
                        .declare("lstm.Wx", Init.scaledNormal(16), 16, 1024).declare("lstm.Wh", Init.scaledNormal(256), 256, 1024)
                        .declare("lstm.b", Init.zeros(), 1024).build(Workloads.SEED);
                TimeEmbedding embed = new TimeEmbedding(b, p.get("embed.W"));
                TimeLSTM lstm = Workloads.lstm(b, p, false);
                Tensor ids = Workloads.ids(b, arena, r, 59, 29, 1);
                return () -> lstm.forward(embed, ids);   // the date model's encoder's call (W3LstmInferenceBench)
            }
            case "date", "date64" -> {   // the date model answering 1 or 64 questions (DateInferenceBench, F32)
                Tensor xs = Workloads.ids(b, arena, r, 59, workload.equals("date") ? 1 : 64, 29);
                AttentionSeq2seq m = new AttentionSeq2seq(b, 59, 16, 256, Workloads.SEED);
                return () -> m.generate(xs, 0, 10);
            }
            default -> throw new IllegalArgumentException("workload must be w1, w1gru, w2, w3, w4, date or date64, got " + workload);
        }
    }

    private static void print(String workload, String backend, int steps, long wall, Map<String, Stat> stats) {
        long total = stats.values().stream().mapToLong(s -> s.nanos).sum();
        System.out.printf(Locale.ROOT, "%s on %s: %.3f ms per step (wall, with profiling), %.3f ms in kernels%n",
                workload, backend, wall / 1e6 / steps, total / 1e6 / steps);
        System.out.printf(Locale.ROOT, "%-30s %10s %12s %8s%n", "kernel", "calls/step", "ms/step", "share");
        List<Map.Entry<String, Stat>> rows = new ArrayList<>(stats.entrySet());
        rows.sort((x, y) -> Long.compare(y.getValue().nanos, x.getValue().nanos));
        for (var e : rows) {
            String rate = "";
            if (e.getKey().startsWith("gemm ")) {
                int[] d = Params.dims("gemm", e.getKey().substring(5, e.getKey().lastIndexOf(' ')), "MxNxK");
                rate = String.format(Locale.ROOT, "  %6.1f GFLOP/s", 2.0 * d[0] * d[1] * d[2] * e.getValue().calls
                        / (e.getValue().nanos * 1e-9) / 1e9);
            }
            System.out.printf(Locale.ROOT, "%-30s %10.1f %12.4f %7.1f%%%s%n", e.getKey(), e.getValue().calls / (double) steps,
                    e.getValue().nanos / 1e6 / steps, 100.0 * e.getValue().nanos / total, rate);
        }
    }
}
