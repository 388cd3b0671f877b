// Limits' FLOP and byte counts against hand calculations from the workloads' shapes, and its table on a made-up
// run (no JMH): the bounds, the cache level chosen and the share of the limit.
package org.seq4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LimitsTest {

    /** Both cores' L2 (2 x 1 MiB) and a 32 MiB L3, as on the Zen 4 VM. */
    private static final Limits.Caches ZEN4 = new Limits.Caches(2L << 20, 32L << 20);

    @Test
    void w1CountsItsGemmsThreeTimesAndItsBytesByParameterAndSavedValue() {
        // By hand, V=13, D=16, H=128 (4H = 512), N=128, 7 steps in, 4 out:
        //   encoder x.Wx  folded: the table's 13 rows, 2 * 13 * 512 * 16 = 212,992 (896 rows: 14,680,064)
        //   encoder h.Wh  6 products (h_0 = 0) * 2*128*512*128 = 6 * 16,777,216 = 100,663,296
        //   decoder x.Wx  folded: 212,992 (512 rows: 8,388,608)
        //   decoder h.Wh  4 * 16,777,216                   =  67,108,864
        //   affine        2 * (128*4) * 13 * 128           =   1,703,936
        //   forward 169,902,080; forward + dW + dX: x3     = 509,706,240 (unfolded 577,634,304)
        // Parameters: per side embed 13*16=208, Wx 16*512=8,192, Wh 128*512=65,536, b 512 -> 74,448, twice
        //   = 148,896; affine 128*13 + 13 = 1,677; total 150,573.
        // Saved floats: encoder 896 rows * (16 + 6*128) = 702,464; decoder 512 * 784 = 401,408; affine
        //   512 * (128 + 13) = 72,192; total 1,176,064.
        // Bytes 4 * (10 * 150,573 + 2 * 1,176,064) = 4 * 3,857,858 = 15,431,432.
        // Working set 4 * (4 * 150,573 + 1,176,064) = 7,113,424: over 2 MiB, under 16 MiB -> L3.
        Limits.Work w = Limits.w1(ZEN4);
        assertEquals(509_706_240.0, w.flops());
        assertEquals(15_431_432.0, w.bytes());
        assertEquals(7_113_424.0, w.workingSet());
        assertEquals(Limits.Level.L3, ZEN4.level(w.workingSet()));
        assertEquals("128x512x128", w.gemmSize());
    }

    @Test
    void w2CountsItsRecurrentProductsFromTheSecondStep() {
        // By hand, N=64, T=35, D=H=650 (4H = 2600):
        //   x.Wx for all steps 2 * 2240 * 2600 * 650 = 7,571,200,000
        //   h.Wh, 34 products  2 * 64 * 34 * 2600 * 650 = 7,354,880,000
        //   x3 (forward, dW, dX) = 44,778,240,000 (Workloads.lstmStepFlops the same)
        // Parameters (650 + 650 + 1) * 2600 = 3,382,600; saved 2240 * (650 + 3900) = 10,192,000;
        //   dhs + dxs 2 * 2240 * 650 = 2,912,000.
        // Bytes 4 * (4 * 3,382,600 + 2 * 10,192,000 + 2,912,000) = 4 * 36,826,400 = 147,305,600.
        // Working set 4 * (2 * 3,382,600 + 10,192,000 + 2,912,000) = 79,476,800 -> DRAM.
        Limits.Work w = Limits.w2(ZEN4, 650, 35);
        assertEquals(44_778_240_000.0, w.flops());
        assertEquals(147_305_600.0, w.bytes());
        assertEquals(79_476_800.0, w.workingSet());
        assertEquals(Limits.Level.DRAM, ZEN4.level(w.workingSet()));
        assertEquals("2240x2600x650", w.gemmSize());
        assertEquals(null, Limits.w2(ZEN4, 128, 8).gemmSize(), "the sweep's other sizes use the run's best sgemm");
    }

    @Test
    void w3ReadsWhAtEveryStepButTheFirstAndHalvesItInBf16AndGathersItsFoldedInput() {
        // By hand: 28 products 2 * 256 * 1024 = 28 * 524,288 = 14,680,064 FLOPs; no x.Wx (2 * 29 * 1024 * 16 =
        // 950,272 unfolded): the table E Wx + b is made in setUp, and an encode gathers a row of it a step.
        // Bytes: Wh 28 * 1 MiB = 29,360,128, 29 rows of 4H floats 29 * 4,096 = 118,784 (not Wx and b, 69,632)
        // -> 29,478,912; in bf16 28 * 512 KiB + 118,784 = 14,798,848. Working set 1,167,360 (within the L2s).
        Limits.Work f32 = Limits.w3(ZEN4, 4), bf16 = Limits.w3(ZEN4, 2);
        assertEquals(14_680_064.0, f32.flops());
        assertEquals(29_478_912.0, f32.bytes());
        assertEquals(14_798_848.0, bf16.bytes());
        assertEquals(1_167_360.0, f32.workingSet());
        assertEquals(Limits.Level.L2, ZEN4.level(f32.workingSet()));
    }

    @Test
    void dateInferenceScalesItsFlopsWithTheBatchButNotItsWeightReads() {
        // By hand, per question, both LSTMs folded (no x.Wx: 950,272 in the encoder, 10 * 32,768 in the decoder
        // unfolded): encoder 14,680,064 (as W3); decoder 10 steps of h.Wh 524,288 + attention 2 * 2 * 29 * 256 =
        // 29,696 + affine 2 * 512 * 59 = 60,416 -> 10 * 614,400 = 6,144,000; total 20,824,064.
        Limits.Work one = Limits.dateInference(ZEN4, 1, 4), many = Limits.dateInference(ZEN4, 64, 4);
        assertEquals(20_824_064.0, one.flops());
        assertEquals(64 * 20_824_064.0, many.flops());
        // the weights are read once per step whatever the batch: only hs's reads grow (2 a step, 29 * 256 * 4 B), and
        // the folded tables' rows gathered, a row a question a step but at most V = 59 distinct (4,096 B each): 58
        // more a step over the 39 steps (29 encoder, 10 decoder)
        assertEquals(63 * 2 * 10 * 29 * 256 * 4.0 + 39 * 58 * 4096.0, many.bytes() - one.bytes());
        assertEquals(64, many.questions());
        assertEquals(64, Limits.questions(Map.of("n", "64")));
        assertEquals(1, Limits.questions(Map.of()));
    }

    @Test
    void timesComeFromTheMedianInEitherJmhMode() {
        // 500 ops/s: 2 ms an op; a mean-only row (no median) falls back to the mean
        assertEquals(0.002, Limits.seconds(row("T.x", Map.of(), 400, 500, "ops/s")), 1e-15);
        assertEquals(0.004, Limits.seconds(row("T.x", Map.of(), 4, Double.NaN, "ms/op")), 1e-15);
        assertEquals(2e-6, Limits.seconds(row("T.x", Map.of(), 1, 0.5, "ops/us")), 1e-18);
        assertEquals("1.47 s", Limits.time(1.4737));
        assertEquals("281 us", Limits.time(280.66e-6));
    }

    @Test
    void sizesParseAsBinaryUnits() {
        assertEquals(512L << 20, Limits.bytes("512MiB"));
        assertEquals(1024L << 10, Limits.bytes("1024K"));
        assertEquals(512L << 10, Limits.bytes("512KiB"));
        assertThrows(IllegalArgumentException.class, () -> Limits.bytes("lots"));
    }

    /** Parameters in JMH's order (as Report.read keeps them). */
    private static Map<String, String> ordered(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    private static Report.Row row(String bench, Map<String, String> params, double mean, double median, String unit) {
        return new Report.Row(bench, params, mean, 0.1, unit, "25", Double.NaN, median);
    }

    @Test
    void tableBoundsEachWorkloadByTheLargerOfItsComputeAndMemoryTime() {
        List<Report.Row> rows = List.of(
                // 7,571,200,000 FLOP in 50 ms: 151.424 GFLOP/s; 16,777,216 in 100 us: 167.77216 GFLOP/s
                row("GemmBench.gemm", Map.of("backend", "openblas", "mnk", "2240x2600x650"), 50_000, 50_000, "us/op"),
                row("GemmBench.gemm", Map.of("backend", "openblas", "mnk", "128x512x128"), 120, 100, "us/op"),
                // 1 MiB in 5 us: 209.7152 GB/s; 16 MiB in 100 us: 167.77 GB/s
                row("MemoryBandwidthBench.read", Map.of("buffer", "1MiB"), 5, 5, "us/op"),
                row("MemoryBandwidthBench.read", Map.of("buffer", "16MiB"), 100, 100, "us/op"),
                row("W1Seq2seqStepBench.step", Map.of("backend", "openblas"), 9, 6.8859375, "ms/op"),
                row("W3LstmInferenceBench.encode", Map.of("backend", "openblas", "precision", "F32"), 300, 280.6640625,
                        "us/op"),
                row("W3LstmInferenceBench.encode", Map.of("backend", "java", "precision", "F32"), 3000, 3000, "us/op"));
        String md = Limits.table(rows, ZEN4);
        // W1: compute 509,706,240 / 167.77216e9 = 3.038 ms (its own 128x512x128 sgemm, the median's 100 us);
        // memory 15,431,432 B / 167.77 GB/s = 92 us (L3); 3.038 / 6.886 = 44%
        assertTrue(md.contains("| W1 addition seq2seq step |  | 6.89 ms | 509.7 | 15.43 | 3.04 ms at 167.8 GFLOP/s "
                + "(gemm 128x512x128) | 92.0 us at 167.8 GB/s (L3, read 16MiB) | 44% |"), md);
        // W3: memory 29,478,912 B / 209.7152 GB/s = 140.6 us (L2) over compute 14,680,064 / 167.77e9 = 87.5 us
        // (the run's best sgemm); 140.6 / 280.7 = 50%
        assertTrue(md.contains("| W3 LSTM inference N=1 | precision=F32 | 281 us | 14.7 | 29.48 | 87.5 us at 167.8 "
                + "GFLOP/s (gemm 128x512x128) | 141 us at 209.7 GB/s (L2, read 1MiB) | 50% |"), md);
        assertEquals(2, md.lines().filter(l -> l.startsWith("| W")).count(), "the java reference gets no line: " + md);
        assertFalse(md.contains("PyTorch"), "no peer column without peer rows");
        assertTrue(md.lines().noneMatch(l -> l.startsWith("| date model")), "no batched-inference line without its "
                + "benchmark");
        assertFalse(md.contains("FMA peak"), "no FMA-peak reference or column without FmaPeakBench");
    }

    @Test
    void w4FoldsBothEmbeddedInputsAndCountsAttentionsProducts() {
        // By hand, V=59, D=16, H=256 (4H = 1024), N=128, 29 steps in, 10 out:
        //   encoder x.Wx  folded: 2 * 59 * 1024 * 16        =      1,933,312
        //   encoder h.Wh  28 products * 2*128*1024*256 = 28 * 67,108,864 = 1,879,048,192
        //   decoder x.Wx  folded                            =      1,933,312
        //   decoder h.Wh  10 * 67,108,864                   =    671,088,640
        //   affine        2 * (128*10) * 512 * 59           =     77,332,480
        //   attention     2 * 2 * 128 * 29 * 256 * 10       =     38,010,880
        //   forward 2,669,346,816; x3 = 8,008,040,448
        assertEquals(8_008_040_448.0, Limits.w4(ZEN4).flops());
    }

    @Test
    void tableGivesEachWorkloadsFloorAtTheFmaPeak() {
        List<Report.Row> rows = List.of(
                row("GemmBench.gemm", Map.of("backend", "openblas", "mnk", "128x512x128"), 100, 100, "us/op"),
                // 100,663,296 FLOPs an op, 3,000 ops/s (median): 301.99 GFLOP/s; the mean (2,900) gives Report's 291.92
                row("FmaPeakBench.fma", Map.of(), 2900, 3000, "ops/s"),
                row("W1Seq2seqStepBench.step", Map.of("backend", "openblas"), 9, 6.8859375, "ms/op"));
        assertEquals(301.989888, Limits.fmaPeak(rows), 1e-9);
        assertEquals(291.9235584, Report.gflops(rows.get(1)), 1e-9);
        String md = Limits.table(rows, ZEN4);
        assertTrue(md.contains("FMA peak 302.0 GFLOP/s (FmaPeakBench, every core)"), md);
        // W1: 509,706,240 / 301.989888e9 = 1.688 ms, 1.688 / 6.886 = 25%
        assertTrue(md.contains("| 44% | 1.69 ms (25%) |"), md);
    }

    @Test
    void tableAddsBatchedInferenceAndThePeersMedianWhenTheyRan() {
        List<Report.Row> rows = List.of(
                row("GemmBench.gemm", Map.of("backend", "openblas", "mnk", "128x512x128"), 100, 100, "us/op"),
                // one op = a batch of 64 questions in 2 ms: 32,000 questions/s
                row("DateInferenceBench.answer", Map.of("backend", "openblas", "n", "64"), 2.2, 2, "ms/op"),
                // as DateInferenceBench runs: Throughput, ops (generate calls) per second; 500 calls of 1 question
                row("DateInferenceBench.generate", ordered("backend", "openblas", "n", "1", "precision", "BF16"), 450, 500,
                        "ops/s"),
                row("W4AttentionStepBench.step", Map.of("backend", "openblas"), 80, 80, "ms/op"),
                row("PeerW4AttentionStepBench.step", Map.of("backend", "pytorch"), 300, 100, "ms/op"));
        String md = Limits.table(rows, ZEN4);
        // 64 * 20,824,064 FLOPs
        assertTrue(md.contains("| date model, batched inference | n=64 | 2.00 ms (32000 questions/s) | 1332.7 |"), md);
        // BF16, by hand: Wh 2 B: 38 reads (28 encoder, 10 decoder) * 524,288 = 19,922,944; the folded tables' rows
        // gathered, one a step, 39 * 4,096 = 159,744 (not Wx and b 11 times, 765,952); affine (512 + 1) * 59 * 4 =
        // 121,068 ten times = 1,210,680; hs 29 * 256 * 4 twice a step = 593,920; total 21,887,288
        assertTrue(md.contains("| date model, batched inference | n=1, precision=BF16 | 2.00 ms (500 questions/s) "
                + "| 20.8 | 21.89 |"), md);
        assertTrue(md.contains("| PyTorch median (mean) |"), md);
        assertTrue(md.contains("| 100 ms (300 ms) |"), md);
        assertFalse(md.contains(Report.W3_PEER_NOTE), "W3's note only where W3 is set against its peer");
    }

    @Test
    void aWorkloadOfTheSuiteWithoutAResultGetsALineSayingSo() {
        List<Report.Row> rows = List.of(
                row("GemmBench.gemm", Map.of("backend", "openblas", "mnk", "128x512x128"), 100, 100, "us/op"),
                row("W1Seq2seqStepBench.step", Map.of("backend", "openblas"), 9, 6.8859375, "ms/op"),
                row("W3LstmInferenceBench.encode", Map.of("backend", "openblas", "precision", "F32"), 300, 280, "us/op"),
                // the reference and the peer of W2 ran; seq4j's W2 did not
                row("W2LstmStepBench.forwardBackward", Map.of("backend", "java", "h", "650", "t", "35"), 9, 9, "s/op"),
                row("PeerW2LstmStepBench.forwardBackward", Map.of("backend", "pytorch", "h", "650", "t", "35"), 400, 400,
                        "ms/op"));
        String md = Limits.table(rows, ZEN4, Limits.SUITE);
        String missing = " |  | no result: its benchmark failed or did not run (see the run's log) | - | - | - | - | - | - |";
        assertTrue(md.contains("| W2 LSTM fwd+bwd" + missing), md);
        assertTrue(md.contains("| W4 attention seq2seq step" + missing), md);
        assertEquals(1, md.lines().filter(l -> l.startsWith("| W1 ")).count(), md);
        assertEquals(1, md.lines().filter(l -> l.startsWith("| W3 ")).count(), md);
        assertFalse(Limits.table(rows, ZEN4).contains("no result"), "without a suite, only what ran");
    }

    @Test
    void theMemoryBoundReadsThePackedProductWhereItRanAndSaysSo() {
        List<Report.Row> rows = new java.util.ArrayList<>(List.of(
                row("GemmBench.gemm", Map.of("backend", "openblas", "mnk", "128x512x128"), 100, 100, "us/op"),
                // 1 MiB: read (sgemv) in 8 us, 131.07 GB/s; readPacked in 4 us, 262.144 GB/s
                row("MemoryBandwidthBench.read", Map.of("buffer", "1MiB"), 8, 8, "us/op"),
                row("MemoryBandwidthBench.readPacked", Map.of("buffer", "1MiB"), 4, 4, "us/op"),
                row("W3LstmInferenceBench.encode", Map.of("backend", "openblas", "precision", "F32"), 300, 280.6640625,
                        "us/op")));
        String md = Limits.table(rows, ZEN4);
        // 29,478,912 B / 262.144 GB/s = 112.5 us, 112.5 / 280.7 = 40% (at read's 131.07: 225 us, 80%)
        assertTrue(md.contains("| 112 us at 262.1 GB/s (L2, readPacked 1MiB) | 40% |"), md);
        assertTrue(md.contains("read 1MiB 131.1 GB/s; readPacked 1MiB 262.1 GB/s"), "both among the references: " + md);
        // readPacked slower than read (16 us: 65.5 GB/s): the faster, read, bounds it
        rows.set(2, row("MemoryBandwidthBench.readPacked", Map.of("buffer", "1MiB"), 16, 16, "us/op"));
        assertTrue(Limits.table(rows, ZEN4).contains("| 225 us at 131.1 GB/s (L2, read 1MiB) | 80% |"),
                Limits.table(rows, ZEN4));
        // an older run, read alone: read's figure, named
        rows.remove(2);
        assertTrue(Limits.table(rows, ZEN4).contains("| 225 us at 131.1 GB/s (L2, read 1MiB) | 80% |"),
                Limits.table(rows, ZEN4));
    }

    @Test
    void w1sComputeBoundIsThePackedProductWhereItRan() {
        List<Report.Row> rows = List.of(
                // OpenBLAS's sgemm at 128x512x128: 16,777,216 FLOPs in 100 us, 167.77 GFLOP/s
                row("GemmBench.gemm", Map.of("backend", "openblas", "mnk", "128x512x128"), 100, 100, "us/op"),
                // the packed product: F32 in 80 us, 209.7 GFLOP/s; the other variants and shapes are not W1's reference
                row("PackedGemmBench.product", ordered("backend", "openblas", "mnk", "128x512x128", "variant", "plain"),
                        200, 200, "us/op"),
                row("PackedGemmBench.product", ordered("backend", "openblas", "mnk", "128x512x128", "variant", "BF16"),
                        40, 40, "us/op"),
                row("PackedGemmBench.product", ordered("backend", "openblas", "mnk", "128x128x512T", "variant", "F32"),
                        50, 50, "us/op"),
                row("PackedGemmBench.product", ordered("backend", "openblas", "mnk", "128x512x128", "variant", "F32"),
                        90, 80, "us/op"),
                row("W1Seq2seqStepBench.step", Map.of("backend", "openblas"), 9, 6.8859375, "ms/op"));
        assertEquals(209.7152, Limits.packedGemm(rows, "128x512x128"), 1e-9);
        String md = Limits.table(rows, ZEN4);
        // 509,706,240 / 209.7152e9 = 2.430 ms, 2.430 / 6.886 = 35% (at sgemm's rate 3.04 ms, 44%)
        assertTrue(md.contains("| W1 addition seq2seq step |  | 6.89 ms | 509.7 | 15.43 | 2.43 ms at 209.7 GFLOP/s "
                + "(packed 128x512x128) | - | 35% |"), md);
        assertTrue(md.contains("packed 128x512x128 209.7 GFLOP/s (PackedGemmBench.product, F32)"), md);
        assertTrue(md.contains("gemm 128x512x128 167.8 GFLOP/s"), "sgemm's figure is still a reference: " + md);
        // sgemm faster than the packed product (50 us: 335.5 GFLOP/s): the faster bounds it
        List<Report.Row> faster = new java.util.ArrayList<>(rows);
        faster.set(0, row("GemmBench.gemm", Map.of("backend", "openblas", "mnk", "128x512x128"), 50, 50, "us/op"));
        assertEquals("gemm 128x512x128", Limits.gemmRate(faster, "128x512x128").getKey());
        assertTrue(Limits.table(faster, ZEN4).contains("at 335.5 GFLOP/s (gemm 128x512x128)"), Limits.table(faster, ZEN4));
    }

    /** A cache index of a fake sysfs tree: level, size, shared_cpu_list. */
    private static void index(Path root, int cpu, int i, int level, String size, String shared) throws IOException {
        Path dir = Files.createDirectories(root.resolve("cpu" + cpu + "/cache/index" + i));
        Files.writeString(dir.resolve("level"), level + "\n");
        Files.writeString(dir.resolve("size"), size + "\n");
        Files.writeString(dir.resolve("shared_cpu_list"), shared + "\n");
    }

    @Test
    void anL2SharedBySmtSiblingsCountsOnce(@TempDir Path dir) throws IOException {
        // two CPUs on one core: one 2 MiB L2 (not 4); L3 32 MiB
        Path shared = dir.resolve("shared");
        Files.createDirectories(shared);
        Files.writeString(shared.resolve("online"), "0-1\n");
        for (int cpu = 0; cpu < 2; cpu++) {
            index(shared, cpu, 0, 1, "48K", String.valueOf(cpu));
            index(shared, cpu, 1, 2, "2048K", "0-1");
            index(shared, cpu, 2, 3, "32768K", "0-1");
        }
        assertEquals(new Limits.Caches(2L << 20, 32L << 20), Limits.Caches.of(shared, 2));
        // two cores: two L2s; a third CPU that is offline (not in "online") does not count
        Path separate = dir.resolve("separate");
        Files.createDirectories(separate);
        Files.writeString(separate.resolve("online"), "0-1\n");
        for (int cpu = 0; cpu < 3; cpu++) {
            index(separate, cpu, 0, 1, "48K", String.valueOf(cpu));
            index(separate, cpu, 1, 2, "2048K", String.valueOf(cpu));
            index(separate, cpu, 2, 3, "32768K", "0-2");
        }
        assertEquals(new Limits.Caches(4L << 20, 32L << 20), Limits.Caches.of(separate, 3));
        // nothing readable: 1 MiB a processor, 32 MiB
        assertEquals(new Limits.Caches(2L << 20, 32L << 20), Limits.Caches.of(dir.resolve("none"), 2));
    }
}
