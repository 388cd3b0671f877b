// The products that pack an operand first share one scratch buffer: OpenBlasBackend.gemmThroughPack's (one a
// backend) and seq4j_gemm_tn's (one a process, native/cpu/gemm.c's tn_packed). A call that finds it in use packs into
// memory of its own. Threads calling at once on one backend must each get the result a lone call gets, bit for bit.
// Where those routes do not run (no AVX-512 clone, or OpenBLAS's own AVX-512 kernels) the same calls are sgemm's, and
// the test still holds them to one thread's bits. Six callers, 40 rounds: enough that a caller which took the shared
// buffer without holding it (either side, tried as a mutation) gave another caller wrong elements. close frees the
// backend's scratch exactly once, also when it races products that passed their open check.
package org.seq4j.backend.openblas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.backend.BackendMisconfiguredException;
import org.seq4j.backend.Transpose;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class SharedScratchTest {
    private static final int CALLERS = 6, ROUNDS = 40;
    /** Rounds of closeRacingProductsLeavesNoPackScratch, and the most pauses its close waits after the first call. */
    private static final int CLOSE_ROUNDS = 400, SPIN = 1000;

    /** One caller's products: A B (300 x 130 x 200, packed route), A B^T, and a^T b (260 x 70 x 600, TN's pack). */
    private static float[] products(Backend b, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        try (Arena arena = Arena.ofConfined()) {
            Tensor a = tensor(b, arena, r, 300, 200), w = tensor(b, arena, r, 200, 130);
            Tensor wt = tensor(b, arena, r, 130, 200);
            Tensor at = tensor(b, arena, r, 600, 260), dA = tensor(b, arena, r, 600, 70);
            Tensor c1 = b.allocate(arena, DType.F32, 300, 130), c2 = b.allocate(arena, DType.F32, 300, 130);
            Tensor c3 = b.allocate(arena, DType.F32, 260, 70);
            b.matmul(Transpose.NO, Transpose.NO, 1f, a, w, 0f, c1);
            b.matmul(Transpose.NO, Transpose.YES, 1f, a, wt, 0f, c2);
            b.matmul(Transpose.YES, Transpose.NO, 1f, at, dA, 0f, c3);
            float[] out = new float[(int) (c1.size() + c2.size() + c3.size())];
            int at0 = 0;
            for (Tensor c : new Tensor[] {c1, c2, c3}) {
                float[] part = new float[(int) c.size()];
                b.copyOut(part, c);
                System.arraycopy(part, 0, out, at0, part.length);
                at0 += part.length;
            }
            return out;
        }
    }

    private static Tensor tensor(Backend b, Arena arena, SplittableRandom r, int rows, int cols) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextDouble(-1, 1);
        }
        Tensor t = b.allocate(arena, DType.F32, rows, cols);
        b.copyIn(t, v);
        return t;
    }

    @Test
    void concurrentCallersGetALoneCallsBits() throws Exception {
        TestBackends.get("openblas"); // skips if OpenBLAS is not available here
        try (OpenBlasBackend b = new OpenBlasBackend(2)) {
            List<float[]> alone = new ArrayList<>();
            for (int i = 0; i < CALLERS; i++) {
                alone.add(products(b, 100 + i));
            }
            ExecutorService pool = Executors.newFixedThreadPool(CALLERS);
            try {
                List<Future<float[]>> got = new ArrayList<>();
                for (int round = 0; round < ROUNDS; round++) {
                    for (int i = 0; i < CALLERS; i++) {
                        long seed = 100 + i;
                        got.add(pool.submit(() -> products(b, seed)));
                    }
                }
                for (int j = 0; j < got.size(); j++) {
                    assertArrayEquals(alone.get(j % CALLERS), got.get(j).get(),
                            "caller " + j % CALLERS + " in round " + j / CALLERS + " against its lone call");
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /**
     * close frees the backend's pack scratch (up to 64 MiB): it was GC-managed memory that a closed backend kept for as
     * long as anything referred to it (measured: 30 closed backends, each after one 64 x 1024 x 1024 product, held
     * 103 MB). Skipped where products do not pack (no AVX-512 clone, or OpenBLAS's own AVX-512 kernels).
     */
    @Test
    void closeFreesThePackScratch() {
        TestBackends.get("openblas"); // skips if OpenBLAS is not available here
        OpenBlasBackend b = new OpenBlasBackend(2);
        try (Arena arena = Arena.ofConfined()) {
            SplittableRandom r = new SplittableRandom(3);
            Tensor a = tensor(b, arena, r, 300, 200), w = tensor(b, arena, r, 200, 130);
            b.matmul(Transpose.NO, Transpose.NO, 1f, a, w, 0f, b.allocate(arena, DType.F32, 300, 130));
            MemorySegment scratch = b.packScratch();
            org.junit.jupiter.api.Assumptions.assumeTrue(scratch.byteSize() > 0,
                    "this machine's products do not pack: " + b.description());
            b.close();
            assertFalse(scratch.scope().isAlive(), "close left the pack scratch allocated");
            assertEquals(0, b.packScratch().byteSize());
        } finally {
            b.close();
        }
    }

    /**
     * close racing products that already passed their open check (documented misuse, but it must not leak or crash):
     * each round a caller multiplies in a loop until a call is refused, while this thread closes the backend at a
     * random moment near the first call. The product in flight either completes, with the right elements, or is
     * refused with the closed backend's IllegalStateException; afterwards the backend holds no pack scratch. A product
     * that reached the scratch after closeK had run allocated a new one, which nothing freed (up to 64 MiB a backend):
     * 5 to 24 rounds of the 400, in five runs on a 2-core machine. Small products (32 x 16 x 16), so that the argument
     * checks between the open check and the pack are much of each call. Skipped where products do not pack (no AVX-512
     * clone, or OpenBLAS's own AVX-512 kernels: OPENBLAS_CORETYPE=Haswell runs it there);
     * aProductThatPassedItsCheckBeforeCloseKeepsNoScratch runs its interleaving everywhere.
     */
    @Test
    void closeRacingProductsLeavesNoPackScratch() throws Exception {
        TestBackends.get("openblas"); // skips if OpenBLAS is not available here
        int m = 32, n = 16, k = 16;
        SplittableRandom r = new SplittableRandom(5);
        ExecutorService caller = Executors.newSingleThreadExecutor();
        try (Arena arena = Arena.ofShared()) {
            float[] av = values(r, m * k), wv = values(r, k * n), expected = new float[m * n];
            try (OpenBlasBackend lone = new OpenBlasBackend(1)) {
                Tensor c = lone.allocate(arena, DType.F32, m, n);
                lone.matmul(Transpose.NO, Transpose.NO, 1f, host(arena, av, m, k), host(arena, wv, k, n), 0f, c);
                org.junit.jupiter.api.Assumptions.assumeTrue(lone.packScratch().byteSize() > 0,
                        "this machine's products do not pack: " + lone.description());
                lone.copyOut(expected, c);
            }
            int leaked = 0;
            for (int round = 0; round < CLOSE_ROUNDS; round++) {
                OpenBlasBackend b = new OpenBlasBackend(1);
                Tensor a = host(arena, av, m, k), w = host(arena, wv, k, n), c = host(arena, new float[m * n], m, n);
                AtomicBoolean running = new AtomicBoolean();
                Future<Integer> calls = caller.submit(() -> {
                    running.set(true);
                    for (int done = 0; ; done++) {
                        try {
                            b.matmul(Transpose.NO, Transpose.NO, 1f, a, w, 0f, c);
                        } catch (IllegalStateException e) {
                            assertEquals("gemm: backend openblas is closed", e.getMessage());
                            return done;
                        }
                    }
                });
                while (!running.get()) {   // spinning: a blocked thread would wake long after the first product
                    Thread.onSpinWait();
                }
                for (int spin = r.nextInt(SPIN); spin > 0; spin--) {
                    Thread.onSpinWait();
                }
                b.close();
                int done = calls.get(30, TimeUnit.SECONDS);   // returns once a call is refused
                assertArrayEquals(done > 0 ? expected : new float[m * n], c.toFloatArray(),
                        "round " + round + ", after " + done + " products: c");
                if (b.packScratch().byteSize() > 0) {
                    leaked++;
                }
            }
            assertEquals(0, leaked, leaked + " of " + CLOSE_ROUNDS + " rounds left a pack scratch that nothing frees"
                    + " after close");
        } finally {
            caller.shutdownNow();
        }
    }

    /**
     * The interleaving that closeRacingProductsLeavesNoPackScratch reaches now and then, every time and on every
     * machine: a product that passed its open check before close and reaches the pack after close has freed the
     * scratch (gemmThroughPack, called after close). It completes, with the bits the scratch gave, and the backend
     * keeps no scratch; it had allocated a new one that nothing freed.
     */
    @Test
    void aProductThatPassedItsCheckBeforeCloseKeepsNoScratch() {
        TestBackends.get("openblas"); // skips if OpenBLAS is not available here
        int m = 64, n = 48, k = 32;
        SplittableRandom r = new SplittableRandom(7);
        OpenBlasBackend b = new OpenBlasBackend(1);
        try (Arena arena = Arena.ofConfined()) {
            Tensor a = host(arena, values(r, m * k), m, k), w = host(arena, values(r, k * n), k, n);
            Tensor c = host(arena, new float[m * n], m, n), late = host(arena, new float[m * n], m, n);
            b.gemmThroughPack(Transpose.NO, m, n, k, a, k, w, n, 0f, c, n);
            MemorySegment scratch = b.packScratch();
            assertTrue(scratch.byteSize() > 0, "the product packed into the backend's scratch");
            b.close();
            assertFalse(scratch.scope().isAlive(), "close freed the scratch");
            b.gemmThroughPack(Transpose.NO, m, n, k, a, k, w, n, 0f, late, n);
            assertEquals(0, b.packScratch().byteSize(), "a product after close left a pack scratch that nothing frees");
            assertArrayEquals(c.toFloatArray(), late.toFloatArray(), "the late product's elements");
        } finally {
            b.close();
        }
    }

    private static float[] values(SplittableRandom r, int count) {
        float[] v = new float[count];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextDouble(-1, 1);
        }
        return v;
    }

    private static Tensor host(Arena arena, float[] values, int rows, int cols) {
        return Tensor.ofFloats(arena, values, rows, cols);
    }

    @Test
    void aMisspeltGemmRoutingIsRefusedByTheConstructor() {
        TestBackends.get("openblas"); // skips if OpenBLAS is not available here
        String before = System.getProperty("seq4j.gemm");
        System.setProperty("seq4j.gemm", "blas");
        try {
            // an explicit setting: selection ends with it (no fallback), the CLI exits 2, seq4j info shows it
            var e = assertThrows(BackendMisconfiguredException.class, () -> new OpenBlasBackend(1));
            assertEquals("-Dseq4j.gemm must be auto or openblas, got 'blas'", e.getMessage());
            assertEquals("-Dseq4j.gemm must be auto or openblas, got 'blas'",
                    new OpenBlasBackendProvider().probe().detail());
            assertThrows(BackendMisconfiguredException.class, () -> org.seq4j.backend.Backends.create("openblas"));
        } finally {
            if (before == null) {
                System.clearProperty("seq4j.gemm");
            } else {
                System.setProperty("seq4j.gemm", before);
            }
        }
    }
}
