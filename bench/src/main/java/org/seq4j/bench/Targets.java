// Issue 5's targets as ratios taken round by round: each round is one JMH run of seq4j's workloads followed
// by one of their PyTorch peers (scripts/bench targets), so that both sides of a ratio see the machine in
// the same state, and the figure of record is the median of the rounds' ratios. On a VM whose timings move
// by 10-40% from one minute to the next, a single run can put a noisy minute on one side of a ratio only.
//
// java -cp benchmarks.jar org.seq4j.bench.Targets --out bench/RESULTS.md --command "..." \
//      --round seq4j-1.json,peers-1.json --round seq4j-2.json,peers-2.json ...
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

    /** A target: what is measured in one round (null when a round lacks a benchmark), and the bound, if any. */
    private record Target(String what, Function<List<Row>, Double> measure, Double atMost, String format) {
    }

    private static final List<Target> TARGETS = List.of(
            new Target("W1 step / PyTorch's step", r -> ratio(r, "W1Seq2seqStepBench.step", "PeerW1Seq2seqStepBench.step"),
                    0.5, "%.2fx"),
            new Target("W1 step / its GEMMs alone", r -> ratio(r, "W1Seq2seqStepBench.step", "W1Seq2seqStepBench.gemmsOnly"),
                    1.3, "%.2fx"),
            new Target("W2 step / PyTorch's step", r -> ratio(r, "W2LstmStepBench.forwardBackward",
                    "PeerW2LstmStepBench.forwardBackward"), 1.0, "%.2fx"),
            new Target("W2 GFLOP/s / sgemm's GFLOP/s at its x.Wx size (2240x2600x650), same round",
                    r -> {
                        Row w2 = find(r, "W2LstmStepBench.forwardBackward"), gemm = find(r, "FfmGemmBench.cblasSgemm");
                        return w2 == null || gemm == null ? null : Report.gflops(w2) / Report.gflops(gemm);
                    }, null, "%.2f"),
            new Target("W3 encode / PyTorch's encode", r -> ratio(r, "W3LstmInferenceBench.encode",
                    "PeerW3LstmInferenceBench.encode"), 0.5, "%.2fx"));

    public static void main(String[] args) throws IOException {
        String command = null;
        Path out = Path.of("bench/RESULTS.md");
        List<List<Row>> rounds = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> out = Path.of(args[++i]);
                case "--command" -> command = args[++i];
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
            throw new IllegalArgumentException("usage: Targets --command CMD [--out FILE] --round A.json,B.json ...");
        }
        String md = render(command, rounds);
        Report.replaceSection(out, "targets", md);
        System.out.print(md);
    }

    static String render(String command, List<List<Row>> rounds) {
        StringBuilder sb = new StringBuilder();
        sb.append("<!-- BEGIN targets -->\n### targets (generated ").append(LocalDate.now()).append(")\n\n");
        sb.append("- command: `").append(command).append("`\n");
        sb.append("- machine: ").append(Report.machine()).append("\n");
        sb.append("- JDK: ").append(rounds.get(0).isEmpty() ? "?" : rounds.get(0).get(0).jdk()).append("\n");
        sb.append("- ").append(rounds.size()).append(" rounds, each one JMH run of seq4j (openblas) then one of ")
                .append("PyTorch through DJL; ratios within a round, the median of the rounds is the figure\n\n");
        sb.append("| target | rounds | median | bound | met |\n|---|---|---:|---:|---|\n");
        for (Target t : TARGETS) {
            List<Double> values = rounds.stream().map(t.measure()).filter(v -> v != null && !v.isNaN()).toList();
            if (values.isEmpty()) {
                continue;
            }
            double median = Report.median(values);
            String each = values.stream().map(v -> String.format(Locale.ROOT, t.format(), v))
                    .collect(Collectors.joining(", "));
            String bound = t.atMost() == null ? "" : String.format(Locale.ROOT, "<= " + t.format(), t.atMost());
            String met = t.atMost() == null ? "(stated)" : median <= t.atMost() ? "yes" : "no";
            sb.append(String.format(Locale.ROOT, "| %s | %s | " + t.format() + " | %s | %s |%n", t.what(), each, median,
                    bound, met));
        }
        sb.append("\n| benchmark | ms per op, round by round |\n|---|---|\n");
        for (String benchmark : rounds.get(0).stream().map(Row::benchmark).distinct().toList()) {
            String each = rounds.stream().map(round -> find(round, benchmark))
                    .map(x -> x == null ? "-" : String.format(Locale.ROOT, "%.3f", Report.millis(x)))
                    .collect(Collectors.joining(", "));
            sb.append("| ").append(benchmark).append(" | ").append(each).append(" |\n");
        }
        return sb.append("<!-- END targets -->\n").toString();
    }

    /** The benchmark's row in a round, on openblas or PyTorch (a round may also hold the java reference's). */
    private static Row find(List<Row> round, String benchmark) {
        return round.stream().filter(r -> r.benchmark().equals(benchmark) && !"java".equals(r.params().get("backend")))
                .findFirst().orElse(null);
    }

    private static Double ratio(List<Row> round, String a, String b) {
        Row x = find(round, a), y = find(round, b);
        return x == null || y == null ? null : Report.millis(x) / Report.millis(y);
    }
}
