// The roofline of each workload: its FLOPs and the bytes it must move per JMH operation, counted from its
// shapes, against the same run's gemm GFLOP/s and memory bandwidth (MemoryBandwidthBench): the time it
// could not beat on this machine (the larger of the compute and the memory bound) and its share of it.
// Report --limits writes the table (section "limits" of bench/RESULTS.md, scripts/bench limits).
//
// The model (also in the table's notes):
// - FLOPs: GEMMs at 2mnk, the work that must be done: a recurrent product from h_0 = 0 is not (the encoder's
//   first h.Wh, its dWh term and the dh_0 nobody needs are skipped by seq4j too). Training counts every
//   forward GEMM three times (forward, dW, dX). Attention's two batched products count 2 FLOPs a
//   multiply-add (three times in training). Elementwise work (cells, softmax, Adam) is not counted: under
//   3% of the GEMMs' FLOPs at these sizes even at 100 FLOPs an element.
// - Bytes: training: each parameter 10 times 4 B with Adam (forward reads W; backward reads W, writes dW;
//   Adam reads W, m, v, dW and writes W, m, v), 4 times without (W2: forward, backward read, dW written,
//   zeroGrads); each value the forward saves for the backward (an LSTM's input, its 4H gates, c and h per
//   row and step; the affine's input and probabilities; attention weights) written once and read once;
//   attention reads hs twice a decoder step forward and twice backward; W2's dhs read and dxs written once.
//   Inference: the recurrent Wh read at every step that multiplies by it, per-step weights (the affine) at every
//   step, others once; attention reads hs twice a step. An inference LSTM fed by an embedding runs folded
//   (FoldedInput, TimeLSTM): the table E Wx + b (V, 4H) is made once, outside the timing (W3LstmInferenceBench's
//   setUp; DateInferenceBench's warm-up for both the encoder and the decoder, whose one-token forwards pass V
//   tokens over unchanged weights within the first few calls), and a step gathers N of its rows (at most V
//   distinct) of 4H floats: no input product, and those rows read instead of Wx and b.
// - Which bandwidth: the working set (weights, optimizer state and gradients, saved values) against the
//   caches: within the cores' distinct L2s together -> MemoryBandwidthBench at 1MiB, within half the L3 (it is
//   shared with the host's other guests) -> 16MiB, else DRAM -> 512MiB. The read figure bounds them:
//   MemoryBandwidthBench.readPacked (seq4j's packed one-row product, what the recurrences run over a packed Wh)
//   where the run has it, else MemoryBandwidthBench.read (OpenBLAS's sgemv, slower: older runs).
// - Which gemm rate: W1's 128x512x128 (its h.Wh) from PackedGemmBench.product, variant F32, where the run has it:
//   W1's recurrent products run over the Wh packed once a pass (gemmPacked), not OpenBLAS's sgemm, which packs
//   both operands at every call; else GemmBench at the workload's dominant shape; else the run's best sgemm.
package org.seq4j.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;
import org.seq4j.bench.Report.Row;

final class Limits {
    private Limits() {
    }

    /** Which MemoryBandwidthBench buffer bounds a working set: the caches it fits in. */
    enum Level {
        L2("1MiB"), L3("16MiB"), DRAM("512MiB");

        final String buffer;

        Level(String buffer) {
            this.buffer = buffer;
        }
    }

    /** The cores' distinct L2s together and the (shared) L3, in bytes. */
    record Caches(long l2Total, long l3) {
        /** This machine's, from /sys (see of). */
        static Caches ofThisMachine() {
            return of(Path.of("/sys/devices/system/cpu"), Runtime.getRuntime().availableProcessors());
        }

        /**
         * The caches that a sysfs tree at root (as /sys/devices/system/cpu) describes. L2: the sizes of the online
         * CPUs' L2s summed, each L2 once however many CPUs share it, told apart by its shared_cpu_list (SMT siblings
         * share one L2: counting cpu0's once per processor doubled it there). L3: the first online CPU's, the one
         * L3 a thread's data can be counted on to sit in (a VM's vCPUs can move between CCDs during a run).
         * Where no L2 is readable, 1 MiB for each of the processors; where no L3 is, 32 MiB.
         */
        static Caches of(Path root, int processors) {
            Map<String, Long> l2s = new LinkedHashMap<>(); // shared_cpu_list -> size, one entry an L2
            long l3 = -1;
            for (int cpu : onlineCpus(root)) {
                for (int i = 0; i < 16; i++) {
                    Path dir = root.resolve("cpu" + cpu + "/cache/index" + i);
                    if (!Files.isDirectory(dir)) {
                        break;
                    }
                    try {
                        int level = Integer.parseInt(Files.readString(dir.resolve("level")).trim());
                        if (level == 2) {
                            long size = bytes(Files.readString(dir.resolve("size")).trim());
                            l2s.putIfAbsent(Files.readString(dir.resolve("shared_cpu_list")).trim(), size);
                        } else if (level == 3 && l3 < 0) {
                            l3 = bytes(Files.readString(dir.resolve("size")).trim());
                        }
                    } catch (IOException | RuntimeException e) {
                        // an unreadable index: the others may still say
                    }
                }
            }
            long l2 = l2s.values().stream().mapToLong(Long::longValue).sum();
            return new Caches(l2 > 0 ? l2 : (1L << 20) * processors, l3 > 0 ? l3 : 32L << 20);
        }

        /** The online CPUs under root: its "online" list ("0-1", "0,2-5"), else every cpuN directory. */
        private static List<Integer> onlineCpus(Path root) {
            List<Integer> cpus = new ArrayList<>();
            try {
                for (String part : Files.readString(root.resolve("online")).trim().split(",")) {
                    String[] range = part.split("-");
                    int from = Integer.parseInt(range[0].trim()), to = Integer.parseInt(range[range.length - 1].trim());
                    for (int cpu = from; cpu <= to; cpu++) {
                        cpus.add(cpu);
                    }
                }
                return cpus;
            } catch (IOException | RuntimeException e) {
                cpus.clear();
            }
            try (var dirs = Files.list(root)) {
                dirs.map(d -> d.getFileName().toString()).filter(n -> n.matches("cpu\\d+"))
                        .map(n -> Integer.parseInt(n.substring(3))).sorted().forEach(cpus::add);
            } catch (IOException | RuntimeException e) {
                // no tree: no CPUs, the defaults
            }
            return cpus;
        }

        Level level(double workingSet) {
            return workingSet <= l2Total ? Level.L2 : workingSet <= l3 / 2.0 ? Level.L3 : Level.DRAM;
        }
    }

    /**
     * One workload's work per JMH operation.
     *
     * @param flops      FLOPs an operation must do
     * @param bytes      bytes it must move
     * @param workingSet bytes it touches (chooses the bandwidth)
     * @param gemmSize   the sgemm size whose GFLOP/s bounds it (its dominant GEMM shape), or null for the best
     *                   sgemm of the run
     * @param questions  questions an operation answers (inference throughput), 0 where that means nothing
     */
    record Work(double flops, double bytes, double workingSet, String gemmSize, int questions) {
    }

    static final String W2_GEMM = "2240x2600x650", RECURRENT_GEMM = "128x512x128";

    /** FLOPs of an LSTM layer over t steps of n rows, inputs of d: x.Wx at once, then t (t-1 from h_0 = 0) h.Wh. */
    static double lstmForwardFlops(int n, int t, int d, int h, boolean fromZero) {
        return 2.0 * n * t * 4 * h * d + recurrentFlops(n, t, h, fromZero);
    }

    /** FLOPs of an LSTM layer's recurrent products alone: t (t-1 from h_0 = 0) h.Wh of n rows. */
    static double recurrentFlops(int n, int t, int h, boolean fromZero) {
        return 2.0 * n * (fromZero ? t - 1 : t) * 4 * h * h;
    }

    /**
     * Bytes an inference forward of t steps over n rows reads of its folded table (V rows of 4H floats, made
     * outside the timing): n rows gathered a step, at most v of them distinct.
     */
    static double foldedRowsRead(int n, int t, int v, int h) {
        return (double) t * Math.min(n, v) * 4 * h * 4;
    }

    /** Bytes of the folded table such a forward touches: the rows of its n t tokens, at most all v. */
    static double foldedRowsTouched(int n, int t, int v, int h) {
        return Math.min((double) n * t, v) * 4 * h * 4;
    }

    /**
     * As lstmForwardFlops for an LSTM fed by an embedding of v rows, in a training step: where v < n t the layer
     * folds its input (FoldedInput: the table E Wx + b of v rows, once a step since the weights move, then looked
     * up by id), so its input product has v rows, not n t; so do the two products of its gradient (dWx = E^T dT,
     * dE = dT Wx^T), which the 3x of a training step counts.
     */
    static double embeddedLstmForwardFlops(int v, int n, int t, int d, int h, boolean fromZero) {
        int rows = (int) Math.min((long) n * t, v);
        return 2.0 * rows * 4 * h * d + 2.0 * n * (fromZero ? t - 1 : t) * 4 * h * h;
    }

    /** Floats an LSTM layer's forward saves for its backward: its input, 4H gates, c and h per row and step. */
    static double lstmSaved(int n, int t, int d, int h) {
        return (double) n * t * (d + 6.0 * h);
    }

    static double lstmParams(int d, int h) {
        return (double) (d + h + 1) * 4 * h;
    }

    /** W1: the ch7 addition seq2seq training step, V=13, D=16, H=128, N=128, 7 in, 4 out (decoder inputs). */
    static Work w1(Caches c) {
        int v = 13, d = 16, h = 128, n = 128, tIn = 7, tOut = 4;
        double flops = 3 * (embeddedLstmForwardFlops(v, n, tIn, d, h, true) + embeddedLstmForwardFlops(v, n, tOut, d, h, false)
                + 2.0 * n * tOut * h * v);
        double params = 2 * (v * d + lstmParams(d, h)) + (h + 1) * v;
        double saved = lstmSaved(n, tIn, d, h) + lstmSaved(n, tOut, d, h) + (double) n * tOut * (h + v);
        return training(c, flops, params, true, saved, 0, RECURRENT_GEMM);
    }

    /** W2: one LSTM layer forward + backward, N=64, D=H=h, t steps from h_0 = 0 (no optimizer). */
    static Work w2(Caches c, int h, int t) {
        int n = W2LstmStepBench.N;
        double flops = 3 * lstmForwardFlops(n, t, h, h, true);
        double io = 2.0 * n * t * h; // dhs read, dxs written
        return training(c, flops, lstmParams(h, h), false, lstmSaved(n, t, h, h), io,
                h == 650 && t == 35 ? W2_GEMM : null);
    }

    /**
     * W3: embedding + LSTM (V=59, D=16, H=256), N=1, 29 steps from h_0 = 0; Wh of whBytes per element. Folded
     * (W3LstmInferenceBench's setUp makes the table E Wx + b): the 28 products h.Wh, no input product; Wh read at each
     * of them, a row of the table gathered a step.
     */
    static Work w3(Caches c, int whBytes) {
        int v = 59, h = 256, t = 29;
        double wh = (double) h * 4 * h * whBytes;
        double flops = recurrentFlops(1, t, h, true);
        double bytes = (t - 1) * wh + foldedRowsRead(1, t, v, h);
        return new Work(flops, bytes, wh + foldedRowsTouched(1, t, v, h), null, 0);
    }

    /** W4: the ch8 attention seq2seq training step at the date set's sizes: V=59, D=16, H=256, N=128, 29 in, 10 out. */
    static Work w4(Caches c) {
        int v = 59, d = 16, h = 256, n = 128, tIn = 29, tOut = 10;
        double attention = 2.0 * 2 * n * tIn * h * tOut; // scores and weighted sum, per decoder step
        double flops = 3 * (embeddedLstmForwardFlops(v, n, tIn, d, h, true) + embeddedLstmForwardFlops(v, n, tOut, d, h, false)
                + 2.0 * n * tOut * 2 * h * v + attention);
        double params = 2 * (v * d + lstmParams(d, h)) + (2 * h + 1) * v;
        double saved = lstmSaved(n, tIn, d, h) + lstmSaved(n, tOut, d, h) + (double) n * tOut * tIn
                + (double) n * tOut * (2 * h + v);
        double hsReads = 4.0 * tOut * n * tIn * h; // hs twice a decoder step forward, twice backward
        return training(c, flops, params, true, saved, hsReads, null);
    }

    /**
     * The date model answering n questions at once (DateInferenceBench): encode 29 characters, then the book's
     * greedy generate for 10 (decoder LSTM, attention over the 29 hs, affine 2H -> V=59, argmax); both LSTMs'
     * Wh of whBytes per element, the rest float. Both LSTMs run folded once warm (the encoder's forwards, and the
     * decoder's one-token forwards, pass V tokens over unchanged weights within the first calls: FoldedInput), so
     * neither does an input product, and each gathers its table's rows (n a step, at most V distinct) instead of
     * reading Wx and b; the embeddings are not read at all.
     */
    static Work dateInference(Caches c, int n, int whBytes) {
        int v = 59, h = 256, tIn = 29, tOut = 10;
        double flops = recurrentFlops(n, tIn, h, true) + recurrentFlops(n, tOut, h, false)
                + tOut * (2.0 * 2 * n * tIn * h + 2.0 * n * 2 * h * v);
        double wh = (double) h * 4 * h * whBytes, affine = 4.0 * (2 * h + 1) * v;
        double hs = 4.0 * n * tIn * h;
        double bytes = (tIn - 1 + tOut) * wh + foldedRowsRead(n, tIn, v, h) + foldedRowsRead(n, tOut, v, h)
                + tOut * affine + 2 * tOut * hs;
        double workingSet = 2 * wh + foldedRowsTouched(n, tIn, v, h) + foldedRowsTouched(n, tOut, v, h) + affine + hs;
        return new Work(flops, bytes, workingSet, null, n);
    }

    private static Work training(Caches c, double flops, double params, boolean adam, double saved, double io,
                                 String gemm) {
        double bytes = 4 * ((adam ? 10 : 4) * params + 2 * saved + io);
        double workingSet = 4 * ((adam ? 4 : 2) * params + saved + io);
        return new Work(flops, bytes, workingSet, gemm, 0);
    }

    /** "512MiB", "16MiB", "512KiB", "1024K" (as /sys writes it) -> bytes. */
    static long bytes(String size) {
        String s = size.trim();
        long unit = s.endsWith("GiB") || s.endsWith("G") ? 1L << 30 : s.endsWith("MiB") || s.endsWith("M") ? 1L << 20
                : s.endsWith("KiB") || s.endsWith("K") ? 1L << 10 : 1;
        String digits = s.replaceAll("[A-Za-z]+$", "");
        try {
            return Math.multiplyExact(Long.parseLong(digits), unit);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Limits: size '" + size + "' is not a count of B, KiB, MiB or GiB");
        }
    }

    // ---- the table --------------------------------------------------------------------------------------

    /** A row of the table: a workload's benchmark row and its model; null model rows are skipped. */
    private record Line(String name, Row row, Work work) {
    }

    /** The benchmark's time per op in seconds: the median of its iterations where JMH gave one, else the mean. */
    static double seconds(Row r) {
        return secondsOfScore(r.withMedianScore());
    }

    /** The time per op in seconds that the row's score says (JMH's mean, unless the row was given its median). */
    static double secondsOfScore(Row r) {
        double ms = Report.millis(r);
        if (!Double.isNaN(ms)) {
            return ms * 1e-3;
        }
        // a throughput (ops per time unit): one op takes its inverse
        double perUnit = r.score();
        String unit = r.unit();
        double unitSeconds = unit.endsWith("/ms") ? 1e-3 : unit.endsWith("/us") ? 1e-6 : unit.endsWith("/ns") ? 1e-9
                : unit.endsWith("/min") ? 60 : unit.endsWith("/s") ? 1 : Double.NaN;
        return unitSeconds / perUnit;
    }

    /** GB/s of a MemoryBandwidthBench row: its buffer's bytes per op over the time per op. */
    static Double bandwidth(Row r) {
        if (!r.benchmark().startsWith("MemoryBandwidthBench") || !r.params().containsKey("buffer")) {
            return null;
        }
        return bytes(r.params().get("buffer")) / seconds(r) / 1e9;
    }

    /**
     * The run's gemm GFLOP/s at mnk: GemmBench on the openblas backend (OpenBLAS's sgemm, or the packed product where
     * OpenBlasBackend.packedGemmPays), else FfmGemmBench (cblas_sgemm); null if neither ran.
     */
    static Double sgemm(List<Row> rows, String mnk) {
        for (String bench : List.of("GemmBench.gemm", "FfmGemmBench.cblasSgemm")) {
            for (Row r : rows) {
                if (r.benchmark().equals(bench) && mnk.equals(r.params().get("mnk"))
                        && !"java".equals(r.params().get("backend")) && !"cuda".equals(r.params().get("backend"))) {
                    int[] d = Params.dims("mnk", mnk, "MxNxK");
                    return 2.0 * d[0] * d[1] * d[2] / seconds(r) / 1e9;
                }
            }
        }
        return null;
    }

    /**
     * The GFLOP/s of seq4j's packed product at mnk (PackedGemmBench.product, variant F32: gemmPacked over B packed
     * once, as the recurrences run it); null if the run did not time it.
     */
    static Double packedGemm(List<Row> rows, String mnk) {
        for (Row r : rows) {
            if (r.benchmark().equals("PackedGemmBench.product") && mnk.equals(r.params().get("mnk"))
                    && "F32".equals(r.params().get("variant")) && SEQ4J.test(r)) {
                int[] d = Params.dims("mnk", mnk, "MxNxK");
                return 2.0 * d[0] * d[1] * d[2] / seconds(r) / 1e9;
            }
        }
        return null;
    }

    /**
     * The compute reference at mnk, named as the table shows it, and its GFLOP/s: the faster of sgemm and, at
     * RECURRENT_GEMM (W1's h.Wh), the packed product (packedGemm: what W1's recurrent products run) among those the
     * run timed (a bound takes the best rate the machine showed); null if neither ran.
     */
    static Map.Entry<String, Double> gemmRate(List<Row> rows, String mnk) {
        Double packed = mnk.equals(RECURRENT_GEMM) ? packedGemm(rows, mnk) : null;
        Double g = sgemm(rows, mnk);
        if (packed != null && (g == null || packed >= g)) {
            return Map.entry("packed " + mnk, packed);
        }
        return g == null ? null : Map.entry("gemm " + mnk, g);
    }

    /** The best sgemm GFLOP/s of the run, and its size. */
    private static Map.Entry<String, Double> bestSgemm(List<Row> rows) {
        Map.Entry<String, Double> best = null;
        for (Row r : rows) {
            String mnk = r.params().get("mnk");
            Double g = mnk == null || !(r.benchmark().startsWith("GemmBench") || r.benchmark().startsWith("FfmGemmBench"))
                    ? null : sgemm(rows, mnk);
            if (g != null && (best == null || g > best.getValue())) {
                best = Map.entry(mnk, g);
            }
        }
        return best;
    }

    /** The run's FMA peak in GFLOP/s (FmaPeakBench, every core, median), null if it did not run. */
    static Double fmaPeak(List<Row> rows) {
        return rows.stream().filter(r -> r.benchmark().equals("FmaPeakBench.fma")).findFirst()
                .map(r -> FmaPeakBench.FLOPS_PER_OP / seconds(r) / 1e9).orElse(null);
    }

    /**
     * The read figure at a level, named by its method, and its GB/s: the faster of MemoryBandwidthBench.readPacked
     * (the packed one-row product the recurrences run) and read (OpenBLAS's sgemv; older runs have only it) at the
     * level's buffer, among those the run timed (a bound takes the best rate the machine showed); null if neither ran.
     */
    static Map.Entry<String, Double> readBandwidth(List<Row> rows, Level level) {
        Map.Entry<String, Double> best = null;
        for (String method : List.of("readPacked", "read")) {
            for (Row r : rows) {
                if (r.benchmark().equals("MemoryBandwidthBench." + method)
                        && level.buffer.equals(r.params().get("buffer"))) {
                    double gbs = bandwidth(r);
                    if (best == null || gbs > best.getValue()) {
                        best = Map.entry(method, gbs);
                    }
                }
            }
        }
        return best;
    }

    private static final Predicate<Row> SEQ4J = r -> !"java".equals(r.params().get("backend"))
            && !"pytorch".equals(r.params().get("backend")) && !"cuda".equals(r.params().get("backend"));

    /** The workloads of the run with their models, in table order; absent benchmarks give no line. */
    private static List<Line> lines(List<Row> rows, Caches c) {
        List<Line> lines = new ArrayList<>();
        for (Row r : rows) {
            if (!SEQ4J.test(r)) {
                continue;
            }
            Map<String, String> p = r.params();
            int whBytes = p.getOrDefault("precision", "F32").equalsIgnoreCase("BF16") ? 2 : 4; // PackedMatrix.Precision
            Work w = switch (r.benchmark()) {
                case "W1Seq2seqStepBench.step" -> w1(c);
                case "W2LstmStepBench.forwardBackward" -> w2(c, Integer.parseInt(p.getOrDefault("h", "650")),
                        Integer.parseInt(p.getOrDefault("t", "35")));
                case "W3LstmInferenceBench.encode" -> w3(c, whBytes);
                case "W4AttentionStepBench.step" -> w4(c);
                default -> r.benchmark().startsWith("DateInferenceBench.")
                        ? dateInference(c, questions(p), whBytes) : null;
            };
            if (w != null) {
                lines.add(new Line(name(r.benchmark()), r, w));
            }
        }
        return lines;
    }

    /** A workload's name in the table. */
    private static String name(String benchmark) {
        return benchmark.startsWith("W1") ? "W1 addition seq2seq step" : benchmark.startsWith("W2") ? "W2 LSTM fwd+bwd"
                : benchmark.startsWith("W3") ? "W3 LSTM inference N=1" : benchmark.startsWith("W4")
                ? "W4 attention seq2seq step" : "date model, batched inference";
    }

    /** The workloads that scripts/bench limits always runs (Report --limits): each gets a line, a result or not. */
    static final List<String> SUITE = List.of("W1Seq2seqStepBench.step", "W2LstmStepBench.forwardBackward",
            "W3LstmInferenceBench.encode", "W4AttentionStepBench.step");

    /** Questions a DateInferenceBench op answers: its batch parameter (n, N, batch), 1 if it has none. */
    static int questions(Map<String, String> p) {
        for (String key : List.of("n", "N", "batch", "batchSize")) {
            if (p.containsKey(key)) {
                return Integer.parseInt(p.get(key));
            }
        }
        return 1;
    }

    /** The limits table of whichever workloads ran (see the three-argument table). */
    static String table(List<Row> rows, Caches c) {
        return table(rows, c, List.of());
    }

    /**
     * The limits table in markdown (no section markers): the same run's references, one line per workload, notes.
     * Each benchmark of expected (SUITE for scripts/bench limits) that has no seq4j row gets a line saying so: a
     * workload whose benchmark failed is not left out unnoticed.
     */
    static String table(List<Row> rows, Caches c, List<String> expected) {
        StringBuilder sb = new StringBuilder();
        sb.append("\nLimits: each workload's FLOPs and bytes per operation (counted from its shapes by `Limits.java`), ")
                .append("the time it could not beat at this run's gemm rate and memory bandwidth, and its share of that ")
                .append("time (limit = the larger bound; 100% = at the limit). Times are medians of the JMH iterations.\n\n");
        sb.append("Same-run references: ");
        List<String> refs = new ArrayList<>();
        for (String mnk : List.of(W2_GEMM, RECURRENT_GEMM)) {
            Double g = sgemm(rows, mnk);
            if (g != null) {
                refs.add(String.format(Locale.ROOT, "gemm %s %.1f GFLOP/s", mnk, g));
            }
        }
        Double packed = packedGemm(rows, RECURRENT_GEMM);
        if (packed != null) {
            refs.add(String.format(Locale.ROOT, "packed %s %.1f GFLOP/s (PackedGemmBench.product, F32)", RECURRENT_GEMM,
                    packed));
        }
        for (Row r : rows) {
            Double bw = bandwidth(r);
            if (bw != null) {
                refs.add(String.format(Locale.ROOT, "%s %s %.1f GB/s", r.benchmark().substring(r.benchmark().indexOf('.') + 1),
                        r.params().get("buffer"), bw));
            }
        }
        Double peak = fmaPeak(rows);
        if (peak != null) {
            refs.add(String.format(Locale.ROOT, "FMA peak %.1f GFLOP/s (FmaPeakBench, every core)", peak));
        }
        sb.append(refs.isEmpty() ? "(none ran)" : String.join("; ", refs)).append(String.format(Locale.ROOT,
                " (caches: L2 %d KiB, the cores' distinct L2s together, L3 %d MiB).%n%n", c.l2Total() >> 10,
                c.l3() >> 20));
        boolean peers = rows.stream().anyMatch(r -> "pytorch".equals(r.params().get("backend")));
        sb.append("| workload | parameters | time (median) | MFLOP/op | MB/op | compute bound | memory bound | % of limit |")
                .append(peak != null ? " at the FMA peak |" : "")
                .append(peers ? " PyTorch median (mean) |" : "").append("\n|---|---|---:|---:|---:|---|---|---:|")
                .append(peak != null ? "---:|" : "").append(peers ? "---:|" : "").append('\n');
        Map.Entry<String, Double> best = bestSgemm(rows);
        List<Line> ran = lines(rows, c);
        for (Line l : ran) {
            Work w = l.work();
            Map.Entry<String, Double> rate = w.gemmSize() == null ? null : gemmRate(rows, w.gemmSize());
            if (rate == null && best != null) {
                rate = Map.entry("gemm " + best.getKey(), best.getValue());
            }
            Double gflops = rate == null ? null : rate.getValue();
            Level level = c.level(w.workingSet());
            Map.Entry<String, Double> read = readBandwidth(rows, level);
            Double bw = read == null ? null : read.getValue();
            double t = seconds(l.row());
            double tc = gflops == null ? Double.NaN : w.flops() / (gflops * 1e9);
            double tm = bw == null ? Double.NaN : w.bytes() / (bw * 1e9);
            double limit = Double.isNaN(tc) ? tm : Double.isNaN(tm) ? tc : Math.max(tc, tm);
            String time = time(t) + (w.questions() > 0 ? String.format(Locale.ROOT, " (%.0f questions/s)",
                    w.questions() / t) : "");
            sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %.1f | %.2f | %s | %s | %s |", l.name(),
                    paramsOf(l.row()), time, w.flops() / 1e6, w.bytes() / 1e6,
                    Double.isNaN(tc) ? "-" : String.format(Locale.ROOT, "%s at %.1f GFLOP/s (%s)", time(tc), gflops,
                            rate.getKey()),
                    Double.isNaN(tm) ? "-" : String.format(Locale.ROOT, "%s at %.1f GB/s (%s, %s %s)", time(tm), bw,
                            level, read.getKey(), level.buffer),
                    Double.isNaN(limit) ? "-" : String.format(Locale.ROOT, "%.0f%%", 100 * limit / t)));
            if (peak != null) { // the FLOPs alone at the FMA peak: no step can be faster, whatever its kernels
                double tp = w.flops() / (peak * 1e9);
                sb.append(String.format(Locale.ROOT, " %s (%.0f%%) |", time(tp), 100 * tp / t));
            }
            if (peers) {
                Row peer = rows.stream().filter(o -> o.benchmark().equals("Peer" + l.row().benchmark())
                                && "pytorch".equals(o.params().get("backend"))
                                && o.paramsWithout("backend", "precision").equals(l.row().paramsWithout("backend", "precision")))
                        .findFirst().orElse(null);
                sb.append(peer == null ? " - |" : String.format(Locale.ROOT, " %s (%s) |", time(seconds(peer)),
                        time(Report.millis(peer) * 1e-3)));
            }
            sb.append('\n');
        }
        for (String bench : expected) {
            if (ran.stream().noneMatch(l -> l.row().benchmark().equals(bench))) {
                sb.append("| ").append(name(bench)).append(" |  | no result: its benchmark failed or did not run (see ")
                        .append("the run's log) | - | - | - | - | - |").append(peak != null ? " - |" : "")
                        .append(peers ? " - |" : "").append('\n');
            }
        }
        sb.append("\nThe model (`bench/src/main/java/org/seq4j/bench/Limits.java`): FLOPs are the GEMMs' 2mnk that must ")
                .append("be done (a recurrent product from h_0 = 0 is not, nor an embedding's input product over N T ")
                .append("rows where its V-row folded table replaces it: in W1's and W4's training steps the table's V ")
                .append("rows instead, once a step, and in inference (W3, the date model's encoder and decoder) none ")
                .append("at all, the table being made once, outside the timing, and a step gathering its rows), three ")
                .append("times each in training (forward, dW, dX), plus attention's batched products; elementwise ")
                .append("work (cells, softmax, Adam) is not counted (under 3% of the GEMMs' FLOPs here). Bytes: in ")
                .append("training each parameter 10 x 4 B with Adam (forward reads W; backward reads W, writes dW; ")
                .append("Adam reads W, m, v, dW, writes W, m, v), 4 x 4 B without (W2), every value saved for the ")
                .append("backward written once and read once, attention's hs read 4 times a decoder step; in ")
                .append("inference the recurrent Wh read at every step it multiplies (bf16: 2 B an element), the ")
                .append("folded table's rows gathered instead of Wx and b (N a step, at most V distinct, 4H floats ")
                .append("each), per-step weights every step, the rest once. The bandwidth is the read figure at the ")
                .append("cache level the working set fits (the cores' distinct L2s together, half the shared L3, else ")
                .append("DRAM), named in the memory bound's cell: the faster at that level of ")
                .append("`MemoryBandwidthBench.readPacked`, seq4j's packed product (gemmPacked) of one row by the ")
                .append("buffer packed once as (R, 1024), the kernel the recurrences run over a packed Wh (W3's at ")
                .append("every step), and `MemoryBandwidthBench.read`, the openblas backend's 1-row gemm over the ")
                .append("buffer as stored (OpenBLAS's sgemv split by columns over the 2-thread pool; older runs have ")
                .append("only it, and W3's packed steps outran it). The compute bound uses, for W1, the faster of ")
                .append("seq4j's packed product at its h.Wh 128x512x128 (PackedGemmBench.product, F32; the cell says ")
                .append("\"packed\"), what W1's recurrent products run over Wh packed once a pass, and OpenBLAS's ")
                .append("sgemm there, which packs both operands at every call; otherwise the openblas backend's gemm (GemmBench: ")
                .append("OpenBLAS's sgemm, or seq4j's packed product where OpenBlasBackend runs it there) at the ")
                .append("workload's dominant GEMM shape where this run timed it (W1: its h.Wh 128x512x128; W2: its x.Wx), ")
                .append("else the run's best gemm. Bounds are lower bounds on time; a share above 100% means the model ")
                .append("counts more than the workload must move or the reference ran slower than the workload's kernels.")
                .append(peak == null ? "" : " \"At the FMA peak\": the time the FLOPs alone take at the machine's peak "
                        + "(FmaPeakBench: independent FMA chains on registers, every core), and that time's share of the "
                        + "workload's: the floor no kernel can go under (cells, softmax, Adam and memory come on top).")
                .append(peers && ran.stream().anyMatch(l -> l.row().benchmark().startsWith("W3"))
                        ? " " + Report.W3_PEER_NOTE : "")
                .append('\n');
        return sb.toString();
    }

    private static String paramsOf(Row r) {
        StringBuilder sb = new StringBuilder();
        r.params().forEach((k, v) -> {
            if (!k.equals("backend")) {
                sb.append(sb.isEmpty() ? "" : ", ").append(k).append('=').append(v);
            }
        });
        return sb.toString();
    }

    /** Seconds as us, ms or s, three significant digits. */
    static String time(double s) {
        if (Double.isNaN(s)) {
            return "?";
        }
        return s < 1e-3 ? String.format(Locale.ROOT, "%.3g us", s * 1e6) : s < 1 ? String.format(Locale.ROOT, "%.3g ms", s * 1e3)
                : String.format(Locale.ROOT, "%.3g s", s);
    }
}
