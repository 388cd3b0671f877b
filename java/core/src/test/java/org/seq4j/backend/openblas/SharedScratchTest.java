// The products that pack an operand first share one scratch buffer: OpenBlasBackend.gemmThroughPack's (one a
// backend) and seq4j_gemm_tn's (one a process, native/cpu/gemm.c's tn_packed). A call that finds it in use packs into
// memory of its own. Threads calling at once on one backend must each get the result a lone call gets, bit for bit.
// Where those routes do not run (no AVX-512 clone, or OpenBLAS's own AVX-512 kernels) the same calls are sgemm's, and
// the test still holds them to one thread's bits. Six callers, 40 rounds: enough that a caller which took the shared
// buffer without holding it (either side, tried as a mutation) gave another caller wrong elements.
package org.seq4j.backend.openblas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.backend.BackendMisconfiguredException;
import org.seq4j.backend.Transpose;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class SharedScratchTest {
    private static final int CALLERS = 6, ROUNDS = 40;

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
