// Report's header lines for the OpenBLAS core, C clone and environment, its ratios against another run
// (scripts/bench --both-openblas), the medians it reads from JMH JSON and the figures it derives from them
// (GB/s, ratios to PyTorch on medians): on made-up rows and JSON, no JMH run.
package org.seq4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {

    private static Report.Row row(String bench, String mnk, double score, String unit) {
        return new Report.Row(bench, mnk == null ? Map.of() : Map.of("mnk", mnk), score, 0.1, unit, "25", Double.NaN);
    }

    /**
     * The numpy table sets each workload beside its own benchmark: W1 beside the LSTM's step (the GRU's twin, which
     * JMH sorts first, was taken for it), W3 beside its F32 encode.
     */
    @Test
    void theNumpyTableComparesEachWorkloadWithItsOwnBenchmark() {
        List<Report.Row> rows = List.of(
                new Report.Row("W1GruSeq2seqStepBench.step", Map.of("backend", "openblas"), 9.0, 0.1, "ms/op", "25",
                        Double.NaN),
                new Report.Row("W1Seq2seqStepBench.gemmsOnly", Map.of("backend", "openblas"), 5.0, 0.1, "ms/op", "25",
                        Double.NaN),
                new Report.Row("W1Seq2seqStepBench.step", Map.of("backend", "openblas"), 11.0, 0.1, "ms/op", "25",
                        Double.NaN),
                new Report.Row("W3LstmInferenceBench.encode", Map.of("backend", "openblas", "precision", "BF16"), 80.0,
                        0.1, "us/op", "25", Double.NaN),
                new Report.Row("W3LstmInferenceBench.encode", Map.of("backend", "openblas", "precision", "F32"), 120.0,
                        0.1, "us/op", "25", Double.NaN));
        String md = Report.render("peers", "c", rows, List.of(), List.of(
                "{\"workload\": \"W1\", \"sizes\": {\"V\": 13}, \"median_ms\": 10.0}",
                "{\"workload\": \"W3\", \"sizes\": {\"H\": 256}, \"median_ms\": 0.4}"));
        assertTrue(md.contains("| W1 | {\"V\":13} | 10.000 | 11.000 | 1.10 |"), md);
        assertTrue(md.contains("| W3 | {\"H\":256} | 0.400 | 0.120 | 0.30 |"), md);
    }

    @Test
    void headerNamesTheCoreTheCloneAndTheEnvironmentAfterTheOpenBlasLine() {
        String md = "### s\n\n- command: `c`\n- OpenBLAS: desc\n\n| table |\n";
        Map<String, String> facts = new LinkedHashMap<>();
        facts.put("OpenBLAS core", "Haswell");
        facts.put("OpenBLAS config", "OpenBLAS 0.3.31 DYNAMIC_ARCH Haswell");
        facts.put("seq4j C clone", "kernels: x86-64-v3 (AVX2+FMA)");
        facts.put("environment", "OPENBLAS_CORETYPE=Haswell, OPENBLAS_L2_SIZE=(unset), SEQ4J_CPU_ISA=avx2");
        String out = Report.withRuntime(md, "the environment as it is, OpenBLAS core Haswell", facts);
        assertEquals("### s\n\n- command: `c`\n- OpenBLAS: desc\n"
                + "- OpenBLAS variant: the environment as it is, OpenBLAS core Haswell\n"
                + "- OpenBLAS core that ran: Haswell (config: `OpenBLAS 0.3.31 DYNAMIC_ARCH Haswell`)\n"
                + "- seq4j C clone that ran: kernels: x86-64-v3 (AVX2+FMA)\n"
                + "- environment: OPENBLAS_CORETYPE=Haswell, OPENBLAS_L2_SIZE=(unset), SEQ4J_CPU_ISA=avx2\n"
                + "\n| table |\n", out);
        assertFalse(Report.withRuntime(md, null, facts).contains("variant"), "no variant line by default");
        assertFalse(out.contains("core-to-core"), "no latency line without the fact");
        facts.put("core-to-core", "61 ns one way");
        assertTrue(Report.withRuntime(md, null, facts).contains("\n- core-to-core latency: 61 ns one way ("),
                "the latency line after the environment's");
        facts.put("core-to-core at the start", "229 ns one way (half the median round trip of 100000, two threads)");
        assertTrue(Report.withRuntime(md, null, facts).contains("- core-to-core latency: 61 ns one way at the end of the "
                + "run, 229 ns one way (half the median round trip of 100000, two threads) at its start ("),
                "both ends of the run where scripts/bench measured its start");
    }

    @Test
    void gflopsOfAPackedProductCountsATransposedShapeAsItsProduct() {
        // 2 * 128 * 128 * 512 = 16.777216 MFLOP in 100 us = 167.77 GFLOP/s, with or without the T of Wh^T
        assertEquals(167.77216, Report.gflops(row("PackedGemmBench.product", "128x128x512T", 100, "us/op")), 1e-9);
        assertEquals(167.77216, Report.gflops(row("PackedGemmBench.product", "128x512x128", 100, "us/op")), 1e-9);
        assertNull(Report.gflops(row("PackedGemmBench.pack", "128x512x128", 100, "us/op")), "a pack does no FLOPs");
    }

    @Test
    void factsNameEveryEnvironmentVariableSetOrNot() {
        String env = WhichOpenBlas.facts().get("environment");
        for (String name : WhichOpenBlas.ENV) {
            String v = System.getenv(name);
            assertTrue(env.contains(name + "=" + (v == null ? "(unset)" : v)), env);
        }
    }

    @Test
    void versusDividesTimesOfTheSameBenchmarkAndParametersOnly() {
        List<Report.Row> here = List.of(row("GemmBench.gemm", "64x64x64", 10, "us/op"),
                row("GemmBench.gemm", "128x128x128", 30, "us/op"), row("T.ops", null, 4, "ops/ms"));
        List<Report.Row> there = List.of(row("GemmBench.gemm", "128x128x128", 20, "us/op"),
                row("GemmBench.gemm", "64x64x64", 40, "us/op"), row("T.ops", null, 2, "ops/ms"));
        String md = Report.versus(here, "the other", there);
        assertTrue(md.contains("| GemmBench.gemm | mnk=64x64x64 | 10.0 us/op | 40.0 us/op | 0.25 |"), md);
        assertTrue(md.contains("| GemmBench.gemm | mnk=128x128x128 | 30.0 us/op | 20.0 us/op | 1.50 |"), md);
        // a throughput: twice the operations per ms is half the time
        assertTrue(md.contains("| T.ops |  | 4.00 ops/ms | 2.00 ops/ms | 0.50 |"), md);
        String none = Report.versus(here, "the other", List.of(row("Other.x", null, 1, "us/op")));
        assertTrue(none.contains("no benchmark ran in both"), none);
    }

    /** A JMH JSON result as JMH writes it (the fields Report reads), mean and median given. */
    private static String result(String benchmark, String params, double mean, double median, String unit) {
        return """
                {"jmhVersion": "1.37", "benchmark": "org.seq4j.bench.%s", "mode": "avgt", "threads": 1, "forks": 1,
                 "jdkVersion": "25.0.3", "vmName": "OpenJDK 64-Bit Server VM", "params": {%s},
                 "primaryMetric": {"score": %s, "scoreError": 0.5, "scoreConfidence": [0, 1],
                   "scorePercentiles": {"0.0": 1.0, "50.0": %s, "90.0": 9.0, "100.0": 10.0},
                   "scoreUnit": "%s", "rawData": [[1.0, 2.0]]},
                 "secondaryMetrics": {}}""".formatted(benchmark, params, mean, median, unit);
    }

    @Test
    void readsTheMedianOfTheIterationsNextToTheMean(@TempDir Path dir) throws IOException {
        Path json = dir.resolve("r.json");
        Files.writeString(json, "[" + result("MemoryBandwidthBench.read", "\"buffer\": \"1MiB\"", 5.0, 4.0, "us/op")
                + ",\n" + "{\"benchmark\": \"org.seq4j.bench.X.y\", \"jdkVersion\": \"25\", \"vmName\": \"v\", "
                + "\"primaryMetric\": {\"score\": 3.0, \"scoreError\": \"NaN\", \"scoreUnit\": \"us/op\"}}]");
        List<Report.Row> rows = Report.read(json);
        assertEquals(5.0, rows.get(0).score());
        assertEquals(4.0, rows.get(0).median());
        assertEquals(Map.of("buffer", "1MiB"), rows.get(0).params());
        assertTrue(Double.isNaN(rows.get(1).median()), "no scorePercentiles: no median");
        assertEquals(3.0, rows.get(1).withMedianScore().score(), "the mean stands in for a missing median");
        // 1 MiB in the median's 4 us: 1,048,576 / 4e-6 = 262.1 GB/s
        assertEquals(262.144, Limits.bandwidth(rows.get(0)), 1e-9);
        assertEquals(null, Limits.bandwidth(rows.get(1)));
    }

    @Test
    void peersShowTheirMedianAndRatiosToThemAreTakenOnMedians(@TempDir Path dir) throws IOException {
        Path json = dir.resolve("peers.json");
        Files.writeString(json, "[" + result("W1Seq2seqStepBench.step", "\"backend\": \"openblas\"", 5.0, 4.0, "ms/op")
                + ",\n" + result("peers.PeerW1Seq2seqStepBench.step", "\"backend\": \"pytorch\"", 30.0, 10.0, "ms/op")
                + ",\n" + result("MemoryBandwidthBench.copy", "\"buffer\": \"16MiB\"", 100.0, 100.0, "us/op") + "]");
        String md = Report.render("peers", "c", Report.read(json), List.of(), List.of());
        // 4 / 10 on medians (5 / 30 = 0.17 on means)
        assertTrue(md.contains("| W1Seq2seqStepBench.step | backend=openblas | 5.00 ± 0.500 | ms/op | 0.40x the time of "
                + "pytorch (medians) |"), md);
        assertTrue(md.contains("| PeerW1Seq2seqStepBench.step | backend=pytorch | 30.0 ± 0.500 | ms/op | median 10.0 "
                + "ms/op (mean / median 3.00) |"), md);
        assertTrue(md.contains("every ratio to a peer is taken on medians"), md);
        // 16 MiB in 100 us: 167.8 GB/s
        assertTrue(md.contains("| MemoryBandwidthBench.copy | buffer=16MiB | 100.0 ± 0.500 | us/op | 167.8 GB/s |"), md);
    }

    @Test
    void tablesWithAllocationsSayWhatProfGcSeesAndW3AgainstItsPeerWhatIsTimed(@TempDir Path dir) throws IOException {
        Path json = dir.resolve("r.json");
        Files.writeString(json, "[" + result("W3LstmInferenceBench.encode", "\"backend\": \"openblas\"", 300, 280,
                "us/op")
                + ",\n" + result("MemoryBandwidthBench.read", "\"buffer\": \"1MiB\"", 5.0, 4.0, "us/op") + "]");
        List<Report.Row> plain = Report.read(json);
        String md = Report.render("s", "c", plain, List.of(), List.of());
        assertFalse(md.contains("-prof gc"), "no B/op, no note: " + md);
        assertFalse(md.contains(Report.W3_PEER_NOTE), "no peer, no note: " + md);
        // the same with -prof gc's figure on seq4j's rows and W3's peer in the run
        List<Report.Row> rows = new java.util.ArrayList<>(plain.stream().map(r -> new Report.Row(r.benchmark(),
                r.params(), r.score(), r.error(), r.unit(), r.jdk(), 12, r.median())).toList());
        rows.add(new Report.Row("PeerW3LstmInferenceBench.encode", Map.of("backend", "pytorch"), 700, 1, "us/op", "25",
                Double.NaN, 650));
        md = Report.render("s", "c", rows, List.of(), List.of());
        assertTrue(md.contains("| us/op | 262.1 GB/s, 12 B/op allocated |"), md);
        assertTrue(md.contains("\n" + Report.ALLOC_NOTE + " " + Report.W3_PEER_NOTE + "\n"), md);
        assertTrue(Report.ALLOC_NOTE.contains("seq4j's side only") && Report.ALLOC_NOTE.contains("off the Java heap"));
        assertTrue(Report.W3_PEER_NOTE.contains("outside the timing")
                && Report.W3_PEER_NOTE.contains("x.Wx at every call"));
    }
}
