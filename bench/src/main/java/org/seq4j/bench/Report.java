// Turns JMH JSON results (and the C sgemm harness's output) into a markdown section of bench/RESULTS.md,
// with the command, machine, JDK, OpenBLAS build, the OpenBLAS core and seq4j C clone that ran (with the environment
// variables that choose them) and date next to the figures. A section lives between
// <!-- BEGIN name --> and <!-- END name --> and is replaced on the next run; the rest of the file is
// hand-written and kept. Derived columns: GFLOP/s for GEMM shapes, speed-up over the java backend where
// both ran, GB/s for MemoryBandwidthBench, FFM-vs-C for the GEMM shapes the C harness timed, and for the PyTorch
// peers the median of the iterations next to JMH's mean (ratios to a peer are taken on medians). With --vs, the
// same benchmarks of another run (scripts/bench's other OpenBLAS variant) and the time ratios between the two;
// with --limits, Limits' table (each workload against its compute and memory bound).
//
// java -cp benchmarks.jar org.seq4j.bench.Report --section NAME --out bench/RESULTS.md --command "..."
//      [--variant TEXT] [--vs-label TEXT --vs other.json ...] [--c c_sgemm.txt] [--limits] results.json [more.json ...]
// Run it with the environment the benchmarks ran with: it loads OpenBLAS and the C kernels to name them.
package org.seq4j.bench;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.seq4j.backend.Backend;
import org.seq4j.backend.Backends;

public final class Report {

    /**
     * What a W3 ratio to PyTorch compares (W3LstmInferenceBench's header): under each table that sets W3 against its
     * peer (here, Limits, Targets).
     */
    static final String W3_PEER_NOTE = "W3 against PyTorch: seq4j's folded table E Wx + b and its packed Wh are "
            + "made in the benchmark's setUp, outside the timing, while PyTorch's encode does the embedding and x.Wx "
            + "at every call.";

    /** Under a table with B/op figures: what -prof gc sees. */
    static final String ALLOC_NOTE = "B/op allocated is `-prof gc`'s figure (gc.alloc.rate.norm), taken on seq4j's "
            + "side only: PyTorch allocates natively, off the Java heap, where -prof gc does not see.";

    /**
     * One JMH result: benchmark method, its parameters, score (JMH's mean of the iterations) with error and unit,
     * and the median of the iterations (scorePercentiles 50.0; NaN where the JSON has none).
     */
    record Row(String benchmark, Map<String, String> params, double score, double error, String unit, String jdk,
               double allocBytesPerOp, double median) {
        Row(String benchmark, Map<String, String> params, double score, double error, String unit, String jdk,
            double allocBytesPerOp) {
            this(benchmark, params, score, error, unit, jdk, allocBytesPerOp, Double.NaN);
        }

        /** This row with its median as the score (the mean where there is no median). */
        Row withMedianScore() {
            return Double.isNaN(median) ? this : new Row(benchmark, params, median, error, unit, jdk, allocBytesPerOp, median);
        }

        String paramsWithout(String... keys) {
            Map<String, String> p = new TreeMap<>(params);
            for (String key : keys) {
                p.remove(key);
            }
            return p.toString();
        }
    }

    public static void main(String[] args) throws IOException {
        String section = null, command = null, cFile = null, numpyFile = null, scalingPng = null;
        String variant = null, vsLabel = null;
        boolean limits = false;
        Path out = Path.of("bench/RESULTS.md");
        List<Path> jsons = new ArrayList<>(), vsJsons = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--section" -> section = args[++i];
                case "--out" -> out = Path.of(args[++i]);
                case "--command" -> command = args[++i];
                case "--c" -> cFile = args[++i];
                case "--numpy" -> numpyFile = args[++i];
                case "--scaling-png" -> scalingPng = args[++i];
                case "--variant" -> variant = args[++i];
                case "--vs-label" -> vsLabel = args[++i];
                case "--vs" -> vsJsons.add(Path.of(args[++i]));
                case "--limits" -> limits = true;
                default -> jsons.add(Path.of(args[i]));
            }
        }
        if (section == null || command == null || jsons.isEmpty()) {
            throw new IllegalArgumentException("usage: Report --section NAME --command CMD [--out FILE] [--variant TEXT] "
                    + "[--vs-label TEXT --vs JSON ...] [--c FILE] [--limits] JSON...");
        }
        if ((vsLabel == null) != vsJsons.isEmpty()) {
            throw new IllegalArgumentException("Report: --vs-label and --vs go together, got "
                    + (vsLabel == null ? "--vs without --vs-label" : "--vs-label without --vs"));
        }
        List<Row> rows = new ArrayList<>();
        for (Path p : jsons) {
            rows.addAll(read(p));
        }
        List<String> numpy = numpyFile == null ? List.of() : Files.readAllLines(Path.of(numpyFile));
        String md = render(section, command, rows, cFile == null ? List.of() : Files.readAllLines(Path.of(cFile)), numpy);
        md = withRuntime(md, variant, WhichOpenBlas.facts());
        if (!vsJsons.isEmpty()) {
            List<Row> vsRows = new ArrayList<>();
            for (Path p : vsJsons) {
                vsRows.addAll(read(p));
            }
            md = md.replace("<!-- END " + section + " -->", versus(rows, vsLabel, vsRows) + "<!-- END " + section + " -->");
        }
        if (limits) {
            md = md.replace("<!-- END " + section + " -->", Limits.table(rows, Limits.Caches.ofThisMachine(), Limits.SUITE)
                    + "<!-- END " + section + " -->");
        }
        if (scalingPng != null) {
            ScalingChart.write(rows, Path.of(scalingPng));
            md = md.replace("<!-- END " + section + " -->", "\n![W2 scaling](" + Path.of(out.toAbsolutePath().getParent()
                    .relativize(Path.of(scalingPng).toAbsolutePath()).toString()) + ")\n<!-- END " + section + " -->");
        }
        replaceSection(out, section, md);
        System.out.print(md);
    }

    static List<Row> read(Path json) throws IOException {
        List<Row> rows = new ArrayList<>();
        JsonArray arr = JsonParser.parseString(Files.readString(json)).getAsJsonArray();
        for (JsonElement e : arr) {
            JsonObject o = e.getAsJsonObject();
            Map<String, String> params = new LinkedHashMap<>();
            if (o.has("params")) {
                for (var p : o.getAsJsonObject("params").entrySet()) {
                    params.put(p.getKey(), p.getValue().getAsString());
                }
            }
            JsonObject pm = o.getAsJsonObject("primaryMetric");
            double err = pm.get("scoreError").isJsonPrimitive() && !pm.get("scoreError").getAsString().equals("NaN")
                    ? pm.get("scoreError").getAsDouble() : Double.NaN;
            // Class.method, whatever the package: peers live in org.seq4j.bench.peers
            String full = o.get("benchmark").getAsString();
            int method = full.lastIndexOf('.'), cls = full.lastIndexOf('.', method - 1);
            String bench = full.substring(cls + 1);
            double alloc = Double.NaN;
            if (o.has("secondaryMetrics") && o.getAsJsonObject("secondaryMetrics").has("gc.alloc.rate.norm")) {
                alloc = o.getAsJsonObject("secondaryMetrics").getAsJsonObject("gc.alloc.rate.norm").get("score").getAsDouble();
            }
            double median = pm.has("scorePercentiles") && pm.getAsJsonObject("scorePercentiles").has("50.0")
                    ? pm.getAsJsonObject("scorePercentiles").get("50.0").getAsDouble() : Double.NaN;
            rows.add(new Row(bench, params, pm.get("score").getAsDouble(), err, pm.get("scoreUnit").getAsString(),
                    o.get("jdkVersion").getAsString() + " " + o.get("vmName").getAsString(), alloc, median));
        }
        return rows;
    }

    static double median(List<Double> xs) {
        List<Double> sorted = xs.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private static String rounds(List<Double> xs) {
        return xs.size() < 2 ? "" : xs.stream().map(x -> String.format(Locale.ROOT, "%.1f", x))
                .collect(Collectors.joining(", ", "[", "]"));
    }

    static String render(String section, String command, List<Row> rows, List<String> cLines, List<String> numpy) {
        StringBuilder sb = new StringBuilder();
        sb.append("<!-- BEGIN ").append(section).append(" -->\n");
        sb.append("### ").append(section).append(" (generated ").append(LocalDate.now()).append(")\n\n");
        sb.append("- command: `").append(command).append("`\n");
        sb.append("- machine: ").append(machine()).append("\n");
        sb.append("- JDK: ").append(rows.isEmpty() ? "?" : rows.get(0).jdk()).append("\n");
        sb.append("- OpenBLAS: ").append(openBlas()).append("\n");
        if (rows.stream().anyMatch(r -> "pytorch".equals(r.params().get("backend")))) {
            sb.append("- PyTorch peers: score is JMH's mean; the derived column gives the median of the iterations next ")
                    .append("to it (a peer's mean can carry a long tail), and every ratio to a peer is taken on medians\n");
        }
        sb.append('\n');
        sb.append("| benchmark | parameters | score | unit | derived |\n|---|---|---:|---|---|\n");
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "| %s | %s | %s ± %s | %s | %s |%n", r.benchmark(), paramString(r.params()),
                    fmt(r.score()), fmt(r.error()), r.unit(), derived(r, rows)));
        }
        List<String> notes = new ArrayList<>();
        if (rows.stream().anyMatch(r -> !Double.isNaN(r.allocBytesPerOp()))) {
            notes.add(ALLOC_NOTE);
        }
        if (rows.stream().anyMatch(r -> r.benchmark().startsWith("PeerW3"))) {
            notes.add(W3_PEER_NOTE);
        }
        if (!notes.isEmpty()) {
            sb.append('\n').append(String.join(" ", notes)).append('\n');
        }
        if (!cLines.isEmpty()) {
            sb.append("\nOpenBLAS sgemm called from C (bench/c/sgemm_bench.c, the same library file, OpenBLAS's own threads) ")
                    .append("against the same call through the FFM binding (FfmGemmBench), in alternating rounds (C, FFM, C, ")
                    .append("FFM, ...) so that both see the same machine; medians of the rounds, each round's figure in ")
                    .append("brackets. The openblas backend (GemmBench: seq4j's pool, OpenBLAS single-threaded inside) ")
                    .append("is from the table above:\n\n");
            sb.append("| m x n x k | C GFLOP/s | FFM call GFLOP/s | FFM / C | backend GFLOP/s | backend / C |\n")
                    .append("|---|---:|---:|---:|---:|---:|\n");
            Pattern p = Pattern.compile("c_sgemm (\\d+) (\\d+) (\\d+) threads=(\\d+) us_per_call=([0-9.]+) gflops=([0-9.]+)");
            Map<String, List<Double>> cRounds = new LinkedHashMap<>();
            for (String line : cLines) {
                Matcher m = p.matcher(line);
                if (m.find()) {
                    cRounds.computeIfAbsent(m.group(1) + "x" + m.group(2) + "x" + m.group(3), x -> new ArrayList<>())
                            .add(Double.parseDouble(m.group(6)));
                }
            }
            for (Map.Entry<String, List<Double>> e : cRounds.entrySet()) {
                String mnk = e.getKey();
                List<Double> ffmRounds = rows.stream().filter(r -> r.benchmark().startsWith("FfmGemmBench")
                        && mnk.equals(r.params().get("mnk"))).map(Report::gflops).toList();
                Double backend = rows.stream().filter(r -> r.benchmark().startsWith("GemmBench")
                                && "openblas".equals(r.params().get("backend")) && mnk.equals(r.params().get("mnk")))
                        .map(Report::gflops).findFirst().orElse(null);
                double c = median(e.getValue());
                Double ffm = ffmRounds.isEmpty() ? null : median(ffmRounds);
                sb.append(String.format(Locale.ROOT, "| %s | %.1f %s | %s %s | %s | %s | %s |%n", mnk, c, rounds(e.getValue()),
                        fmt1(ffm), rounds(ffmRounds), percent(ffm, c), fmt1(backend), percent(backend, c)));
            }
        }
        if (!numpy.isEmpty()) {
            sb.append("\nThe book's own numpy code on the same workloads (bench/peers/numpy_book.py, median of its repeats), ")
                    .append("and seq4j's openblas time over it:\n\n");
            sb.append("| workload | sizes | book numpy ms | seq4j openblas ms | seq4j / numpy |\n|---|---|---:|---:|---:|\n");
            for (String line : numpy) {
                if (!line.startsWith("{")) {
                    continue;
                }
                JsonObject o = JsonParser.parseString(line).getAsJsonObject();
                String w = o.get("workload").getAsString();
                double ms = o.get("median_ms").getAsDouble();
                String twin = NUMPY_TWINS.get(w);
                Double ours = rows.stream().filter(r -> r.benchmark().equals(twin)
                                && "openblas".equals(r.params().get("backend")) && defaultSizes(r)
                                && r.params().getOrDefault("precision", "F32").equals("F32"))
                        .map(Report::millis).findFirst().orElse(null);
                sb.append(String.format(Locale.ROOT, "| %s | %s | %.3f | %s | %s |%n", w, o.get("sizes"), ms,
                        ours == null ? "-" : String.format(Locale.ROOT, "%.3f", ours),
                        ours == null ? "-" : String.format(Locale.ROOT, "%.2f", ours / ms)));
            }
        }
        sb.append("<!-- END ").append(section).append(" -->\n");
        return sb.toString();
    }

    /**
     * Adds, after the OpenBLAS line of the header, what ran: OpenBLAS's core and config, seq4j's C clone, the
     * environment variables that chose them, and the variant of scripts/bench's OpenBLAS environment.
     */
    static String withRuntime(String md, String variant, Map<String, String> facts) {
        StringBuilder lines = new StringBuilder();
        if (variant != null) {
            lines.append("- OpenBLAS variant: ").append(variant).append('\n');
        }
        lines.append("- OpenBLAS core that ran: ").append(facts.get("OpenBLAS core"));
        if (facts.containsKey("OpenBLAS config")) {
            lines.append(" (config: `").append(facts.get("OpenBLAS config")).append("`)");
        }
        lines.append('\n');
        if (facts.containsKey("seq4j C clone")) {
            lines.append("- seq4j C clone that ran: ").append(facts.get("seq4j C clone")).append('\n');
        }
        lines.append("- environment: ").append(facts.get("environment")).append('\n');
        if (facts.containsKey("core-to-core")) { // where the cores sit: one shared last-level cache or not (CoreLatency)
            lines.append("- core-to-core latency: ").append(facts.get("core-to-core"));
            if (facts.containsKey("core-to-core at the start")) {
                lines.append(" at the end of the run, ").append(facts.get("core-to-core at the start")).append(" at its start");
            }
            lines.append(" (two threads passing a cache line, CoreLatency; on the Zen 5 VM ~60 ns on one CCD, ~230 on two)\n");
        }
        int at = md.indexOf("- OpenBLAS: ");
        int end = md.indexOf('\n', at) + 1;
        return md.substring(0, end) + lines + md.substring(end);
    }

    /**
     * The rows that ran in both this run and the other (same benchmark, same parameters): the time per
     * operation here over the time there.
     */
    static String versus(List<Row> rows, String label, List<Row> other) {
        StringBuilder sb = new StringBuilder();
        sb.append("\nAgainst ").append(label).append(" (time per operation here / there; below 1 is faster here):\n\n");
        sb.append("| benchmark | parameters | here | there | here / there |\n|---|---|---:|---:|---:|\n");
        int matched = 0;
        for (Row r : rows) {
            for (Row o : other) {
                if (o.benchmark().equals(r.benchmark()) && o.params().equals(r.params()) && o.unit().equals(r.unit())) {
                    double ratio = timePerOp(r) / timePerOp(o);
                    sb.append(String.format(Locale.ROOT, "| %s | %s | %s %s | %s %s | %s |%n", r.benchmark(),
                            paramString(r.params()), fmt(r.score()), r.unit(), fmt(o.score()), o.unit(),
                            Double.isNaN(ratio) ? "?" : String.format(Locale.ROOT, "%.2f", ratio)));
                    matched++;
                    break;
                }
            }
        }
        if (matched == 0) {
            sb.append("| (no benchmark ran in both) | | | | |\n");
        }
        return sb.toString();
    }

    /** The score as time per operation (any unit; only ratios of the same unit are taken): throughput inverted. */
    private static double timePerOp(Row r) {
        return r.unit().endsWith("/op") ? r.score() : 1 / r.score();
    }

    private static String fmt1(Double v) {
        return v == null ? "-" : String.format(Locale.ROOT, "%.1f", v);
    }

    private static String percent(Double v, double of) {
        return v == null ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * v / of);
    }

    /** A W2 row at the default H = 650, T = 35 (other workloads have no size parameters). */
    /**
     * The benchmark that times what numpy_book.py's workload times, by its exact name: "starts with W1" took
     * W1GruSeq2seqStepBench.step, which JMH sorts first, for the book's LSTM W1 (and W3's first precision, BF16 or F32).
     */
    static final Map<String, String> NUMPY_TWINS = Map.of("W1", "W1Seq2seqStepBench.step",
            "W2", "W2LstmStepBench.forwardBackward", "W3", "W3LstmInferenceBench.encode",
            "W4", "W4AttentionStepBench.step");

    private static boolean defaultSizes(Row r) {
        return r.params().getOrDefault("h", "650").equals("650") && r.params().getOrDefault("t", "35").equals("35");
    }

    /** The score in milliseconds per operation. */
    static double millis(Row r) {
        return r.score() * switch (r.unit()) {
            case "ms/op" -> 1.0;
            case "us/op" -> 1e-3;
            case "ns/op" -> 1e-6;
            case "s/op" -> 1e3;
            default -> Double.NaN;
        };
    }

    private static String derived(Row r, List<Row> all) {
        List<String> parts = new ArrayList<>();
        Double g = gflops(r.withMedianScore());   // on the median, as every ratio here (the mean can carry a tail)
        if (g != null) {
            parts.add(String.format(Locale.ROOT, "%.1f GFLOP/s", g));
            // a W2 step against the largest sgemm timed in the same run (its x.Wx-sized GEMM), as the peak
            if (r.benchmark().contains("W2LstmStepBench")) {
                all.stream().filter(o -> o.benchmark().startsWith("FfmGemmBench"))
                        .max(Comparator.comparingDouble(o -> Params.dims("mnk", o.params().get("mnk"), "MxNxK")[0]))
                        .ifPresent(o -> parts.add(String.format(Locale.ROOT, "%.0f%% of sgemm's %.1f GFLOP/s at %s in this run",
                                100 * g / gflops(o.withMedianScore()), gflops(o.withMedianScore()),
                                o.params().get("mnk"))));
            }
        }
        String backend = r.params().get("backend");
        if (backend != null && !backend.equals("java") && !backend.equals("pytorch")) {
            all.stream().filter(o -> o.benchmark().equals(r.benchmark()) && "java".equals(o.params().get("backend"))
                            && o.paramsWithout("backend").equals(r.paramsWithout("backend")))
                    .findFirst()
                    .ifPresent(j -> parts.add(String.format(Locale.ROOT, "%.1fx faster than java", millis(j) / millis(r))));
            // the same workload on PyTorch through DJL, from the same run: seq4j time / peer time, medians
            all.stream().filter(o -> o.benchmark().equals("Peer" + r.benchmark()) && "pytorch".equals(o.params().get("backend"))
                            && o.paramsWithout("backend", "precision").equals(r.paramsWithout("backend", "precision")))
                    .findFirst()
                    .ifPresent(p -> parts.add(String.format(Locale.ROOT, "%.2fx the time of pytorch (medians)",
                            millis(r.withMedianScore()) / millis(p.withMedianScore()))));
            // a training step against its own GEMMs replayed alone
            if (r.benchmark().endsWith(".step")) {
                String gemmsOnly = r.benchmark().replace(".step", ".gemmsOnly");
                all.stream().filter(o -> o.benchmark().equals(gemmsOnly) && o.params().equals(r.params()))
                        .findFirst()
                        .ifPresent(o -> parts.add(String.format(Locale.ROOT, "%.2fx its GEMMs alone", millis(r) / millis(o))));
                // and against its other kernels replayed alone (W1): the two added, over the GEMMs, the least it can be
                String restOnly = r.benchmark().replace(".step", ".restOnly");
                all.stream().filter(o -> o.benchmark().equals(restOnly) && o.params().equals(r.params()))
                        .findFirst()
                        .ifPresent(o -> parts.add(String.format(Locale.ROOT, "its other kernels alone %s ms", fmt(millis(o)))));
            }
        }
        if ("pytorch".equals(backend) && !Double.isNaN(r.median())) {
            parts.add(String.format(Locale.ROOT, "median %s %s (mean / median %.2f)", fmt(r.median()), r.unit(),
                    r.score() / r.median()));
        }
        Double gbs = Limits.bandwidth(r);
        if (gbs != null) {
            parts.add(String.format(Locale.ROOT, "%.1f GB/s", gbs));
        }
        if (!Double.isNaN(r.allocBytesPerOp())) {
            parts.add(String.format(Locale.ROOT, "%.0f B/op allocated", r.allocBytesPerOp()));
        }
        return String.join(", ", parts);
    }

    /**
     * GFLOP/s of a GemmBench row or a PackedGemmBench product (2mnk; PackedGemmBench's trailing T marks a transposed
     * B), a W2 LSTM step (Workloads.lstmStepFlops, N = 64, D = H), or the machine's FMA peak (FmaPeakBench).
     */
    static Double gflops(Row r) {
        double flops;
        if ((r.benchmark().startsWith("GemmBench") || r.benchmark().startsWith("FfmGemmBench")
                || r.benchmark().startsWith("PackedGemmBench.product")) && r.params().containsKey("mnk")) {
            int[] d = Params.dims("mnk", r.params().get("mnk").replace("T", ""), "MxNxK");
            flops = 2.0 * d[0] * d[1] * d[2];
        } else if (r.benchmark().startsWith("FmaPeakBench")) { // a throughput: ops/s of FLOPS_PER_OP each, all cores
            return FmaPeakBench.FLOPS_PER_OP / Limits.secondsOfScore(r) / 1e9;
        } else if (r.benchmark().contains("W2LstmStepBench")) {
            int h = Integer.parseInt(r.params().getOrDefault("h", "650"));
            int t = Integer.parseInt(r.params().getOrDefault("t", "35"));
            flops = Workloads.lstmStepFlops(t, W2LstmStepBench.N, h, h);
        } else {
            return null;
        }
        return flops / (millis(r) * 1e-3) / 1e9;
    }

    private static String paramString(Map<String, String> params) {
        StringBuilder sb = new StringBuilder();
        params.forEach((k, v) -> sb.append(sb.isEmpty() ? "" : ", ").append(k).append('=').append(v));
        return sb.toString();
    }

    private static String fmt(double v) {
        if (Double.isNaN(v)) {
            return "?";
        }
        return v >= 100 ? String.format(Locale.ROOT, "%.1f", v) : String.format(Locale.ROOT, "%.3g", v);
    }

    static String machine() {
        String model = "?", mem = "?";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    model = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal")) {
                    mem = (Long.parseLong(line.replaceAll("\\D", "")) >> 20) + " GiB";
                }
            }
            String flags = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("flags"))
                    .findFirst().orElse("");
            String isa = flags.contains(" avx512f") ? "AVX-512" : flags.contains(" avx2") ? "AVX2+FMA" : "SSE";
            return model + ", " + Runtime.getRuntime().availableProcessors() + " cores (" + isa + "), " + mem + ", "
                    + System.getProperty("os.name") + " " + System.getProperty("os.version");
        } catch (IOException | RuntimeException e) {
            return model;
        }
    }

    static String openBlas() {
        try (Backend b = Backends.create("openblas")) {
            return b.description();
        } catch (RuntimeException e) {
            return "not loaded: " + e.getMessage();
        }
    }

    /** Replaces (or appends) the marked section in the file, writing through a temporary file. */
    static void replaceSection(Path file, String section, String md) throws IOException {
        String begin = "<!-- BEGIN " + section + " -->", end = "<!-- END " + section + " -->\n";
        String text = Files.exists(file) ? Files.readString(file) : "# seq4j benchmark results\n\n";
        int b = text.indexOf(begin), e = text.indexOf(end);
        String updated = b >= 0 && e > b ? text.substring(0, b) + md + text.substring(e + end.length())
                : text + (text.endsWith("\n\n") ? "" : "\n") + md;
        Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), ".RESULTS", ".tmp");
        Files.writeString(tmp, updated, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
