// The native pool's partitioning: results of reductions are bit-identical whatever the backend's thread
// count (fixed blocks, summed in block order), and kernels agree with one thread at awkward counts. Each
// count is a backend of its own, all sharing the one process-wide pool (PoolTest: concurrently too).
package org.seq4j.backend.openblas;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.backend.PackedMatrix;
import org.seq4j.backend.Transpose;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class ThreadCountTest {
    private static final int[] THREADS = {1, 3, 7};

    private static float[] values(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextDouble(-3, 3);
        }
        return v;
    }

    /** Runs the same seeded work with each thread count and returns the outputs, one array per count. */
    private static float[][] run(java.util.function.BiFunction<Backend, Arena, float[]> work) {
        TestBackends.get("openblas"); // skips if OpenBLAS is not available here
        float[][] out = new float[THREADS.length][];
        for (int i = 0; i < THREADS.length; i++) {
            try (OpenBlasBackend b = new OpenBlasBackend(THREADS[i]); Arena arena = Arena.ofConfined()) {
                assertEquals(THREADS[i], b.threads());
                out[i] = work.apply(b, arena);
            }
        }
        return out;
    }

    private static Tensor tensor(Backend b, Arena arena, float[] v, int... shape) {
        Tensor t = b.allocate(arena, DType.F32, shape);
        b.copyIn(t, v);
        return t;
    }

    /** The constructor's argument is named as such (it blamed -Dseq4j.threads, SEQ4J_THREADS or BackendConfig). */
    @Test
    void aThreadCountAboveTheNativeLimitNamesWhereItIsSet() {
        TestBackends.get("openblas"); // skips if OpenBLAS is not available here
        int max = OpenBlasBackend.maxThreads();
        for (int bad : new int[] {max + 1, 100_000, -1}) {
            var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> new OpenBlasBackend(bad));
            assertEquals("new OpenBlasBackend(threads): threads must be 0 (one per core) or 1.." + max + ", got " + bad,
                    e.getMessage());
        }
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new OpenBlasBackend(org.seq4j.backend.BackendConfig.defaults().withThreads(max + 1)));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("-Dseq4j.threads"), e.getMessage());
    }

    @Test
    void reductionsAreBitIdenticalForAnyThreadCount() {
        float[][] out = run((b, arena) -> {
            SplittableRandom r = new SplittableRandom(5);
            int m = 1237, v = 61;
            Tensor logits = tensor(b, arena, values(r, m * v), m, v), probs = b.allocate(arena, DType.F32, m, v);
            Tensor labels = b.allocate(arena, DType.I32, m), loss = b.allocate(arena, DType.F32, 1);
            int[] lab = new int[m];
            for (int i = 0; i < m; i++) {
                lab[i] = i % 7 == 0 ? -1 : r.nextInt(v);
            }
            b.copyIn(labels, lab);
            b.softmaxCrossEntropyForward(probs, loss, logits, labels);
            Tensor x = tensor(b, arena, values(r, 1_000_003), 1_000_003), ss = b.allocate(arena, DType.F32, 1);
            b.sumOfSquares(ss, x);
            Tensor t = tensor(b, arena, values(r, 1_000_003), 1_000_003), mse = b.allocate(arena, DType.F32, 1);
            b.mseForward(mse, x, t, 1e-3f);
            return new float[] {b.item(loss, 0), b.item(ss, 0), b.item(mse, 0)};
        });
        for (int i = 1; i < THREADS.length; i++) {
            for (int k = 0; k < out[0].length; k++) {
                assertEquals(Float.floatToIntBits(out[0][k]), Float.floatToIntBits(out[i][k]),
                        "reduction " + k + " with " + THREADS[i] + " threads: " + out[i][k] + " vs one thread " + out[0][k]);
            }
        }
    }

    @Test
    void kernelsSplitAcrossThreadsMatchOneThread() {
        float[][] out = run((b, arena) -> {
            SplittableRandom r = new SplittableRandom(6);
            int n = 131, h = 67;
            Tensor gates = tensor(b, arena, values(r, n * 4 * h), n, 4 * h), cPrev = tensor(b, arena, values(r, n * h), n, h);
            Tensor hNext = b.allocate(arena, DType.F32, n, h), cNext = b.allocate(arena, DType.F32, n, h);
            b.lstmCellForward(hNext, cNext, gates, cPrev);
            // an odd GEMM, split by rows (m >= n) ...
            Tensor a = tensor(b, arena, values(r, 301 * 129), 301, 129), w = tensor(b, arena, values(r, 129 * 97), 129, 97);
            Tensor c = b.allocate(arena, DType.F32, 301, 97);
            b.matmul(Transpose.NO, Transpose.NO, 1f, a, w, 0f, c);
            // ... and by columns (m < n), transposed
            Tensor c2 = b.allocate(arena, DType.F32, 97, 301);
            b.matmul(Transpose.YES, Transpose.YES, 1f, w, a, 0f, c2);
            // scatter-add with many duplicates, split by columns
            Tensor dW = b.allocate(arena, DType.F32, 11, 333), ids = b.allocate(arena, DType.I32, 5000);
            int[] idv = new int[5000];
            for (int i = 0; i < idv.length; i++) {
                idv[i] = r.nextInt(11);
            }
            b.copyIn(ids, idv);
            b.embeddingBackward(dW, ids, tensor(b, arena, values(r, 5000 * 333), 5000, 333));
            // the GEMM outputs go last: see the comparison below
            float[] all = new float[(int) (hNext.size() + cNext.size() + gates.size() + dW.size() + c.size() + c2.size())];
            int at = 0;
            for (Tensor o : new Tensor[] {hNext, cNext, gates, dW, c, c2}) {
                float[] part = new float[(int) o.size()];
                b.copyOut(part, o);
                System.arraycopy(part, 0, all, at, part.length);
                at += part.length;
            }
            return all;
        });
        int gemmStart = out[0].length - 301 * 97 - 97 * 301;
        for (int i = 1; i < THREADS.length; i++) {
            for (int k = 0; k < out[0].length; k++) {
                if (k < gemmStart) {
                    // the same element is computed by the same code whichever thread runs it: bitwise equal
                    assertEquals(Float.floatToIntBits(out[0][k]), Float.floatToIntBits(out[i][k]),
                            "element " + k + " with " + THREADS[i] + " threads: " + out[i][k] + " vs " + out[0][k]);
                } else {
                    // OpenBLAS may block a part's K sum differently than the whole (seq4j_cpu.h says so): a
                    // length-129 dot product of values in [-3, 3) differs by far less than 1e-4 relative
                    assertEquals(out[0][k], out[i][k], 1e-4 * Math.max(1, Math.abs(out[0][k])),
                            "GEMM element " + (k - gemmStart) + " with " + THREADS[i] + " threads");
                }
            }
        }
    }

    /**
     * One LSTM sequence forward and backward of n rows (37: row parts of 8 with a longer last one), and a forward with a
     * table, on b: every output.
     */
    private static float[] lstmSequence(Backend b, Arena arena, int n, int h) {
        SplittableRandom r = new SplittableRandom(8);
        int t = 5, g = 4 * h;
        Tensor w = tensor(b, arena, values(r, h * g), h, g);
        b.scale(w, 0.1f);
        PackedMatrix wh = b.packedMatrix(arena, h, g, PackedMatrix.Precision.F32);
        PackedMatrix whT = b.packedMatrix(arena, g, h, PackedMatrix.Precision.F32);
        b.pack(wh, Transpose.NO, w);
        b.pack(whT, Transpose.YES, w);
        Tensor hs = tensor(b, arena, values(r, (t + 1) * n * h), t + 1, n, h);
        Tensor cs = tensor(b, arena, values(r, (t + 1) * n * h), t + 1, n, h);
        Tensor gates = tensor(b, arena, values(r, t * n * g), t, n, g);
        b.lstmSequenceForward(hs, cs, gates, wh, false);
        // and with a table (V = 11): each part gathers its own rows of every step
        Tensor table = tensor(b, arena, values(r, 11 * g), 11, g), ids = b.allocate(arena, DType.I32, t, n);
        int[] idValues = new int[t * n];
        for (int i = 0; i < idValues.length; i++) {
            idValues[i] = r.nextInt(11);
        }
        b.copyIn(ids, idValues);
        Tensor hs2 = b.allocate(arena, DType.F32, t + 1, n, h), cs2 = b.allocate(arena, DType.F32, t + 1, n, h);
        Tensor gates2 = b.allocate(arena, DType.F32, t, n, g);
        b.copy(hs2.get(0), hs.get(0));
        b.copy(cs2.get(0), cs.get(0));
        b.lstmSequenceForward(hs2, cs2, gates2, wh, false, table, ids);
        Tensor dA = b.allocate(arena, DType.F32, t, n, g), dh0 = b.allocate(arena, DType.F32, n, h);
        Tensor dc0 = b.allocate(arena, DType.F32, n, h), work = b.allocate(arena, DType.F32, 3, n, h);
        Tensor dhs = tensor(b, arena, values(r, t * n * h), t, n, h), dcLast = tensor(b, arena, values(r, n * h), n, h);
        b.lstmSequenceBackward(dA, dh0, dc0, work, gates, cs, dhs, null, dcLast, whT);
        return values(b, hs, cs, gates, dA, dh0, dc0, hs2, cs2, gates2);
    }

    /** The outputs' values, one after the other. */
    private static float[] values(Backend b, Tensor... outs) {
        long size = 0;
        for (Tensor o : outs) {
            size += o.size();
        }
        float[] all = new float[Math.toIntExact(size)];
        int at = 0;
        for (Tensor o : outs) {
            float[] part = new float[(int) o.size()];
            b.copyOut(part, o);
            System.arraycopy(part, 0, all, at, part.length);
            at += part.length;
        }
        return all;
    }

    /**
     * TimeAttention forward and backward on b: every output. 9 x 5 x 131 items a row make parts of at least 5 rows
     * (row_grain), so N = 37 splits into 7 parts with 7 threads; H = 131 ends in vector tails.
     */
    private static float[] timeAttention(Backend b, Arena arena) {
        SplittableRandom r = new SplittableRandom(9);
        int te = 9, td = 5, n = 37, h = 131;
        Tensor hsEnc = tensor(b, arena, values(r, te * n * h), te, n, h);
        Tensor hsDec = tensor(b, arena, values(r, td * n * h), td, n, h);
        Tensor dc = tensor(b, arena, values(r, td * n * h), td, n, h);
        Tensor a = b.allocate(arena, DType.F32, td, n, te), c = b.allocate(arena, DType.F32, td, n, h);
        Tensor dhsEnc = b.allocate(arena, DType.F32, te, n, h), dhsDec = b.allocate(arena, DType.F32, td, n, h);
        Tensor work = b.allocate(arena, DType.F32, n, te);
        b.timeAttentionForward(a, c, hsEnc, hsDec);
        b.timeAttentionBackward(dhsEnc, dhsDec, work, a, hsEnc, hsDec, dc);
        return values(b, a, c, dhsEnc, dhsDec);
    }

    /**
     * The LSTM sequence calls give the same bits with 1, 3 and 7 threads (each row is computed by the same code in
     * whichever part it falls), and from two Java threads at once on one backend (the second caller finds the pool
     * busy and runs its own parts in order) the same bits as alone.
     */
    @Test
    void lstmSequencesMatchOneThreadAndRunConcurrently() throws Exception {
        sameBitsForAnyThreadsAndConcurrently((b, arena) -> lstmSequence(b, arena, 37, 29));
    }

    /**
     * The same with two rows and H = 256 (N = 1 inference's kind): a forward of too few rows for parts of rows runs as a
     * team splitting each step by hidden units where it can have the pool's threads, and step by step on one thread
     * where it cannot (one thread, or another caller holding the pool): the same bits either way.
     */
    @Test
    void fewRowLstmSequencesMatchOneThreadAndRunConcurrently() throws Exception {
        sameBitsForAnyThreadsAndConcurrently((b, arena) -> lstmSequence(b, arena, 2, 256));
    }

    /** The same for the GRU sequence forward and backward (N = 37: row parts of 8 with a longer last one; H = 29). */
    @Test
    void gruSequencesMatchOneThreadAndRunConcurrently() throws Exception {
        sameBitsForAnyThreadsAndConcurrently((b, arena) -> gruSequence(b, arena, 37, 29));
    }

    /** The same with two rows and H = 256: the GRU forward's team (two barriers a step) where it can have the pool. */
    @Test
    void fewRowGruSequencesMatchOneThreadAndRunConcurrently() throws Exception {
        sameBitsForAnyThreadsAndConcurrently((b, arena) -> gruSequence(b, arena, 2, 256));
    }

    private static float[] gruSequence(Backend b, Arena arena, int n, int h) {
        SplittableRandom r = new SplittableRandom(9);
        int t = 5;
        Tensor w = tensor(b, arena, values(r, h * 3 * h), h, 3 * h);
        b.scale(w, 0.1f);
        PackedMatrix zr = b.packedMatrix(arena, h, 2 * h, PackedMatrix.Precision.F32);
        PackedMatrix hh = b.packedMatrix(arena, h, h, PackedMatrix.Precision.F32);
        b.pack(zr, Transpose.NO, w, 3 * h);
        b.pack(hh, Transpose.NO, w.flatSlice(2L * h, h * 3 * h - 2 * h), 3 * h);
        Tensor hs = tensor(b, arena, values(r, (t + 1) * n * h), t + 1, n, h);
        Tensor gates = tensor(b, arena, values(r, t * n * 3 * h), t, n, 3 * h), rhs = b.allocate(arena, DType.F32, t, n, h);
        b.gruSequenceForward(hs, gates, rhs, zr, hh, false);
        PackedMatrix zrT = b.packedMatrix(arena, 2 * h, h, PackedMatrix.Precision.F32);
        PackedMatrix hhT = b.packedMatrix(arena, h, h, PackedMatrix.Precision.F32);
        b.pack(zrT, Transpose.YES, w, 3 * h);
        b.pack(hhT, Transpose.YES, w.flatSlice(2L * h, h * 3 * h - 2 * h), 3 * h);
        Tensor dA = b.allocate(arena, DType.F32, t, n, 3 * h), dh0 = b.allocate(arena, DType.F32, n, h);
        Tensor dhs = tensor(b, arena, values(r, t * n * h), t, n, h), drh = b.allocate(arena, DType.F32, n, h);
        b.gruSequenceBackward(dA, dh0, dhs, drh, gates, hs, zrT, hhT);
        return values(b, hs, gates, rhs, dA, dh0, dhs);
    }

    /** The same for the TimeAttention calls (rows split across threads, each taken through every decoder step). */
    @Test
    void timeAttentionMatchesOneThreadAndRunsConcurrently() throws Exception {
        sameBitsForAnyThreadsAndConcurrently(ThreadCountTest::timeAttention);
    }

    private static void sameBitsForAnyThreadsAndConcurrently(java.util.function.BiFunction<Backend, Arena, float[]> work)
            throws Exception {
        float[][] out = run(work);
        for (int i = 1; i < THREADS.length; i++) {
            for (int k = 0; k < out[0].length; k++) {
                assertEquals(Float.floatToIntBits(out[0][k]), Float.floatToIntBits(out[i][k]),
                        "element " + k + " with " + THREADS[i] + " threads: " + out[i][k] + " vs " + out[0][k]);
            }
        }
        try (OpenBlasBackend b = new OpenBlasBackend(2)) {
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
            try {
                java.util.List<java.util.concurrent.Future<float[]>> runs = new java.util.ArrayList<>();
                for (int i = 0; i < 16; i++) {
                    runs.add(pool.submit(() -> {
                        try (Arena arena = Arena.ofConfined()) {
                            return work.apply(b, arena);
                        }
                    }));
                }
                for (java.util.concurrent.Future<float[]> f : runs) {
                    float[] got = f.get(60, java.util.concurrent.TimeUnit.SECONDS);
                    for (int k = 0; k < got.length; k++) {
                        assertEquals(Float.floatToIntBits(out[0][k]), Float.floatToIntBits(got[k]),
                                "element " + k + " of a concurrent run: " + got[k] + " vs " + out[0][k]);
                    }
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }
}
