// Tensors over the caller's memory without copies: float[]/int[] (heap segments) and direct buffers, on every
// backend. gemm must give, on heap memory, exactly what it gives on the backend's own memory (OpenBLAS reaches
// the heap through critical downcalls); every other native kernel refuses heap tensors with one clear message.
package org.seq4j.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Device;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class HeapMemoryTest {

    @Target(ElementType.METHOD)
    @Retention(RetentionPolicy.RUNTIME)
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    @interface EveryBackend {
    }

    /** A host backend by name; device backends (CUDA) are skipped: heap arrays and buffers are host memory. */
    private static Backend host(String name) {
        Backend b = TestBackends.get(name);
        assumeTrue(b.device().isHost(), () -> name + " works on " + b.device() + ": float[] and buffers are host"
                + " memory, which it never reads in place (copyIn moves them there)");
        return b;
    }

    private static void assertMessage(Executable call, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), () -> "message '" + e.getMessage() + "' should mention '" + p + "'");
        }
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextDouble(-1, 1);
        }
        return x;
    }

    @EveryBackend
    void gemmOnFloatArrays(String name) {
        Backend b = host(name);
        // C (2x2) = A (2x3) . B (3x2): the consumer example's numbers, exact in float
        float[] a = {1, 2, 3, 4, 5, 6};
        float[] bb = {7, 8, 9, 10, 11, 12};
        float[] c = new float[4];
        b.matmul(Transpose.NO, Transpose.NO, 1f, Tensor.wrap(a, 2, 3), Tensor.wrap(bb, 3, 2), 0f, Tensor.wrap(c, 2, 2));
        assertArrayEquals(new float[] {58, 64, 139, 154}, c);
    }

    /**
     * Every path of gemm (sgemm, the one-row and one-column sgemv paths, k = 0, beta = 0 over NaN, transposes, heap
     * and native operands mixed) gives on float[] bit for bit what it gives on the backend's own tensors.
     */
    @EveryBackend
    void gemmOnHeapMatchesGemmOnNativeMemory(String name) {
        Backend b = host(name);
        SplittableRandom r = new SplittableRandom(11);
        int[][] mnk = {{5, 7, 3}, {1, 9, 6}, {8, 1, 5}, {1, 1, 4}, {3, 4, 0}, {33, 17, 65}};
        float[] betas = {0f, 0.5f};
        try (Arena arena = Arena.ofConfined()) {
            for (int[] d : mnk) {
                int m = d[0], n = d[1], k = d[2];
                for (Transpose ta : Transpose.values()) {
                    for (Transpose tb : Transpose.values()) {
                        for (float beta : betas) {
                            for (int mix = 0; mix < 4; mix++) {
                                float[] a = random(r, m * k), bm = random(r, k * n), c0 = random(r, m * n);
                                if (beta == 0f) {
                                    java.util.Arrays.fill(c0, Float.NaN); // beta = 0 must not read C
                                }
                                int lda = Math.max(1, ta.isTransposed() ? m : k);
                                int ldb = Math.max(1, tb.isTransposed() ? k : n);
                                Tensor na = Tensor.ofFloats(arena, a, m * k), nb = Tensor.ofFloats(arena, bm, k * n);
                                Tensor nc = Tensor.ofFloats(arena, c0, m * n);
                                b.gemm(ta, tb, m, n, k, 0.75f, na, lda, nb, ldb, beta, nc, n);
                                float[] c = c0.clone();
                                // mix 0: all on the heap; 1: only c; 2: only a; 3: a and c on the heap, b native
                                Tensor ha = mix == 1 ? na : Tensor.wrap(a, m * k);
                                Tensor hb = mix == 0 ? Tensor.wrap(bm, k * n) : nb;
                                Tensor hc = mix == 2 ? Tensor.ofFloats(arena, c0, m * n) : Tensor.wrap(c, m * n);
                                b.gemm(ta, tb, m, n, k, 0.75f, ha, lda, hb, ldb, beta, hc, n);
                                String what = name + " gemm " + ta + tb + " m=" + m + " n=" + n + " k=" + k + " beta="
                                        + beta + " mix=" + mix;
                                assertArrayEquals(nc.toFloatArray(), hc.toFloatArray(), what);
                            }
                        }
                    }
                }
            }
        }
    }

    @EveryBackend
    void gemmStridedBatchedOnHeapMatchesNativeMemory(String name) {
        Backend b = host(name);
        SplittableRandom r = new SplittableRandom(12);
        int batch = 4, m = 3, n = 5, k = 7;
        float[] a = random(r, batch * m * k), bm = random(r, batch * k * n);
        float[] c = new float[batch * m * n];
        try (Arena arena = Arena.ofConfined()) {
            Tensor nc = Tensor.allocateHost(arena, DType.F32, batch * m * n);
            b.gemmStridedBatched(Transpose.NO, Transpose.YES, m, n, k, 1f, Tensor.ofFloats(arena, a, a.length), k,
                    (long) m * k, Tensor.ofFloats(arena, bm, bm.length), k, (long) k * n, 0f, nc, n, (long) m * n,
                    batch);
            b.gemmStridedBatched(Transpose.NO, Transpose.YES, m, n, k, 1f, Tensor.wrap(a, a.length), k, (long) m * k,
                    Tensor.wrap(bm, bm.length), k, (long) k * n, 0f, Tensor.wrap(c, c.length), n, (long) m * n, batch);
            assertArrayEquals(nc.toFloatArray(), c);
        }
    }

    @EveryBackend
    void gemmOnDirectBuffers(String name) {
        Backend b = host(name);
        ByteBuffer bytesA = ByteBuffer.allocateDirect(6 * 4).order(ByteOrder.nativeOrder());
        FloatBuffer a = bytesA.asFloatBuffer().put(new float[] {1, 2, 3, 4, 5, 6}).flip();
        FloatBuffer bb = ByteBuffer.allocateDirect(6 * 4).order(ByteOrder.nativeOrder()).asFloatBuffer()
                .put(new float[] {7, 8, 9, 10, 11, 12}).flip();
        ByteBuffer c = ByteBuffer.allocateDirect(4 * 4).order(ByteOrder.nativeOrder());
        b.matmul(Transpose.NO, Transpose.NO, 1f, Tensor.wrap(a, 2, 3), Tensor.wrap(bb, 3, 2), 0f,
                Tensor.wrap(c, DType.F32, 2, 2));
        FloatBuffer out = c.asFloatBuffer();
        assertArrayEquals(new float[] {58, 64, 139, 154}, new float[] {out.get(0), out.get(1), out.get(2), out.get(3)});
        // direct memory is native: any kernel takes it, e.g. the sigmoid, written back into a
        b.sigmoidForward(Tensor.wrap(a, 6), Tensor.wrap(bytesA.asFloatBuffer(), 6));
        assertEquals(1 / (1 + Math.exp(-1)), a.get(0), 1e-6);
    }

    @Test
    void wrapChecksSizesOrderAndWritability() {
        assertMessage(() -> Tensor.wrap(new float[5], 2, 3), "float[]", "5 elements", "(2, 3)", "6 elements");
        assertMessage(() -> Tensor.wrap(new int[7], 2, 3), "int[]", "7 elements", "(2, 3)");
        assertMessage(() -> Tensor.wrap(new float[6], 2, -3), "negative dimension");
        FloatBuffer bigEndian = ByteBuffer.allocateDirect(24).order(ByteOrder.BIG_ENDIAN).asFloatBuffer();
        if (ByteOrder.nativeOrder() != ByteOrder.BIG_ENDIAN) {
            assertMessage(() -> Tensor.wrap(bigEndian, 6), "FloatBuffer", "BIG_ENDIAN", "nativeOrder");
            assertMessage(() -> Tensor.wrap(ByteBuffer.allocateDirect(24), DType.F32, 6), "ByteBuffer", "BIG_ENDIAN");
        }
        FloatBuffer direct = ByteBuffer.allocateDirect(24).order(ByteOrder.nativeOrder()).asFloatBuffer();
        assertMessage(() -> Tensor.wrap(direct, 5), "FloatBuffer", "6 elements", "(5,)");
        assertMessage(() -> Tensor.wrap(direct.asReadOnlyBuffer(), 6), "read-only");
        // a read-only buffer over a float[] or int[] has no accessible array either: still "read-only", not "a view"
        assertMessage(() -> Tensor.wrap(FloatBuffer.wrap(new float[6]).asReadOnlyBuffer(), 6), "read-only");
        assertMessage(() -> Tensor.wrap(IntBuffer.wrap(new int[6]).asReadOnlyBuffer(), 6), "read-only");
        assertMessage(() -> Tensor.wrap(ByteBuffer.allocate(24).order(ByteOrder.nativeOrder()).asFloatBuffer(), 6),
                "view of a heap ByteBuffer");
        float[] backing = new float[6];
        Tensor.wrap(FloatBuffer.wrap(backing), 6).setFloat(5, 2f); // a buffer over a float[] is that array
        assertEquals(2f, backing[5]);
        IntBuffer ints = ByteBuffer.allocateDirect(24).order(ByteOrder.nativeOrder()).asIntBuffer();
        assertEquals(DType.I32, Tensor.wrap(ints, 2, 3).dtype());
        assertMessage(() -> Tensor.wrap(ByteBuffer.allocate(24).order(ByteOrder.nativeOrder()), DType.F32, 6),
                "must be direct");
        ByteBuffer bytes = ByteBuffer.allocateDirect(24).order(ByteOrder.nativeOrder());
        assertMessage(() -> Tensor.wrap(bytes, DType.F32, 5), "24 remaining bytes", "20 bytes");
        assertMessage(() -> Tensor.wrap(bytes.position(1).slice().order(ByteOrder.nativeOrder()).limit(20),
                DType.F32, 5), "not aligned");
        // a byte[] is only byte-aligned whatever its offset: the Java backend could not read floats from it
        assertMessage(() -> Tensor.wrap(MemorySegment.ofArray(new byte[24]), DType.F32, Device.CPU, 6),
                "not aligned to 4 bytes", "wrap a float[] or int[]");
        assertEquals(6, Tensor.wrap(MemorySegment.ofArray(new long[3]), DType.F32, Device.CPU, 6).size());
        assertMessage(() -> Tensor.wrap(MemorySegment.ofArray(new float[6]).asReadOnly(), DType.F32, Device.CPU, 6),
                "read-only");
        // the views share the caller's memory: a write through the tensor is a write to the array
        float[] values = new float[6];
        Tensor t = Tensor.wrap(values, 2, 3);
        t.get(1).setFloat(2, 9f);
        assertEquals(9f, values[5]);
    }

    @Test
    void openBlasRefusesHeapTensorsForOtherKernelsWithOneClearMessage() {
        Backend b = TestBackends.get("openblas");
        float[] x = {-1, 0, 1}, y = new float[3];
        assertMessage(() -> b.sigmoidForward(Tensor.wrap(y, 3), Tensor.wrap(x, 3)), "sigmoidForward", "y ",
                "Java heap", "openblas", "copy it into a tensor from allocate()");
        float[] h = new float[2 * 3], c = new float[2 * 3], gates = new float[2 * 12];
        try (Arena arena = Arena.ofConfined()) {
            Tensor hn = b.allocate(arena, DType.F32, 2, 3), cn = b.allocate(arena, DType.F32, 2, 3);
            assertMessage(() -> b.lstmCellForward(hn, cn, Tensor.wrap(gates, 2, 12), Tensor.wrap(c, 2, 3)),
                    "lstmCellForward", "gates");
            // what the message says to do works: copy the array into a tensor of the backend's, or copy out
            Tensor xn = b.allocate(arena, DType.F32, 3);
            b.copy(xn, Tensor.wrap(x, 3));
            b.sigmoidForward(xn, xn);
            b.copy(Tensor.wrap(y, 3), xn);
            assertEquals(0.5f, y[1]);
            assertEquals(1 / (1 + Math.exp(1)), y[0], 1e-6);
        }
        assertEquals(0f, h[0]); // untouched: the refusal came before any kernel ran
    }

    /**
     * requireOperand refuses what the named kernel's own check refuses, and nothing else: a heap tensor for sumRows
     * (on OpenBLAS) but not for gemm, null, a closed tensor; the Java backend takes the heap for either.
     */
    @Test
    void requireOperandRefusesWhatTheKernelWould() {
        Backend b = TestBackends.get("openblas");
        Tensor heap = Tensor.wrap(new float[6], 2, 3);
        assertMessage(() -> b.requireOperand("sumRows", "dout", heap), "sumRows: dout", "Java heap", "openblas");
        b.requireOperand("gemm", "dout", heap);
        TestBackends.get("java").requireOperand("sumRows", "dout", heap);
        NullPointerException npe = assertThrows(NullPointerException.class, () -> b.requireOperand("sumRows", "dout",
                null));
        assertEquals("sumRows: dout is null", npe.getMessage());
        Tensor closed;
        try (Arena arena = Arena.ofConfined()) {
            closed = b.allocate(arena, DType.F32, 2, 3);
            b.requireOperand("sumRows", "dout", closed);
        }
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> b.requireOperand("sumRows", "dout", closed));
        assertTrue(e.getMessage().startsWith("sumRows: dout"), e.getMessage());
    }

    @Test
    void javaBackendTakesHeapTensorsEverywhere() {
        Backend b = TestBackends.get("java");
        float[] x = {-1, 0, 1}, y = new float[3];
        b.sigmoidForward(Tensor.wrap(y, 3), Tensor.wrap(x, 3));
        assertEquals(0.5f, y[1]);
    }

    @EveryBackend
    void distinctArraysNeverOverlapButViewsOfOneArrayDo(String name) {
        Backend b = host(name);
        // two distinct arrays both start at heap address 0: not an overlap (it was reported as one before)
        float[] a = {1, 2, 3, 4}, c = new float[4];
        b.matmul(Transpose.NO, Transpose.NO, 1f, Tensor.wrap(a, 2, 2), Tensor.wrap(a, 2, 2), 0f, Tensor.wrap(c, 2, 2));
        assertArrayEquals(new float[] {7, 10, 15, 22}, c);
        // two views of one array: [0, 4) and [2, 6) overlap, [0, 4) and [4, 8) do not
        float[] one = {1, 2, 3, 4, 0, 0, 0, 0};
        MemorySegment s = MemorySegment.ofArray(one);
        Tensor first = Tensor.wrapHost(s.asSlice(0, 16), 2, 2);
        Tensor middle = Tensor.wrapHost(s.asSlice(8, 16), 2, 2);
        Tensor second = Tensor.wrapHost(s.asSlice(16, 16), 2, 2);
        assertMessage(() -> b.matmul(Transpose.NO, Transpose.NO, 1f, first, first, 0f, middle), "gemm",
                "c and a overlap");
        b.matmul(Transpose.NO, Transpose.NO, 1f, first, first, 0f, second);
        assertArrayEquals(new float[] {1, 2, 3, 4, 7, 10, 15, 22}, one);
    }
}
