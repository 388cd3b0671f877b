// Issue 5's and issue 12's targets as ratios taken round by round: each round is one JMH run of seq4j's
// workloads followed by one of their PyTorch peers (scripts/bench targets), so that both sides of a ratio see
// the machine in the same state, and the figure of record is the median of the rounds' ratios; within a round
// each benchmark's time is the median of its JMH iterations. On a VM whose timings move by 10-40% from one
// minute to the next, a single run can put a noisy minute on one side of a ratio only.
//
// java -cp benchmarks.jar org.seq4j.bench.Targets --out bench/RESULTS.md --command "..." [--section targets-openblas-own
//      --variant "..."] --round seq4j-1.json,peers-1.json --round seq4j-2.json,peers-2.json ...
// run in the rounds' environment: the section's header names the OpenBLAS core and seq4j C clone this JVM loads.
package org.seq4j.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.seq4j.bench.Report.Row;

public final class Targets {

    /** A bound on a target's median: at most or at least the value. */
    record Bound(double value, boolean atLeast) {
        static Bound atMost(double v) {
            return new Bound(v, false);
        }

        static Bound atLeast(double v) {
            return new Bound(v, true);
        }

        boolean met(double x) {
            return atLeast ? x >= value : x <= value;
        }

        String text(String format) {
            return (atLeast ? ">= " : "<= ") + String.format(Locale.ROOT, format, value);
        }
    }

    /**
     * A target: what is measured in one round (null when a round lacks a benchmark), issue 5's bound and issue 12's
     * (null where that issue set none).
     */
    private record Target(String what, Function<List<Row>, Double> measure, Bound issue5, Bound issue12, String format) {
    }

    private static final List<Target> TARGETS = List.of(
            new Target("W1 step / PyTorch's step", r -> ratio(r, "W1Seq2seqStepBench.step", "PeerW1Seq2seqStepBench.step"),
                    Bound.atMost(0.5), Bound.atMost(0.3), "%.2fx"),
            new Target("W1's FLOPs at the FMA peak (FmaPeakBench) / PyTorch's step: the lowest W1 / PyTorch this machine "
                    + "allows", r -> {
                        Row peer = find(r, "PeerW1Seq2seqStepBench.step");
                        Double peak = Limits.fmaPeak(r);
                        return peer == null || peak == null ? null
                                : Limits.w1(Limits.Caches.ofThisMachine()).flops() / (peak * 1e9) / (medianMillis(peer) * 1e-3);
                    }, null, null, "%.2fx"),
            new Target("W1 step / its GEMMs alone", r -> ratio(r, "W1Seq2seqStepBench.step", "W1Seq2seqStepBench.gemmsOnly"),
                    Bound.atMost(1.3), Bound.atMost(1.15), "%.2fx"),
            new Target("W1 (its GEMMs alone + its other kernels alone) / its GEMMs alone: the least step / GEMMs "
                    + "today's kernels allow", r -> {
                        Row gemms = find(r, "W1Seq2seqStepBench.gemmsOnly"), rest = find(r, "W1Seq2seqStepBench.restOnly");
                        return gemms == null || rest == null ? null
                                : (medianMillis(gemms) + medianMillis(rest)) / medianMillis(gemms);
                    }, null, null, "%.2fx"),
            new Target("W1 allocation per step, bytes (-prof gc, gc.alloc.rate.norm)", r -> {
                Row w1 = find(r, "W1Seq2seqStepBench.step");
                return w1 == null || Double.isNaN(w1.allocBytesPerOp()) ? null : w1.allocBytesPerOp();
            }, Bound.atMost(1024), Bound.atMost(1024), "%.0f"),
            new Target("W2 step / PyTorch's step", r -> ratio(r, "W2LstmStepBench.forwardBackward",
                    "PeerW2LstmStepBench.forwardBackward"), Bound.atMost(1.0), null, "%.2fx"),
            new Target("W2 GFLOP/s / sgemm's GFLOP/s at its x.Wx size (2240x2600x650), same round",
                    r -> {
                        Row w2 = find(r, "W2LstmStepBench.forwardBackward"), gemm = find(r, "FfmGemmBench.cblasSgemm");
                        return w2 == null || gemm == null ? null
                                : Report.gflops(w2.withMedianScore()) / Report.gflops(gemm.withMedianScore());
                    }, null, Bound.atLeast(0.95), "%.2f"),
            new Target("W3 encode / PyTorch's encode", r -> ratio(r, "W3LstmInferenceBench.encode",
                    "PeerW3LstmInferenceBench.encode"), Bound.atMost(0.5), Bound.atMost(0.3), "%.2fx"),
            new Target("W3 encode with bf16 Wh / PyTorch's encode (float)", r -> {
                Row w3 = find(r, "W3LstmInferenceBench.encode", "BF16"), peer = find(r, "PeerW3LstmInferenceBench.encode");
                return w3 == null || peer == null ? null : medianMillis(w3) / medianMillis(peer);
            }, null, null, "%.2fx"));

    public static void main(String[] args) throws IOException {
        String command = null, section = "targets", variant = null;
        Path out = Path.of("bench/RESULTS.md");
        List<List<Row>> rounds = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> out = Path.of(args[++i]);
                case "--command" -> command = args[++i];
                case "--section" -> section = args[++i];
                case "--variant" -> variant = args[++i];
                case "--round" -> {
                    List<Row> rows = new ArrayList<>();
                    for (String f : args[++i].split(",")) {
                        rows.addAll(Report.read(Path.of(f)));
                    }
                    rounds.add(rows);
                }
                default -> throw new IllegalArgumentException("Targets: unknown argument " + args[i]);
            }
        }
        if (command == null || rounds.isEmpty()) {
            throw new IllegalArgumentException("usage: Targets --command CMD [--out FILE] [--section NAME] [--variant TEXT] "
                    + "--round A.json,B.json ...");
        }
        // what ran (OpenBLAS's core, seq4j's clone, the environment): this JVM runs in the rounds' environment
        String md = Report.withRuntime(render(section, command, rounds, Report.openBlas()), variant,
                WhichOpenBlas.facts());
        Report.replaceSection(out, section, md);
        System.out.print(md);
    }

    /** The section {@code section}; its header names the OpenBLAS build {@code openBlas}. */
    static String render(String section, String command, List<List<Row>> rounds, String openBlas) {
        StringBuilder sb = new StringBuilder();
        sb.append("<!-- BEGIN ").append(section).append(" -->\n### ").append(section).append(" (generated ")
                .append(LocalDate.now()).append(")\n\n");
        sb.append("- command: `").append(command).append("`\n");
        sb.append("- machine: ").append(Report.machine()).append("\n");
        sb.append("- JDK: ").append(rounds.get(0).isEmpty() ? "?" : rounds.get(0).get(0).jdk()).append("\n");
        sb.append("- OpenBLAS: ").append(openBlas).append("\n");
        sb.append("- ").append(rounds.size()).append(" rounds, each one JMH run of seq4j (openblas) then one of ")
                .append("PyTorch through DJL; ratios within a round, taken on the medians of each benchmark's JMH ")
                .append("iterations (not their means: a peer's mean can carry a long tail); the median of the rounds ")
                .append("is the figure\n\n");
        sb.append("| target | rounds | median | issue 5 bound | met | issue 12 bound | met |\n")
                .append("|---|---|---:|---:|---|---:|---|\n");
        for (Target t : TARGETS) {
            List<Double> values = rounds.stream().map(t.measure()).filter(v -> v != null && !v.isNaN()).toList();
            if (values.isEmpty()) {   // said, not left out: a benchmark that failed must not pass unnoticed
                sb.append(String.format(Locale.ROOT, "| %s | no result: a benchmark it needs failed or did not run "
                        + "(see the run's log) |  | %s | %s |%n", t.what(), missed(t.issue5(), t.format()),
                        missed(t.issue12(), t.format())));
                continue;
            }
            double median = Report.median(values);
            String each = values.stream().map(v -> String.format(Locale.ROOT, t.format(), v))
                    .collect(Collectors.joining(", "));
            sb.append(String.format(Locale.ROOT, "| %s | %s | " + t.format() + " | %s | %s |%n", t.what(), each, median,
                    bound(t.issue5(), t.format(), median), bound(t.issue12(), t.format(), median)));
        }
        sb.append('\n').append(Report.W3_PEER_NOTE).append('\n');
        sb.append("\n| benchmark | ms per op (FmaPeakBench: GFLOP/s), round by round: median of the iterations (mean) |\n|---|---|\n");
        for (Row first : rounds.get(0)) {
            if ("java".equals(first.params().get("backend"))) {
                continue;
            }
            boolean peak = first.benchmark().startsWith("FmaPeakBench"); // a throughput: GFLOP/s, not ms
            String each = rounds.stream().map(round -> find(round, first.benchmark(), first.params().get("precision")))
                    .map(x -> x == null ? "-" : peak
                            ? String.format(Locale.ROOT, "%.1f (%.1f)", Report.gflops(x.withMedianScore()), Report.gflops(x))
                            : String.format(Locale.ROOT, "%.3f (%.3f)", medianMillis(x), Report.millis(x)))
                    .collect(Collectors.joining(", "));
            String precision = (first.params().containsKey("precision") ? " precision=" + first.params().get("precision") : "")
                    + (peak ? " GFLOP/s" : "");
            sb.append("| ").append(first.benchmark()).append(precision).append(" | ").append(each).append(" |\n");
        }
        return sb.append("<!-- END ").append(section).append(" -->\n").toString();
    }

    /** "bound | no result", or blanks where the issue set no bound. */
    private static String missed(Bound b, String format) {
        return b == null ? " | " : b.text(format) + " | no result";
    }

    /** "bound | yes/no", or " | (stated)"-like blanks where the issue set no bound. */
    private static String bound(Bound b, String format, double median) {
        return b == null ? " | " : b.text(format) + " | " + (b.met(median) ? "yes" : "no");
    }

    private static double medianMillis(Row r) {
        return Report.millis(r.withMedianScore());
    }

    /**
     * The benchmark's row in a round, on openblas or PyTorch (a round may also hold the java reference's), at
     * float precision where the benchmark has a precision parameter.
     */
    private static Row find(List<Row> round, String benchmark) {
        return find(round, benchmark, "F32");
    }

    /** As {@link #find(List, String)}, at the given precision (F32 | BF16, any case; rows without it are F32). */
    private static Row find(List<Row> round, String benchmark, String precision) {
        return round.stream().filter(r -> r.benchmark().equals(benchmark) && !"java".equals(r.params().get("backend"))
                        && r.params().getOrDefault("precision", "F32").equalsIgnoreCase(precision == null ? "F32" : precision))
                .findFirst().orElse(null);
    }

    private static Double ratio(List<Row> round, String a, String b) {
        Row x = find(round, a), y = find(round, b);
        return x == null || y == null ? null : medianMillis(x) / medianMillis(y);
    }
}
