// What only the CUDA backend does, on a GPU: device-side id checks reported at the next synchronisation
// (or by the call itself with -Dseq4j.cuda.sync=true), the memory pool's steady state, cap and leak check,
// host copies from heap and native memory through the staging ring without waits, use from another
// thread, a bad id reported to both threads of two, deterministic reductions and scatter-add, and cuBLAS's k = 0 edge. Skipped, with the reason, where the backend does not load (no GPU). The kernels'
// numbers are checked against the reference by the shared conformance suite, which includes cuda.
package org.seq4j.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.backend.Transpose;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class CudaBackendGpuTest {
    private CudaBackend cuda;
    private final SplittableRandom random = new SplittableRandom(42);

    @BeforeEach
    void needsAGpu() {
        Backend b = TestBackends.get("cuda");   // skips the test, with the reason, where cuda does not load
        cuda = (CudaBackend) b;
        cuda.synchronize();                       // start clean: no pending id errors from another test
    }

    private float[] uniform(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextDouble(-1, 1);
        }
        return x;
    }

    private Tensor floats(Arena arena, float[] values, int... shape) {
        Tensor t = cuda.allocate(arena, DType.F32, shape);
        cuda.copyIn(t, values);
        return t;
    }

    private Tensor ints(Arena arena, int[] values, int... shape) {
        Tensor t = cuda.allocate(arena, DType.I32, shape);
        cuda.copyIn(t, values);
        return t;
    }

    @Test
    void describesTheGpu() {
        String d = cuda.description();
        assertTrue(d.contains("compute ") && d.contains("cuBLAS ") && d.contains("seq4j_cuda"), d);
    }

    @Test
    void anEmbeddingIdOutOfRangeIsReportedAtTheNextSynchronisation() {
        try (Arena arena = Arena.ofConfined()) {
            int v = 5, d = 3;
            Tensor W = floats(arena, uniform(v * d), v, d), out = cuda.allocate(arena, DType.F32, 3, d);
            cuda.embeddingForward(out, W, ints(arena, new int[] {0, 5, 4}, 3));   // 5 is outside [0, 5)
            var e = assertThrows(IndexOutOfBoundsException.class, cuda::synchronize);
            assertTrue(e.getMessage().contains("embeddingForward: ids[1] = 5 is outside [0, 5)"), e.getMessage());
            float[] got = new float[3 * d];
            cuda.copyOut(got, out);                                               // the flag was reset
            assertArrayEquals(new float[] {0, 0, 0}, new float[] {got[3], got[4], got[5]}, 0f, "skipped row is 0");

            Tensor dW = cuda.allocate(arena, DType.F32, v, d);
            cuda.embeddingBackward(dW, ints(arena, new int[] {-2, 1, 1}, 3), floats(arena, uniform(3 * d), 3, d));
            e = assertThrows(IndexOutOfBoundsException.class, () -> cuda.copyOut(new float[v * d], dW));
            assertTrue(e.getMessage().contains("embeddingBackward: ids[0] = -2 is outside [0, 5)"), e.getMessage());
        }
    }

    /**
     * Bad ids (negative, v and past it, the int extremes) among good ones, in a sort of one tile and of many: the error
     * is reported, and dW is the reference's bits for the good rows (each id's rows added in row order from dW's value,
     * which the Java loop below does as JavaBackend does) with nothing of a bad row anywhere. The scatter keys a bad id
     * as v and sorts it past every run: a wrong key, or a run boundary that a bad id split or joined, shows here.
     */
    @Test
    void anEmbeddingGradientDropsBadIdsAndKeepsTheReferencesBitsForTheOthers() {
        try (Arena arena = Arena.ofConfined()) {
            int v = 7, d = 5;
            int[] bad = {-1, v, Integer.MAX_VALUE, Integer.MIN_VALUE, v + 1, -1000};
            for (int m : new int[] {11, 50003}) {
                int[] ids = new int[m];
                for (int i = 0; i < m; i++) {
                    ids[i] = random.nextInt(v);
                }
                int[] at = {1, 2, 4, 6, m / 2, m - 1};
                for (int k = 0; k < at.length; k++) {
                    ids[at[k]] = bad[k];
                }
                float[] w0 = uniform(v * d), g = uniform(m * d), want = w0.clone();
                for (int r = 0; r < m; r++) {
                    if (ids[r] >= 0 && ids[r] < v) {
                        for (int j = 0; j < d; j++) {
                            want[ids[r] * d + j] += g[r * d + j];
                        }
                    }
                }
                Tensor dW = floats(arena, w0, v, d);
                cuda.embeddingBackward(dW, ints(arena, ids, m), floats(arena, g, m, d));
                var e = assertThrows(IndexOutOfBoundsException.class, cuda::synchronize);
                assertTrue(e.getMessage().contains("embeddingBackward: ids[") && e.getMessage().contains("is outside [0, 7)"),
                        e.getMessage());
                float[] got = new float[v * d];
                cuda.copyOut(got, dW);
                for (int k = 0; k < got.length; k++) {
                    assertEquals(Float.floatToIntBits(want[k]), Float.floatToIntBits(got[k]),
                            "M=" + m + ": dW element " + k + " is " + got[k] + ", the reference's " + want[k]);
                }
            }
        }
    }

    /**
     * A table of more than 2^30 rows (the scatter's sort then needs all 31 bits of a non-negative key) with D = 2, so
     * that its last rows start past 2^31 floats: the gather and the scatter must index in 64 bits. 8.6 GB on the device;
     * skipped where less than twice that is free. Row v - 1 gets three rows of dout, added in row order.
     */
    @Test
    void anEmbeddingOfMoreThan2To30RowsIndexesPast2To31Floats() {
        int v = (1 << 30) + 3, d = 2;
        long bytes = (long) v * d * Float.BYTES;
        try (Arena arena = Arena.ofConfined()) {
            cuda.synchronize();   // the backend's device current on this thread, for the query
            MemorySegment free = arena.allocate(ValueLayout.JAVA_LONG), total = arena.allocate(ValueLayout.JAVA_LONG);
            assertEquals(0, org.seq4j.bindings.cudart.cudart_h.cudaMemGetInfo(free, total));
            org.junit.jupiter.api.Assumptions.assumeTrue(free.get(ValueLayout.JAVA_LONG, 0) > 2 * bytes,
                    "needs " + 2 * bytes + " bytes of free device memory, " + free.get(ValueLayout.JAVA_LONG, 0) + " free");
            Tensor W = cuda.allocate(arena, DType.F32, v, d);   // zeros
            int[] ids = {v - 1, 0, v - 1, v - 2, 1 << 30, v - 1};
            float[] g = {1.5f, -2f, 3f, 4f, 1e-8f, 6f, 7f, 8f, 9f, 10f, 11f, 12f};
            cuda.embeddingBackward(W, ints(arena, ids, ids.length), floats(arena, g, ids.length, d));
            float[][] rows = {{(0f + 1.5f + 1e-8f) + 11f, (0f - 2f + 6f) + 12f}, {3f, 4f}, {7f, 8f}, {9f, 10f}};
            long[] at = {v - 1, 0, v - 2, 1 << 30};
            for (int k = 0; k < at.length; k++) {
                for (int j = 0; j < d; j++) {
                    assertEquals(rows[k][j], cuda.item(W, at[k] * d + j), 0f, "dW[" + at[k] + ", " + j + "]");
                }
            }
            assertEquals(0f, cuda.item(W, (long) (v - 4) * d + 1), 0f, "row 2^30 - 1, which no id names");
            Tensor out = cuda.allocate(arena, DType.F32, ids.length, d);
            cuda.embeddingForward(out, W, ints(arena, ids, ids.length));
            float[] got = new float[ids.length * d];
            cuda.copyOut(got, out);
            for (int r = 0; r < ids.length; r++) {
                for (int j = 0; j < d; j++) {
                    assertEquals(cuda.item(W, (long) ids[r] * d + j), got[r * d + j], 0f, "gathered row " + r + ", " + j);
                }
            }
        } finally {
            cuda.trimMemory();   // not 8.6 GB of cache for the tests after this one
        }
    }

    @Test
    void anEmbeddingWithoutColumnsStillChecksItsIds() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor W = cuda.allocate(arena, DType.F32, 5, 0), out = cuda.allocate(arena, DType.F32, 2, 0);
            cuda.embeddingForward(out, W, ints(arena, new int[] {1, 9}, 2));
            var e = assertThrows(IndexOutOfBoundsException.class, cuda::synchronize);
            assertTrue(e.getMessage().contains("embeddingForward: ids[1] = 9 is outside [0, 5)"), e.getMessage());
            cuda.embeddingBackward(W, ints(arena, new int[] {-1, 0}, 2), out);
            e = assertThrows(IndexOutOfBoundsException.class, cuda::synchronize);
            assertTrue(e.getMessage().contains("embeddingBackward: ids[0] = -1 is outside [0, 5)"), e.getMessage());
        }
    }

    @Test
    void aLabelOutOfRangeIsReportedButTheIgnoreLabelIsNot() {
        try (Arena arena = Arena.ofConfined()) {
            int m = 4, v = 13;
            Tensor logits = floats(arena, uniform(m * v), m, v), probs = cuda.allocate(arena, DType.F32, m, v);
            Tensor loss = cuda.allocate(arena, DType.F32, 1);
            cuda.softmaxCrossEntropyForward(probs, loss, logits, ints(arena, new int[] {3, -1, 12, -1}, m));
            float fine = cuda.item(loss, 0);
            assertTrue(Float.isFinite(fine) && fine > 0, "loss over two valid rows: " + fine);
            cuda.softmaxCrossEntropyForward(probs, loss, logits, ints(arena, new int[] {3, 13, 0, 1}, m));
            var e = assertThrows(IndexOutOfBoundsException.class, () -> cuda.item(loss, 0));
            assertTrue(e.getMessage().contains("softmaxCrossEntropyForward: labels[1] = 13 is outside [0, 13)"),
                    e.getMessage());
        }
    }

    /**
     * Of many bad ids in one launch (thousands of threads and blocks racing to report one), the lowest position is
     * named, every run, as the CPU names it; and of two launches before one synchronisation, the lower position of the
     * two. The first thread to claim the record used to write it, so that the id named changed from run to run.
     */
    @Test
    void ofManyBadIdsTheLowestPositionIsReportedEveryRun() {
        try (Arena arena = Arena.ofConfined()) {
            int m = 1 << 18, v = 7, d = 4;
            int[] ids = new int[m];
            for (int r = 0; r < m; r++) {
                ids[r] = r < 1000 ? r % v : v + (m - r);   // every id from position 1000 on is bad, each different
            }
            int[] labels = ids.clone();
            labels[3] = -1;                                   // the ignore label is not an error
            Tensor W = floats(arena, uniform(v * d), v, d), out = cuda.allocate(arena, DType.F32, m, d);
            Tensor idsT = ints(arena, ids, m), dout = floats(arena, uniform(m * d), m, d);
            Tensor dW = cuda.allocate(arena, DType.F32, v, d);
            Tensor logits = floats(arena, uniform(m * v), m, v), probs = cuda.allocate(arena, DType.F32, m, v);
            Tensor loss = cuda.allocate(arena, DType.F32, 1), labelsT = ints(arena, labels, m);
            Tensor dlogits = cuda.allocate(arena, DType.F32, m, v);
            String bad = "[1000] = " + (v + m - 1000) + " is outside [0, 7)";
            for (int run = 0; run < 5; run++) {
                cuda.embeddingForward(out, W, idsT);
                var e = assertThrows(IndexOutOfBoundsException.class, cuda::synchronize);
                assertTrue(e.getMessage().contains("embeddingForward: ids" + bad), "run " + run + ": " + e.getMessage());
                cuda.embeddingBackward(dW, idsT, dout);
                e = assertThrows(IndexOutOfBoundsException.class, cuda::synchronize);
                assertTrue(e.getMessage().contains("embeddingBackward: ids" + bad), "run " + run + ": " + e.getMessage());
                cuda.softmaxCrossEntropyForward(probs, loss, logits, labelsT);
                e = assertThrows(IndexOutOfBoundsException.class, cuda::synchronize);
                assertTrue(e.getMessage().contains("softmaxCrossEntropyForward: labels" + bad),
                        "run " + run + ": " + e.getMessage());
                cuda.softmaxCrossEntropyBackward(dlogits, probs, labelsT, 1f);
                e = assertThrows(IndexOutOfBoundsException.class, cuda::synchronize);
                assertTrue(e.getMessage().contains("softmaxCrossEntropyBackward: labels" + bad),
                        "run " + run + ": " + e.getMessage());
            }
            // two launches, then one look: the later launch's lower position wins, with its own value and bound
            int[] few = {0, 1, 2, 3, 4, 9, 6, 0};   // position 5 is bad, below the first launch's 1000
            Tensor fewT = ints(arena, few, 8), outFew = cuda.allocate(arena, DType.F32, 8, d);
            cuda.embeddingForward(out, W, idsT);
            cuda.embeddingForward(outFew, W, fewT);
            var e = assertThrows(IndexOutOfBoundsException.class, cuda::synchronize);
            assertTrue(e.getMessage().contains("embeddingForward: ids[5] = 9 is outside [0, 7)"), e.getMessage());
        }
    }

    /**
     * With V = 0 every label but -1 is out of range, as on the host, where it throws. AbstractBackend returned before
     * the kernel, so on the GPU such labels went unreported (the kernels handle V = 0 and check them, as the
     * embeddings' kernels do for D = 0).
     */
    @Test
    void aCrossEntropyOverNoColumnsStillChecksItsLabels() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor logits = cuda.allocate(arena, DType.F32, 2, 0), probs = cuda.allocate(arena, DType.F32, 2, 0);
            Tensor loss = floats(arena, new float[] {7f}, 1);
            cuda.softmaxCrossEntropyForward(probs, loss, logits, ints(arena, new int[] {-1, -1}, 2));
            assertEquals(0f, cuda.item(loss, 0), 0f, "no counted row: loss 0");
            cuda.softmaxCrossEntropyForward(probs, loss, logits, ints(arena, new int[] {-1, 0}, 2));
            var e = assertThrows(IndexOutOfBoundsException.class, () -> cuda.item(loss, 0));
            assertTrue(e.getMessage().contains("softmaxCrossEntropyForward: labels[1] = 0 is outside [0, 0)"),
                    e.getMessage());
            cuda.softmaxCrossEntropyBackward(probs, logits, ints(arena, new int[] {3, -1}, 2), 1f);
            e = assertThrows(IndexOutOfBoundsException.class, cuda::synchronize);
            assertTrue(e.getMessage().contains("softmaxCrossEntropyBackward: labels[0] = 3 is outside [0, 0)"),
                    e.getMessage());
        }
    }

    /**
     * Two threads on one backend: a bad label queued by one and found by the other's synchronising call reaches
     * both. It used to reach only the finder, and the thread whose loss it was read a wrong loss without a word.
     */
    @Test
    void aBadIdFoundByAnotherThreadIsStillReportedToTheThreadThatQueuedIt() throws Exception {
        try (Arena arena = Arena.ofShared()) {
            int m = 4, v = 13;
            Tensor logits = floats(arena, uniform(m * v), m, v), probs = cuda.allocate(arena, DType.F32, m, v);
            Tensor loss = cuda.allocate(arena, DType.F32, 1), bad = ints(arena, new int[] {3, 13, 0, 1}, m);
            CountDownLatch queued = new CountDownLatch(1), found = new CountDownLatch(1);
            FutureTask<IndexOutOfBoundsException> trainer = new FutureTask<>(() -> {
                cuda.softmaxCrossEntropyForward(probs, loss, logits, bad);
                queued.countDown();
                found.await();
                try {
                    cuda.item(loss, 0);
                    return null;
                } catch (IndexOutOfBoundsException e) {
                    return e;
                }
            });
            new Thread(trainer, "trainer").start();
            queued.await();
            var e = assertThrows(IndexOutOfBoundsException.class, cuda::synchronize);   // this thread finds it
            assertTrue(e.getMessage().contains("softmaxCrossEntropyForward (thread \"trainer\"): labels[1] = 13"),
                    e.getMessage());
            found.countDown();
            IndexOutOfBoundsException toTrainer = trainer.get(60, TimeUnit.SECONDS);
            assertNotNull(toTrainer, "the trainer read its loss over a bad label without an error");
            assertTrue(toTrainer.getMessage().contains("labels[1] = 13 is outside [0, 13)")
                    && toTrainer.getMessage().contains("Found by a synchronising call of thread"), toTrainer.getMessage());
            cuda.synchronize();   // told once to each
        }
    }

    /** A tensor of one CudaBackend (its stream orders the writes) is refused by another: a race across streams. */
    @Test
    void anotherCudaBackendsTensorIsRefused() {
        try (CudaBackend other = new CudaBackend(); Arena arena = Arena.ofShared()) {
            Tensor mine = cuda.allocate(arena, DType.F32, 4);
            assertEquals(cuda, mine.owner());
            var e = assertThrows(IllegalArgumentException.class, () -> other.fill(mine.get(1), 1f));
            assertTrue(e.getMessage().contains("is owned by another cuda backend"), e.getMessage());
            other.fill(other.allocate(arena, DType.F32, 4), 1f);   // its own are fine
        }
    }

    @Test
    void aTrainingStepThatKeepsItsShapesAllocatesNothingAfterTheFirst() {
        long before = 0;
        for (int step = 0; step < 3; step++) {
            try (Arena arena = Arena.ofConfined()) {
                cuda.allocate(arena, DType.F32, 128, 512);
                cuda.allocate(arena, DType.F32, 7, 128, 128);
                cuda.allocate(arena, DType.I32, 128, 4);
            }
            if (step == 0) {
                before = cuda.memoryStats().mallocs();
            }
        }
        assertEquals(before, cuda.memoryStats().mallocs(), "steps 2 and 3 reuse the first step's blocks");
    }

    @Test
    void copyInDoesNotWaitAndAStepWaitsOnlyForItsLoss() {
        try (Arena arena = Arena.ofConfined()) {
            int m = 128, v = 13;
            Tensor logits = cuda.allocate(arena, DType.F32, m, v), probs = cuda.allocate(arena, DType.F32, m, v);
            Tensor labels = cuda.allocate(arena, DType.I32, m), loss = cuda.allocate(arena, DType.F32, 1);
            float[] x = uniform(m * v);
            int[] l = new int[m];
            cuda.synchronize();
            long before = cuda.hostWaits();
            for (int step = 0; step < 50; step++) {
                cuda.copyIn(logits, x);          // heap arrays, reused at once: staged, not waited for
                l[step % m] = step % v;
                cuda.copyIn(labels, l);
                cuda.softmaxCrossEntropyForward(probs, loss, logits, labels);
                cuda.item(loss, 0);              // the one wait of a step
            }
            assertEquals(50, cuda.hostWaits() - before, "one wait per step (the loss): " + cuda.stagingStats());
            x[0] = 1234f;                        // what was copied in is what the array held at copyIn
            cuda.copyIn(logits, x);
            x[0] = -1f;
            assertEquals(1234f, cuda.item(logits, 0), 0f, "the staged copy kept the value at the time of copyIn");
        }
    }

    @Test
    void largeCopiesGoThroughTheRingInSlices() {
        try (Arena arena = Arena.ofConfined()) {
            int n = 24 << 20;                    // 96 MiB of floats: three slices of the 64 MiB ring
            float[] x = new float[n];
            for (int i = 0; i < n; i += 4099) {
                x[i] = i;
            }
            Tensor t = cuda.allocate(arena, DType.F32, n);
            cuda.copyIn(t, x);
            float[] back = new float[n];
            cuda.copyOut(back, t);
            assertArrayEquals(x, back, 0f);
        }
    }

    @Test
    void anotherThreadCanUseTheBackend() throws Exception {
        try (Arena arena = Arena.ofShared()) {
            Tensor t = floats(arena, new float[] {1, 2, 3}, 3);
            Thread other = new Thread(() -> cuda.scale(t, 2f));
            other.start();
            other.join();
            float[] got = new float[3];
            cuda.copyOut(got, t);
            assertArrayEquals(new float[] {2, 4, 6}, got, 0f);
        }
    }

    @Test
    void noDeviceMemoryIsLeftInUseAfterCloseAndTheCacheStaysUnderItsCap() {
        try (CudaBackend own = new CudaBackend()) {
            try (Arena arena = Arena.ofConfined()) {
                for (int i = 1; i <= 20; i++) {
                    own.allocate(arena, DType.F32, i * 1000, 7);
                }
                Tensor t = own.allocate(arena, DType.F32, 64);
                own.fill(t, 1f);
                own.sumOfSquares(own.allocate(arena, DType.F32, 1), t);
                own.synchronize();
            }
            DevicePool.Stats s = own.memoryStats();
            assertTrue(s.bytesCached() <= s.maxCachedBytes(), s.toString());
            Arena late = Arena.ofConfined();
            own.allocate(late, DType.F32, 1000);
            own.close();
            assertTrue(own.memoryStats().bytesInUse() > 0, "a tensor still alive keeps its block");
            late.close();
            assertEquals(0, own.memoryStats().bytesInUse(), "bytes in use after close: " + own.memoryStats());
            assertEquals(0, own.memoryStats().bytesCached(), "close frees the cache");
        }
    }

    @Test
    void syncModeNamesTheOperationThatMetABadId() {
        String old = System.getProperty("seq4j.cuda.sync");
        System.setProperty("seq4j.cuda.sync", "true");
        try (CudaBackend synced = new CudaBackend(); Arena arena = Arena.ofConfined()) {
            Tensor W = synced.allocate(arena, DType.F32, 5, 3), out = synced.allocate(arena, DType.F32, 2, 3);
            Tensor ids = synced.allocate(arena, DType.I32, 2);
            synced.copyIn(ids, new int[] {1, 7});
            var e = assertThrows(IndexOutOfBoundsException.class, () -> synced.embeddingForward(out, W, ids),
                    "thrown by the call itself, not at a later synchronisation");
            assertTrue(e.getMessage().contains("embeddingForward: ids[1] = 7"), e.getMessage());
        } finally {
            if (old == null) {
                System.clearProperty("seq4j.cuda.sync");
            } else {
                System.setProperty("seq4j.cuda.sync", old);
            }
        }
    }

    @Test
    void newTensorsAreZeroEvenFromReusedBlocks() {
        try (Arena arena = Arena.ofConfined()) {
            cuda.fill(cuda.allocate(arena, DType.F32, 1000), 7f);
        }
        try (Arena arena = Arena.ofConfined()) {
            float[] got = new float[1000];
            cuda.copyOut(got, cuda.allocate(arena, DType.F32, 1000));
            assertArrayEquals(new float[1000], got, 0f);
        }
    }

    @Test
    void hostCopiesWorkFromHeapAndNativeMemory() {
        try (Arena arena = Arena.ofConfined()) {
            float[] x = uniform(1001);
            Tensor t = cuda.allocate(arena, DType.F32, 1001);
            MemorySegment nativeIn = arena.allocate(ValueLayout.JAVA_FLOAT, x.length);
            MemorySegment.copy(x, 0, nativeIn, ValueLayout.JAVA_FLOAT, 0, x.length);
            cuda.copyIn(t, nativeIn);
            float[] heapOut = new float[x.length];
            cuda.copyOut(heapOut, t);
            assertArrayEquals(x, heapOut, 0f, "native in, heap out");
            cuda.copyIn(t, x);
            MemorySegment nativeOut = arena.allocate(ValueLayout.JAVA_FLOAT, x.length);
            cuda.copyOut(nativeOut, t);
            assertArrayEquals(x, nativeOut.toArray(ValueLayout.JAVA_FLOAT), 0f, "heap in, native out");
            assertEquals(x[1000], cuda.item(t, 1000), 0f);
        }
    }

    @Test
    void reductionsGiveTheSameBitsEveryRun() {
        try (Arena arena = Arena.ofConfined()) {
            int m = 700, v = 1000;
            Tensor x = floats(arena, uniform(m * v), m, v), out = cuda.allocate(arena, DType.F32, 1);
            int[] labels = new int[m];
            for (int i = 0; i < m; i++) {
                labels[i] = i % 7 == 0 ? -1 : random.nextInt(v);
            }
            Tensor l = ints(arena, labels, m), probs = cuda.allocate(arena, DType.F32, m, v);
            cuda.sumOfSquares(out, x);
            float s1 = cuda.item(out, 0);
            cuda.softmaxCrossEntropyForward(probs, out, x, l);
            float c1 = cuda.item(out, 0);
            // the scatter-add of W1's folded table (896 rows into 13): a stable sort by id, not atomics, so the same bits
            int rows = 896, vocab = 13, d = 16;
            int[] ids = new int[rows];
            for (int i = 0; i < rows; i++) {
                ids[i] = random.nextInt(vocab);
            }
            Tensor idT = ints(arena, ids, rows), dout = floats(arena, uniform(rows * d), rows, d);
            Tensor dW = cuda.allocate(arena, DType.F32, vocab, d);
            cuda.embeddingBackward(dW, idT, dout);
            float[] first = new float[vocab * d], again = new float[vocab * d];
            cuda.copyOut(first, dW);
            for (int run = 0; run < 3; run++) {
                cuda.fill(dW, 0f);
                cuda.embeddingBackward(dW, idT, dout);
                cuda.copyOut(again, dW);
                for (int k = 0; k < first.length; k++) {
                    assertEquals(Float.floatToIntBits(first[k]), Float.floatToIntBits(again[k]),
                            "embeddingBackward run " + run + ", element " + k);
                }
                cuda.sumOfSquares(out, x);
                assertEquals(Float.floatToIntBits(s1), Float.floatToIntBits(cuda.item(out, 0)), "sumOfSquares run " + run);
                cuda.softmaxCrossEntropyForward(probs, out, x, l);
                assertEquals(Float.floatToIntBits(c1), Float.floatToIntBits(cuda.item(out, 0)), "loss run " + run);
            }
        }
    }

    /**
     * A copyIn that finds the staging ring's previous transfer still running asks cudaEventQuery, whose "not ready"
     * stays behind as the thread's last error. The GRU entry points read their launch status without clearing it
     * first, and a GRU step right after such copies failed with cudaErrorNotReady.
     */
    @Test
    void aGruStepRightAfterCopiesStillInFlightIsNotBlamedForTheirStatus() {
        try (Arena arena = Arena.ofConfined()) {
            int big = 8 << 20, n = 3, h = 5;   // 32 MiB each: the first is still on its way when the second is staged
            Tensor x = cuda.allocate(arena, DType.F32, big), y = cuda.allocate(arena, DType.F32, big);
            Tensor rh = cuda.allocate(arena, DType.F32, n, h), gates = floats(arena, uniform(n * 3 * h), n, 3 * h);
            Tensor hPrev = floats(arena, uniform(n * h), n, h), hNext = cuda.allocate(arena, DType.F32, n, h);
            Tensor dA = cuda.allocate(arena, DType.F32, n, 3 * h), dhPrev = cuda.allocate(arena, DType.F32, n, h);
            float[] data = new float[big];
            for (int round = 0; round < 3; round++) {
                cuda.copyIn(x, data);
                cuda.copyIn(y, data);
                cuda.gruGatesForward(rh, gates, hPrev);
                cuda.copyIn(x, data);
                cuda.copyIn(y, data);
                cuda.gruCellForward(hNext, gates, hPrev);
                cuda.copyIn(x, data);
                cuda.copyIn(y, data);
                cuda.gruCellBackward(dA, gates, hPrev, hNext);
                cuda.copyIn(x, data);
                cuda.copyIn(y, data);
                cuda.gruGatesBackward(dA, dhPrev, gates, hPrev, hNext, rh);
                cuda.synchronize();
            }
        }
    }

    /**
     * The reductions' scratch was allocated before the call made the backend's device current: on a thread whose first
     * call was a loss or a sum of squares, cudaMalloc put it on device 0 while the kernel ran on the backend's device.
     * Needs two GPUs (skipped, saying so, on one).
     */
    @Test
    void aThreadWhoseFirstCallNeedsScratchAllocatesItOnTheBackendsDevice() throws Exception {
        java.lang.foreign.MemorySegment count = Arena.ofAuto().allocate(ValueLayout.JAVA_INT);
        org.junit.jupiter.api.Assumptions.assumeTrue(
                org.seq4j.bindings.cudart.cudart_h.cudaGetDeviceCount(count) == 0 && count.get(ValueLayout.JAVA_INT, 0) >= 2,
                "needs a second GPU (device 1)");
        try (CudaBackend second = new CudaBackend(1); Arena arena = Arena.ofShared()) {
            Tensor x = second.allocate(arena, DType.F32, 1000), out = second.allocate(arena, DType.F32, 1);
            second.fill(x, 2f);
            second.synchronize();
            FutureTask<Float> first = new FutureTask<>(() -> {   // a new thread: device 0 is its current device
                second.sumOfSquares(out, x);
                return second.item(out, 0);
            });
            new Thread(first, "first-call").start();
            assertEquals(4000f, first.get(60, TimeUnit.SECONDS), 0f);
        }
    }

    /**
     * Other CUDA code on the thread (another library, the application) sets another device between two calls: the
     * backend used to remember the device it had made current and skip cudaSetDevice, so its next allocation went to
     * the other device and its kernel, on its own device's stream, read memory it cannot reach. Needs two GPUs
     * (skipped, saying so, on one).
     */
    @Test
    void anotherDeviceSetOnTheThreadBetweenCallsIsNotUsed() {
        java.lang.foreign.MemorySegment count = Arena.ofAuto().allocate(ValueLayout.JAVA_INT);
        org.junit.jupiter.api.Assumptions.assumeTrue(
                org.seq4j.bindings.cudart.cudart_h.cudaGetDeviceCount(count) == 0 && count.get(ValueLayout.JAVA_INT, 0) >= 2,
                "needs a second GPU (device 1)");
        try (CudaBackend second = new CudaBackend(1); Arena arena = Arena.ofShared()) {
            Tensor x = second.allocate(arena, DType.F32, 1000);
            second.fill(x, 2f);
            second.synchronize();
            assertEquals(0, org.seq4j.bindings.cudart.cudart_h.cudaSetDevice(0));   // what the other code does
            Tensor y = second.allocate(arena, DType.F32, 1000), out = second.allocate(arena, DType.F32, 1);
            second.copy(y, x);
            second.sumOfSquares(out, y);
            assertEquals(4000f, second.item(out, 0), 0f);
        }
    }

    @Test
    void gemmWithAnEmptyInnerDimensionScalesC() {
        try (Arena arena = Arena.ofConfined()) {
            float[] c0 = uniform(12);
            Tensor a = cuda.allocate(arena, DType.F32, 3, 0), b = cuda.allocate(arena, DType.F32, 0, 4);
            Tensor c = floats(arena, c0, 3, 4);
            cuda.gemm(Transpose.NO, Transpose.NO, 3, 4, 0, 1f, a, 1, b, 4, 0.5f, c, 4);
            float[] got = new float[12];
            cuda.copyOut(got, c);
            for (int i = 0; i < 12; i++) {
                assertEquals(0.5f * c0[i], got[i], 0f, "C[" + i + "] = beta * C when k = 0");
            }
        }
    }

    /**
     * Host memory tagged CUDA (Tensor.wrap of an Arena's segment, owner null) is refused by the call, naming it, before
     * any kernel runs: its kernels used to touch host memory on the device, cudaErrorIllegalAddress, the context dead.
     * Device memory of this backend wrapped the same way works, and the backend stays usable throughout.
     */
    @Test
    void hostMemoryWrappedAsACudaTensorIsRefusedAndDeviceMemoryWrappedIsNot() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor host = Tensor.wrap(arena.allocate(16 * Float.BYTES, 4), DType.F32,
                    org.seq4j.tensor.Device.CUDA, 16);
            var e = assertThrows(IllegalArgumentException.class, () -> cuda.fill(host, 1f));
            assertTrue(e.getMessage().startsWith("fill: x Tensor(16,) F32 on CUDA at 0x")
                    && e.getMessage().contains("is host memory"), e.getMessage());
            Tensor out = cuda.allocate(arena, DType.F32, 16);
            e = assertThrows(IllegalArgumentException.class, () -> cuda.addScaled(out, host, 2f));
            assertTrue(e.getMessage().startsWith("addScaled: x "), e.getMessage());

            Tensor owned = floats(arena, uniform(16), 16);
            Tensor wrapped = Tensor.wrap(owned.segment(), DType.F32, org.seq4j.tensor.Device.CUDA, 16);
            cuda.fill(wrapped, 3f);
            float[] got = new float[16];
            cuda.copyOut(got, owned);
            assertEquals(3f, got[15], 0f);
            // past the end of its allocation (a pool block of 512 bytes, wrapped as 64 MiB): refused where the driver gives
            // the extent; item reads only element 0, inside it, so no fault either way
            Tensor past = Tensor.wrap(MemorySegment.ofAddress(owned.segment().address()).reinterpret(64L << 20),
                    DType.F32, org.seq4j.tensor.Device.CUDA, 16 << 20);
            try {
                assertEquals(3f, cuda.item(past, 0), 0f);
            } catch (IllegalArgumentException x) {
                assertTrue(x.getMessage().contains("runs past its device allocation"), x.getMessage());
            }
            cuda.synchronize();   // no fault: the context is fine
        }
    }

    /**
     * A CUDA tensor's segment given to copyIn or copyOut as host memory (an attempted device-to-device copy) is
     * refused: the host read (copyIn's staging copy) a device address, a SIGSEGV.
     */
    @Test
    void aDeviceSegmentIsNoHostMemoryForCopies() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor a = floats(arena, uniform(8), 8), b = cuda.allocate(arena, DType.F32, 8);
            var e = assertThrows(IllegalArgumentException.class, () -> cuda.copyIn(b, a.segment()));
            assertTrue(e.getMessage().startsWith("copyIn: src ") && e.getMessage().contains(" is device memory (a GPU"
                    + " tensor's segment()?), which the host cannot read"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> cuda.copyOut(b.segment(), a));
            assertTrue(e.getMessage().startsWith("copyOut: dst ") && e.getMessage().contains("which the host cannot write"),
                    e.getMessage());
            MemorySegment host = arena.allocate(8 * Float.BYTES, 4);   // host memory still goes
            cuda.copyOut(host, a);
            cuda.copyIn(b, host);
            cuda.copy(b, a);
            cuda.synchronize();
        }
    }

    /** synchronize or trimMemory after close() on the same thread: closed, said plainly (no "another thread"). */
    @Test
    void aCallAfterCloseOnTheSameThreadSaysItIsClosed() {
        CudaBackend own = new CudaBackend();
        own.close();
        assertEquals("synchronize: backend cuda is closed",
                assertThrows(IllegalStateException.class, own::synchronize).getMessage());
        assertEquals("trimMemory: backend cuda is closed",
                assertThrows(IllegalStateException.class, own::trimMemory).getMessage());
    }
}
