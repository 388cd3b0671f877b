// The conformance suite: every kernel of Backend, on every backend other than the reference, against
// JavaBackend, on seeded data and odd shapes (0, 1, primes, non-multiples of 8, large). Backends that do
// not load here (e.g. CUDA without a GPU) are skipped with the reason by TestBackends.
//
// Tolerances are |got - ref| <= atol + rtol * |ref|, chosen per kind of kernel:
//  - EXACT: data movement (copy, fill, gather, concat, transposes) and the counter-based dropout mask
//    must match bit for bit; so must argmax.
//  - ONE_ROUNDING: kernels that round once or twice per element in the same order as the reference
//    (scale, addScaled, mul, bias, optimizer updates): 4 ulp (rtol 2^-21) and no atol, so any wrong index or
//    formula fails. This also means kernels must not contract a*b+c into one FMA where the sum can cancel
//    (the C build uses -std=c11, which implies -ffp-contract=off; the CUDA build uses --fmad=false).
//  - TRANSCENDENTAL: exp, sigmoid, tanh through the C kernels' polynomial (about 1-2 ulp each) against
//    Math.exp / Math.tanh in double: rtol 1e-5 (~80 ulp) with atol 1e-6 for values near zero, where a
//    relative bound means nothing (tanh(x) ~ x, sigmoid tails).
//  - SUMS of length L in float (softmax rows, attention dots, column sums): error grows like sqrt(L) u
//    per term magnitude; stated with each test.
//  - GEMM: per element, 4 sqrt(k) u |alpha| sum_l |a_il b_lj| + u |beta c_ij| (the random-walk size of
//    float rounding in a length-k dot product, with 4x margin), computed from the data.
// The data stay inside float's range on the way: a sum whose terms pass it is Inf or NaN in the native kernels (float
// accumulators) and may be finite in the reference (double), a difference the README states rather than a failure.
package org.seq4j.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.Both;
import org.seq4j.testing.Both.Pair;
import org.seq4j.testing.Outputs;
import org.seq4j.testing.TestBackends;

class ConformanceTest {
    static final double ULP = 0x1.0p-24;
    static final double ONE_ROUNDING = 4 * 0x1.0p-23;
    static final double T_ATOL = 1e-6;
    static final double T_RTOL = 1e-5;

    /** Sizes for flat kernels: none, one element, primes, a non-multiple of the vector width, and a large one. */
    static final int[] SIZES = {0, 1, 7, 13, 64, 1000, (1 << 20) + 3};

    /** (rows, columns) for row-wise kernels, zero extents included (Backend: what each op does with them). */
    static final int[][] ROWS = {{0, 5}, {3, 0}, {0, 0}, {1, 1}, {1, 13}, {7, 1}, {3, 5}, {17, 31}, {128, 13},
            {64, 1000}};

    @Target(ElementType.METHOD)
    @Retention(RetentionPolicy.RUNTIME)
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#accelerated")
    @interface EveryBackend {
    }

    private static Both both(String backend, long seed) {
        return new Both(TestBackends.get(backend), seed);
    }

    // ---- memory and data movement ---------------------------------------------------------------------

    @EveryBackend
    void copyFillRoundTrip(String backend) {
        try (Both b = both(backend, 1)) {
            for (int n : SIZES) {
                Pair x = b.uniformPair(-2, 2, n);
                Pair y = b.zeros(DType.F32, n);
                b.ref.copy(y.r(), x.r());
                b.dev.copy(y.d(), x.d());
                b.assertExact("copy n=" + n, y);
                b.ref.fill(y.r(), -3.5f);
                b.dev.fill(y.d(), -3.5f);
                b.assertExact("fill n=" + n, y);
                Pair ids = b.zeros(DType.I32, n);
                b.ref.fill(ids.r(), -1);
                b.dev.fill(ids.d(), -1);
                b.assertExact("fill int32 n=" + n, ids);
            }
        }
    }

    @EveryBackend
    void itemReadsOneElement(String backend) {
        try (Both b = both(backend, 2)) {
            Pair x = b.uniformPair(-1, 1, 5, 7);
            for (long i : new long[] {0, 17, 34}) {
                assertEquals(b.ref.item(x.r(), i), b.dev.item(x.d(), i), 0f, "item(" + i + ")");
            }
        }
    }

    @EveryBackend
    void scaleAxpyMul(String backend) {
        try (Both b = both(backend, 3)) {
            for (int n : SIZES) {
                Pair[] xyz = scaleAxpyMulCase(b, Outputs.plain(b), n);
                Pair x = xyz[0], y = xyz[1];
                b.ref.mul(x.r(), x.r(), y.r());
                b.dev.mul(x.d(), x.d(), y.d());
                b.assertClose("mul in place n=" + n, x, 0, ONE_ROUNDING);
            }
        }
    }

    /** scale, addScaled and mul over n elements; returns {x, y, z} (SizeSweepTest goes on with them). */
    static Pair[] scaleAxpyMulCase(Both b, Outputs o, int n) {
        String size = " n=" + n;
        Pair x = o.uniform("x", -2, 2, n), y = o.uniform("y", -2, 2, n), z = o.zeros("z", n);
        b.ref.scale(x.r(), 0.37f);
        b.dev.scale(x.d(), 0.37f);
        b.assertClose("scale" + size, x, 0, ONE_ROUNDING);
        b.ref.addScaled(y.r(), x.r(), -1.7f);
        b.dev.addScaled(y.d(), x.d(), -1.7f);
        b.assertClose("addScaled" + size, y, 0, ONE_ROUNDING);
        b.ref.mul(z.r(), x.r(), y.r());
        b.dev.mul(z.d(), x.d(), y.d());
        b.assertClose("mul" + size, z, 0, ONE_ROUNDING);
        return new Pair[] {x, y, z};
    }

    @EveryBackend
    void swapAxesConcatSplit(String backend) {
        try (Both b = both(backend, 4)) {
            int[][] ntf = {{0, 5, 2}, {3, 0, 2}, {3, 5, 0}, {1, 1, 1}, {3, 5, 1}, {7, 13, 3}, {128, 29, 16}};
            for (int[] s : ntf) {
                int n = s[0], t = s[1], f = s[2];
                Pair in = b.uniformPair(-1, 1, n, t, f), out = b.zeros(DType.F32, t, n, f);
                b.ref.swapAxes01(out.r(), in.r());
                b.dev.swapAxes01(out.d(), in.d());
                b.assertExact("swapAxes01 (" + n + "," + t + "," + f + ")", out);
                Pair ids = b.i32(b.ints(n * t, 0, 100), n, t), idsT = b.zeros(DType.I32, t, n);
                b.ref.swapAxes01(idsT.r(), ids.r());
                b.dev.swapAxes01(idsT.d(), ids.d());
                b.assertExact("swapAxes01 int32 (" + n + "," + t + ")", idsT);
            }
            for (int[] rc : ROWS) {
                int m = rc[0], f1 = rc[1], f2 = rc[1] / 2 + 3;
                Pair a = b.uniformPair(-1, 1, m, f1), c = b.uniformPair(-1, 1, m, f2);
                Pair out = b.zeros(DType.F32, m, f1 + f2);
                b.ref.concatColumns(out.r(), a.r(), c.r());
                b.dev.concatColumns(out.d(), a.d(), c.d());
                b.assertExact("concatColumns", out);
                Pair da = b.zeros(DType.F32, m, f1), dc = b.zeros(DType.F32, m, f2);
                b.ref.splitColumns(da.r(), dc.r(), out.r());
                b.dev.splitColumns(da.d(), dc.d(), out.d());
                b.assertExact("splitColumns a", da);
                b.assertExact("splitColumns b", dc);
            }
        }
    }

    // ---- BLAS ------------------------------------------------------------------------------------------

    record GemmCase(Transpose ta, Transpose tb, int m, int n, int k, int pad, float alpha, float beta) {
        @Override
        public String toString() {
            return "op" + (ta.isTransposed() ? "T" : "N") + (tb.isTransposed() ? "T" : "N") + " m=" + m + " n=" + n
                    + " k=" + k + " pad=" + pad + " alpha=" + alpha + " beta=" + beta;
        }
    }

    static Stream<Arguments> gemmCases() {
        int[][] mnk = {{0, 7, 13}, {7, 0, 13}, {7, 13, 0}, {1, 13, 0}, {1, 1, 1}, {1, 7, 13}, {13, 1, 7}, {7, 13, 1},
                {17, 31, 29}, {64, 64, 64}, {127, 129, 65},
                {128, 512, 128}, {37, 300, 256}, {1, 1024, 256}, {300, 1, 129}};
        List<GemmCase> cases = new ArrayList<>();
        for (int[] s : mnk) {
            for (Transpose ta : Transpose.values()) {
                for (Transpose tb : Transpose.values()) {
                    cases.add(new GemmCase(ta, tb, s[0], s[1], s[2], 0, 1f, 0f));
                }
            }
            cases.add(new GemmCase(Transpose.NO, Transpose.YES, s[0], s[1], s[2], 3, -0.5f, 1f));
            cases.add(new GemmCase(Transpose.YES, Transpose.NO, s[0], s[1], s[2], 5, 2f, 0.25f));
            // alpha 1 with strides and beta: the CPU backend's packed route for A op(B) (OpenBlasBackend.packedGemmPays)
            cases.add(new GemmCase(Transpose.NO, Transpose.NO, s[0], s[1], s[2], 2, 1f, 0.5f));
            cases.add(new GemmCase(Transpose.NO, Transpose.YES, s[0], s[1], s[2], 1, 1f, -1f));
        }
        return TestBackends.accelerated().flatMap(backend -> cases.stream().map(c -> Arguments.of(backend, Named.of(c.toString(), c))));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("gemmCases")
    void gemm(String backend, GemmCase c) {
        try (Both b = both(backend, 5)) {
            int aRows = c.ta.isTransposed() ? c.k : c.m, aCols = c.ta.isTransposed() ? c.m : c.k;
            int bRows = c.tb.isTransposed() ? c.n : c.k, bCols = c.tb.isTransposed() ? c.k : c.n;
            // a row stride is at least 1, even for matrices with no columns
            int lda = Math.max(1, aCols + c.pad), ldb = Math.max(1, bCols + c.pad), ldc = Math.max(1, c.n + c.pad);
            Pair a = b.uniformPair(-1, 1, aRows * lda);
            Pair bm = b.uniformPair(-1, 1, bRows * ldb);
            Pair cm = b.uniformPair(-1, 1, c.m * ldc);
            float[] ah = b.refValues(a.r()), bh = b.refValues(bm.r()), ch = b.refValues(cm.r());
            b.ref.gemm(c.ta, c.tb, c.m, c.n, c.k, c.alpha, a.r(), lda, bm.r(), ldb, c.beta, cm.r(), ldc);
            b.dev.gemm(c.ta, c.tb, c.m, c.n, c.k, c.alpha, a.d(), lda, bm.d(), ldb, c.beta, cm.d(), ldc);
            assertGemmClose(b, c.toString(), c.ta, c.tb, c.m, c.n, c.k, c.alpha, ah, lda, 0, bh, ldb, 0, c.beta, ch,
                    ldc, 0, b.refValues(cm.r()), b.devValues(cm.d()), 1);
        }
    }

    @EveryBackend
    void gemmWithBetaZeroIgnoresGarbageInC(String backend) {
        try (Both b = both(backend, 19)) {
            // shapes that take the general path, the single-row path, the single-column path and (on AVX-512 with
            // OpenBLAS's 256-bit kernels) the packed route and seq4j_gemm_tn
            int[][] mnk = {{5, 7, 3}, {1, 300, 64}, {300, 1, 64}, {70, 100, 40}};
            for (int[] s : mnk) {
                for (Transpose ta : Transpose.values()) {
                    for (Transpose tb : Transpose.values()) {
                        int m = s[0], n = s[1], k = s[2];
                        Pair a = b.uniformPair(-1, 1, m * k), bm = b.uniformPair(-1, 1, k * n);
                        float[] nan = new float[m * n];
                        java.util.Arrays.fill(nan, Float.NaN);
                        Pair c = b.f32(nan, m * n);
                        int lda = ta.isTransposed() ? m : k, ldb = tb.isTransposed() ? k : n;
                        b.ref.gemm(ta, tb, m, n, k, 1f, a.r(), lda, bm.r(), ldb, 0f, c.r(), n);
                        b.dev.gemm(ta, tb, m, n, k, 1f, a.d(), lda, bm.d(), ldb, 0f, c.d(), n);
                        // finite results on both sides, and equal within the gemm bound (sqrt(k) u per |term|)
                        b.assertClose("gemm beta=0 over NaN, m=" + m + " n=" + n + " k=" + k + " " + ta + tb, c,
                                4 * Math.sqrt(k) * ULP * k, 0);
                    }
                }
            }
        }
    }

    /** alpha = 0: C = beta C, and neither factor is read (as BLAS says), so NaN in A or B does not reach C. */
    @EveryBackend
    void gemmWithAlphaZeroReadsNeitherFactor(String backend) {
        try (Both b = both(backend, 20)) {
            int[][] mnk = {{5, 7, 3}, {1, 300, 64}, {300, 1, 64}, {70, 100, 40}};
            for (int[] s : mnk) {
                int m = s[0], n = s[1], k = s[2];
                for (boolean nanInA : new boolean[] {true, false}) {
                    float[] nan = new float[Math.max(m, n) * k];
                    java.util.Arrays.fill(nan, Float.NaN);
                    Pair a = nanInA ? b.f32(java.util.Arrays.copyOf(nan, m * k), m * k) : b.uniformPair(-1, 1, m * k);
                    Pair bm = nanInA ? b.uniformPair(-1, 1, k * n) : b.f32(java.util.Arrays.copyOf(nan, k * n), k * n);
                    for (Transpose ta : Transpose.values()) {
                        for (Transpose tb : Transpose.values()) {
                            Pair c = b.uniformPair(-1, 1, m * n);
                            int lda = ta.isTransposed() ? m : k, ldb = tb.isTransposed() ? k : n;
                            b.ref.gemm(ta, tb, m, n, k, 0f, a.r(), lda, bm.r(), ldb, 0.5f, c.r(), n);
                            b.dev.gemm(ta, tb, m, n, k, 0f, a.d(), lda, bm.d(), ldb, 0.5f, c.d(), n);
                            b.assertClose("gemm alpha=0, NaN in " + (nanInA ? "A" : "B") + ", m=" + m + " n=" + n
                                    + " k=" + k + " " + ta + tb, c, 0, 0);
                        }
                    }
                }
            }
            // the batched form, two products over one A full of NaN (stride 0)
            int m = 9, n = 10, k = 12;
            float[] nan = new float[m * k];
            java.util.Arrays.fill(nan, Float.NaN);
            Pair a = b.f32(nan, m * k), bm = b.uniformPair(-1, 1, 2 * k * n), c = b.uniformPair(-1, 1, 2 * m * n);
            b.ref.gemmStridedBatched(Transpose.NO, Transpose.NO, m, n, k, 0f, a.r(), k, 0, bm.r(), n, (long) k * n,
                    0.5f, c.r(), n, (long) m * n, 2);
            b.dev.gemmStridedBatched(Transpose.NO, Transpose.NO, m, n, k, 0f, a.d(), k, 0, bm.d(), n, (long) k * n,
                    0.5f, c.d(), n, (long) m * n, 2);
            b.assertClose("gemmStridedBatched alpha=0, NaN in A", c, 0, 0);
        }
    }

    @EveryBackend
    void matmulWithEmptyInnerDimensionScalesC(String backend) {
        try (Both b = both(backend, 18)) {
            Pair a = b.zeros(DType.F32, 3, 0), bm = b.zeros(DType.F32, 0, 4), c = b.uniformPair(-1, 1, 3, 4);
            b.ref.matmul(Transpose.NO, Transpose.NO, 1f, a.r(), bm.r(), 0.5f, c.r());
            b.dev.matmul(Transpose.NO, Transpose.NO, 1f, a.d(), bm.d(), 0.5f, c.d());
            b.assertClose("matmul k=0", c, 0, ONE_ROUNDING);
        }
    }

    /**
     * k = 0 in a batch: A and B are empty and never read, so (as gemm takes any lda with k = 0) strides that point
     * past the end of A and B are accepted and every C becomes beta C. The openblas backend sliced A at i * strideA
     * and failed with FFM's raw out-of-bound error after scaling matrix 0 of C, where the java backend gave beta C.
     */
    @EveryBackend
    void gemmStridedBatchedWithEmptyInnerDimensionScalesEveryC(String backend) {
        try (Both b = both(backend, 21)) {
            float[] c0 = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
            for (Transpose ta : Transpose.values()) {
                for (Transpose tb : Transpose.values()) {
                    Pair a = b.uniformPair(-1, 1, 1), bm = b.uniformPair(-1, 1, 1), c = b.f32(c0, 3, 2, 2);
                    // m = n = 2, k = 0, batch 3: A at stride 1000 and B at stride 7 in one-element tensors
                    b.ref.gemmStridedBatched(ta, tb, 2, 2, 0, 1f, a.r(), 2, 1000, bm.r(), 2, 7, 0.5f, c.r(), 2, 4, 3);
                    b.dev.gemmStridedBatched(ta, tb, 2, 2, 0, 1f, a.d(), 2, 1000, bm.d(), 2, 7, 0.5f, c.d(), 2, 4, 3);
                    b.assertExact("gemmStridedBatched k=0, strides past A and B, " + ta + tb, c);
                    float[] half = new float[c0.length];
                    for (int i = 0; i < half.length; i++) {
                        half[i] = 0.5f * c0[i];
                    }
                    assertArrayEquals(half, b.devValues(c.d()), "C = beta C, " + ta + tb);
                }
            }
        }
    }

    @EveryBackend
    void gemmStridedBatched(String backend) {
        try (Both b = both(backend, 6)) {
            // attention-like: per sequence n, scores (T,) = hs[:, n, :] (T, H) . h[n] (H,), hs time-major (T, N, H)
            int t = 11, n = 7, h = 33;
            Pair hs = b.uniformPair(-1, 1, t, n, h), hv = b.uniformPair(-1, 1, n, h), s = b.zeros(DType.F32, n, t);
            float[] hsh = b.refValues(hs.r()), hh = b.refValues(hv.r()), sh = new float[n * t];
            b.ref.gemmStridedBatched(Transpose.NO, Transpose.NO, t, 1, h, 1f, hs.r(), n * h, h, hv.r(), 1, h,
                    0f, s.r(), 1, t, n);
            b.dev.gemmStridedBatched(Transpose.NO, Transpose.NO, t, 1, h, 1f, hs.d(), n * h, h, hv.d(), 1, h,
                    0f, s.d(), 1, t, n);
            assertGemmClose(b, "batched scores", Transpose.NO, Transpose.NO, t, 1, h, 1f, hsh, n * h, h, hh, 1, h, 0f,
                    sh, 1, t, b.refValues(s.r()), b.devValues(s.d()), n);
            // square batches with transposes, padding and beta
            int m = 9, nn = 10, k = 12, batch = 5, pad = 2;
            int lda = m + pad, ldb = k + pad, ldc = nn + pad;
            long sa = (long) k * lda + 3, sb = (long) nn * ldb + 1, sc = (long) m * ldc + 4;
            Pair a = b.uniformPair(-1, 1, (int) (sa * batch)), bm = b.uniformPair(-1, 1, (int) (sb * batch));
            Pair cm = b.uniformPair(-1, 1, (int) (sc * batch));
            float[] ah = b.refValues(a.r()), bh = b.refValues(bm.r()), ch = b.refValues(cm.r());
            b.ref.gemmStridedBatched(Transpose.YES, Transpose.YES, m, nn, k, 0.5f, a.r(), lda, sa, bm.r(), ldb, sb,
                    -1f, cm.r(), ldc, sc, batch);
            b.dev.gemmStridedBatched(Transpose.YES, Transpose.YES, m, nn, k, 0.5f, a.d(), lda, sa, bm.d(), ldb, sb,
                    -1f, cm.d(), ldc, sc, batch);
            assertGemmClose(b, "batched TT", Transpose.YES, Transpose.YES, m, nn, k, 0.5f, ah, lda, sa, bh, ldb, sb, -1f,
                    ch, ldc, sc, b.refValues(cm.r()), b.devValues(cm.d()), batch);
            // interleaved outputs: the C matrices side by side in each row (strideC = n + 1 < one C's span; the
            // columns between them, and after the last, untouched), which were refused as overlapping
            int sideLdc = batch * (nn + 1) + 2;
            long sideStride = nn + 1;
            Pair side = b.uniformPair(-1, 1, (m - 1) * sideLdc + (batch - 1) * (int) sideStride + nn);
            float[] sideH = b.refValues(side.r());
            b.ref.gemmStridedBatched(Transpose.YES, Transpose.YES, m, nn, k, 1f, a.r(), lda, sa, bm.r(), ldb, sb, 0.5f,
                    side.r(), sideLdc, sideStride, batch);
            b.dev.gemmStridedBatched(Transpose.YES, Transpose.YES, m, nn, k, 1f, a.d(), lda, sa, bm.d(), ldb, sb, 0.5f,
                    side.d(), sideLdc, sideStride, batch);
            assertGemmClose(b, "batched side by side", Transpose.YES, Transpose.YES, m, nn, k, 1f, ah, lda, sa, bh, ldb,
                    sb, 0.5f, sideH, sideLdc, sideStride, b.refValues(side.r()), b.devValues(side.d()), batch);
        }
    }

    // ---- packed weights ----------------------------------------------------------------------------------

    record PackedCase(int m, int n, int k, Transpose trans, PackedMatrix.Precision precision) {
        @Override
        public String toString() {
            return precision + " m=" + m + " n=" + n + " k=" + k + (trans.isTransposed() ? " packed from w^T" : "");
        }
    }

    /**
     * One row (inference), rows that are no multiple of any row block (8, 6, 4, 3), columns that are no multiple of
     * the 16-column panel, k = 1, odd k (BF16 packs rows in pairs), zero extents, transposed packs, and the W1 step's
     * two recurrent products (128 x 512 x 128, and 128 x 128 x 512 packed from Wh^T), and long odd k (over 1024 rows,
     * which the CPU kernel sums in slices for gemm(YES, NO) but in one pass here).
     */
    static Stream<Arguments> packedCases() {
        int[][] mnk = {{0, 5, 3}, {3, 0, 5}, {3, 5, 0}, {1, 1, 1}, {1, 13, 7}, {1, 1024, 256}, {7, 13, 1}, {13, 45, 17},
                {37, 100, 65}, {2, 70, 3}, {9, 33, 2}, {128, 512, 128}, {128, 128, 512}, {9, 40, 1025}, {2, 70, 1281}};
        List<PackedCase> cases = new ArrayList<>();
        for (int[] s : mnk) {
            for (PackedMatrix.Precision precision : PackedMatrix.Precision.values()) {
                for (Transpose trans : Transpose.values()) {
                    cases.add(new PackedCase(s[0], s[1], s[2], trans, precision));
                }
            }
        }
        return TestBackends.accelerated().flatMap(backend -> cases.stream().map(c -> Arguments.of(backend, Named.of(c.toString(), c))));
    }

    /**
     * gemmPacked against the reference's (which multiplies the row-major op(w), for BF16 rounded by roundToBf16),
     * with beta = 0 over a c full of NaN (which must not be read) and with beta = 0.5. The two sides multiply the
     * same float32 values (BF16: the same rounded weights) and differ only in the order of the additions (and fused
     * multiply-adds), so the bound is gemm's, 4 sqrt(k) u sum_l |a_il b_lj|, plus 2 u |beta c_ij|: the C kernel adds
     * beta c_ij to its sum in one fused multiply-add (one rounding of the whole result) where the reference rounds
     * the sum and then the addition, so for small k the two results can differ by two roundings of |beta c_ij|.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("packedCases")
    void gemmPacked(String backend, PackedCase c) {
        try (Both b = both(backend, 31)) {
            int m = c.m, n = c.n, k = c.k;
            boolean t = c.trans.isTransposed();
            Pair a = b.uniformPair(-1, 1, m, k), w = t ? b.uniformPair(-1, 1, n, k) : b.uniformPair(-1, 1, k, n);
            PackedMatrix pr = b.ref.packedMatrix(b.arena(), k, n, c.precision);
            PackedMatrix pd = b.dev.packedMatrix(b.arena(), k, n, c.precision);
            b.ref.pack(pr, c.trans, w.r());
            b.dev.pack(pd, c.trans, w.d());
            float[] ah = b.refValues(a.r()), wh = b.refValues(w.r()), bh = new float[k * n]; // bh: op(w) as stored
            for (int l = 0; l < k; l++) {
                for (int j = 0; j < n; j++) {
                    float v = t ? wh[j * k + l] : wh[l * n + j];
                    bh[l * n + j] = c.precision == PackedMatrix.Precision.BF16 ? PackedMatrix.roundToBf16(v) : v;
                }
            }
            float[] nan = new float[m * n];
            java.util.Arrays.fill(nan, Float.NaN);
            Pair c0 = b.f32(nan, m, n);
            b.ref.gemmPacked(c0.r(), a.r(), pr, 0f);
            b.dev.gemmPacked(c0.d(), a.d(), pd, 0f);
            assertGemmClose(b, c + " beta=0 over NaN", Transpose.NO, Transpose.NO, m, n, k, 1f, ah, k, 0, bh, n, 0, 0f,
                    new float[m * n], n, 0, b.refValues(c0.r()), b.devValues(c0.d()), 1);
            Pair c1 = b.uniformPair(-1, 1, m, n);
            float[] ch = b.refValues(c1.r());
            b.ref.gemmPacked(c1.r(), a.r(), pr, 0.5f);
            b.dev.gemmPacked(c1.d(), a.d(), pd, 0.5f);
            assertGemmClose(b, c + " beta=0.5", Transpose.NO, Transpose.NO, m, n, k, 1f, ah, k, 0, bh, n, 0, 0.5f, ch,
                    n, 0, b.refValues(c1.r()), b.devValues(c1.d()), 1, 2);
        }
    }

    /**
     * The strided pack and product (ldw, lda, ldc larger than the widths), on the same cases: w and a are column
     * blocks of wider matrices (flat slices from a column offset, exactly as long as the strided matrix), c is the
     * left block of an (m, ldc) matrix whose other columns hold a sentinel that neither side may change. Both the
     * reference and the backend are held against the product in double of the same float32 (BF16: rounded)
     * values, with gemm's bound as in {@link #gemmPacked}.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("packedCases")
    void gemmPackedStrided(String backend, PackedCase c) {
        try (Both b = both(backend, 33)) {
            int m = c.m, n = c.n, k = c.k, pad = 1 + (m + n + k) % 5;
            boolean t = c.trans.isTransposed();
            int wRows = t ? n : k, wCols = t ? k : n, ldw = wCols + pad, lda = k + pad, ldc = n + pad;
            Pair wAll = b.uniformPair(-1, 1, wRows, ldw), aAll = b.uniformPair(-1, 1, m, lda);
            PackedMatrix pr = b.ref.packedMatrix(b.arena(), k, n, c.precision);
            PackedMatrix pd = b.dev.packedMatrix(b.arena(), k, n, c.precision);
            b.ref.pack(pr, c.trans, block(wAll.r(), wRows, ldw, pad, wCols), ldw);
            b.dev.pack(pd, c.trans, block(wAll.d(), wRows, ldw, pad, wCols), ldw);
            org.seq4j.tensor.Tensor ar = block(aAll.r(), m, lda, pad, k), ad = block(aAll.d(), m, lda, pad, k);
            float[] wh = b.refValues(wAll.r()), ahAll = b.refValues(aAll.r());
            float[] ah = new float[m * k], bh = new float[k * n]; // dense a and op(w) as packed
            for (int i = 0; i < m; i++) {
                for (int l = 0; l < k; l++) {
                    ah[i * k + l] = ahAll[i * lda + pad + l];
                }
            }
            for (int l = 0; l < k; l++) {
                for (int j = 0; j < n; j++) {
                    float v = t ? wh[j * ldw + pad + l] : wh[l * ldw + pad + j];
                    bh[l * n + j] = c.precision == PackedMatrix.Precision.BF16 ? PackedMatrix.roundToBf16(v) : v;
                }
            }
            float sentinel = 1234.5f;
            float[] random = b.uniform(m * ldc, -1, 1);
            for (int beta = 0; beta < 2; beta++) {
                float[] c0 = new float[m * ldc], start = new float[m * ldc]; // c0: what the bound and gaps compare to
                for (int i = 0; i < m * ldc; i++) { // beta 0: NaN inside c, which must not be read
                    start[i] = i % ldc >= n ? sentinel : beta == 0 ? Float.NaN : random[i];
                    c0[i] = i % ldc >= n ? sentinel : beta == 0 ? 0f : random[i];
                }
                float bf = beta * 0.5f;
                float[] want = c0.clone();
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double sum = bf * (double) c0[i * ldc + j];
                        for (int l = 0; l < k; l++) {
                            sum += (double) ah[i * k + l] * bh[l * n + j];
                        }
                        want[i * ldc + j] = (float) sum;
                    }
                }
                Pair cp = b.f32(start, m, ldc);
                b.ref.gemmPacked(m, cp.r(), ldc, ar, lda, pr, bf);
                b.dev.gemmPacked(m, cp.d(), ldc, ad, lda, pd, bf);
                String what = c + " lda=" + lda + " ldc=" + ldc + " ldw=" + ldw + " beta=" + bf;
                assertGemmClose(b, what + " (reference)", Transpose.NO, Transpose.NO, m, n, k, 1f, ah, k, 0, bh, n, 0,
                        bf, c0, ldc, 0, want, b.refValues(cp.r()), 1, 2);
                assertGemmClose(b, what, Transpose.NO, Transpose.NO, m, n, k, 1f, ah, k, 0, bh, n, 0, bf, c0, ldc, 0,
                        want, b.devValues(cp.d()), 1, 2);
            }
        }
    }

    /**
     * Shapes of a weight gradient h^T dA, gemm(YES, NO) with alpha 1 (m = H or D rows of c, k = T*N), which the CPU
     * backend's AVX-512 kernels run as seq4j_gemm_tn (OpenBlasBackend.gemmTnPays: every c where OpenBLAS runs 256-bit
     * kernels, NativePacked.WIDE, else n >= 64; sgemm on the other clones): zero extents, k = 1, m, n and k no
     * multiples of any row block or of the 16-column panel (a partial last panel), few rows (the kernel's wide path),
     * W1's dWh (128 x 512 x 896) and dWx with D = 16 (16 x 512 x 896), long k that the kernel sums in slices (k > 512;
     * a last slice shorter than the others, or of one row), and
     * more than 512 rows (600 x 70 x 50: seq4j_gemm_tn's only where OpenBLAS runs 256-bit kernels, NativePacked.WIDE),
     * and 260 x 70 x 600, whose b the kernel packs first (native/cpu/gemm.c's TN_PACK_ROWS), and 300 x 13 x 200, one partial
     * panel of c, which the kernel packs and splits by rows.
     */
    static Stream<Arguments> transposedACases() {
        int[][] mnk = {{0, 5, 3}, {3, 0, 5}, {3, 5, 0}, {1, 1, 1}, {7, 13, 1}, {7, 77, 1}, {2, 70, 3}, {13, 45, 17},
                {13, 93, 17}, {37, 100, 65}, {9, 67, 2}, {17, 131, 130}, {16, 512, 896}, {128, 512, 896},
                {3, 96, 1300}, {40, 130, 1100}, {5, 70, 513}, {600, 70, 50}, {260, 70, 600}, {300, 13, 200}};
        return TestBackends.accelerated().flatMap(backend -> Stream.of(mnk).map(s -> Arguments.of(backend,
                Named.of(s[0] + "x" + s[1] + "x" + s[2], s))));
    }

    /**
     * gemm(YES, NO, m, n, k, 1, a, lda, b, ldb, beta, c, ldc): c (m, n) = a^T b + beta c with a stored (k, m) and b
     * (k, n), contiguous (lda = m, ldb = ldc = n) and as column blocks of wider matrices (lda = m + pad, ldb = n +
     * pad, ldc = n + pad: the gaps of a and b must not count, a sentinel in the gaps of c must come back unchanged),
     * with beta = 0 over a c full of NaN (not read) and beta = 1 (the weight gradient's accumulation). Both the
     * reference and the backend are held against the product in double of the same float32 values. Tolerance:
     * gemm's, 4 sqrt(k) u sum_l |a_li b_lj|, plus 2 u |beta c_ij| (beta c_ij may join the sum in one fused
     * multiply-add, as in {@link #gemmPacked}).
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("transposedACases")
    void gemmTransposedA(String backend, int[] s) {
        try (Both b = both(backend, 34)) {
            int m = s[0], n = s[1], k = s[2];
            for (int pad : new int[] {0, 1 + (m + n + k) % 5}) {
                int lda = Math.max(1, m) + pad, ldb = Math.max(1, n) + pad, ldc = Math.max(1, n) + pad;
                Pair aAll = b.uniformPair(-1, 1, k, lda); // a (k, m) = columns [pad, pad + m) of (k, lda)
                Pair bAll = b.uniformPair(-1, 1, k, ldb); // b (k, n) = columns [pad, pad + n) of (k, ldb)
                org.seq4j.tensor.Tensor ar = block(aAll.r(), k, lda, pad, m), ad = block(aAll.d(), k, lda, pad, m);
                org.seq4j.tensor.Tensor br = block(bAll.r(), k, ldb, pad, n), bd = block(bAll.d(), k, ldb, pad, n);
                float[] ahAll = b.refValues(aAll.r()), ah = new float[k * m]; // dense (k, m)
                float[] bhAll = b.refValues(bAll.r()), bh = new float[k * n]; // dense (k, n)
                for (int l = 0; l < k; l++) {
                    for (int i = 0; i < m; i++) {
                        ah[l * m + i] = ahAll[l * lda + pad + i];
                    }
                    for (int j = 0; j < n; j++) {
                        bh[l * n + j] = bhAll[l * ldb + pad + j];
                    }
                }
                float sentinel = 1234.5f;
                float[] random = b.uniform(m * ldc, -1, 1);
                for (float beta : new float[] {0f, 1f}) {
                    float[] c0 = new float[m * ldc], start = new float[m * ldc];
                    for (int i = 0; i < m * ldc; i++) { // beta 0: NaN inside c, which must not be read
                        start[i] = i % ldc >= n ? sentinel : beta == 0 ? Float.NaN : random[i];
                        c0[i] = i % ldc >= n ? sentinel : beta == 0 ? 0f : random[i];
                    }
                    float[] want = c0.clone();
                    for (int i = 0; i < m; i++) {
                        for (int j = 0; j < n; j++) {
                            double sum = beta * (double) c0[i * ldc + j];
                            for (int l = 0; l < k; l++) {
                                sum += (double) ah[l * m + i] * bh[l * n + j];
                            }
                            want[i * ldc + j] = (float) sum;
                        }
                    }
                    Pair cp = b.f32(start, m, ldc);
                    b.ref.gemm(Transpose.YES, Transpose.NO, m, n, k, 1f, ar, lda, br, ldb, beta, cp.r(), ldc);
                    b.dev.gemm(Transpose.YES, Transpose.NO, m, n, k, 1f, ad, lda, bd, ldb, beta, cp.d(), ldc);
                    String what = m + "x" + n + "x" + k + " a^T b lda=" + lda + " ldb=" + ldb + " ldc=" + ldc
                            + " beta=" + beta;
                    assertGemmClose(b, what + " (reference)", Transpose.YES, Transpose.NO, m, n, k, 1f, ah, m, 0, bh, n,
                            0, beta, c0, ldc, 0, want, b.refValues(cp.r()), 1, 2);
                    assertGemmClose(b, what, Transpose.YES, Transpose.NO, m, n, k, 1f, ah, m, 0, bh, n, 0, beta, c0,
                            ldc, 0, want, b.devValues(cp.d()), 1, 2);
                }
            }
        }
    }

    /** Columns [off, off + cols) of a (rows, ld) matrix: a flat slice exactly as long as the strided matrix. */
    private static org.seq4j.tensor.Tensor block(org.seq4j.tensor.Tensor all, int rows, int ld, int off, int cols) {
        long length = rows == 0 || cols == 0 ? 0 : (rows - 1L) * ld + cols;
        return all.flatSlice(Math.min(off, all.size()), (int) length);
    }

    /** A packed matrix is a snapshot: changing w after pack does not change products until the next pack. */
    @EveryBackend
    void packedMatrixIsASnapshot(String backend) {
        try (Both b = both(backend, 32)) {
            int m = 9, n = 37, k = 20;
            for (PackedMatrix.Precision precision : PackedMatrix.Precision.values()) {
                Pair a = b.uniformPair(-1, 1, m, k), w = b.uniformPair(-1, 1, k, n);
                PackedMatrix pr = b.ref.packedMatrix(b.arena(), k, n, precision);
                PackedMatrix pd = b.dev.packedMatrix(b.arena(), k, n, precision);
                b.ref.pack(pr, Transpose.NO, w.r());
                b.dev.pack(pd, Transpose.NO, w.d());
                Pair before = b.zeros(DType.F32, m, n);
                b.dev.gemmPacked(before.d(), a.d(), pd, 0f);
                b.ref.fill(w.r(), 3f); // w changes on both sides; the packed copies keep the old values
                b.dev.fill(w.d(), 3f);
                Pair after = b.zeros(DType.F32, m, n);
                b.ref.gemmPacked(after.r(), a.r(), pr, 0f);
                b.dev.gemmPacked(after.d(), a.d(), pd, 0f);
                b.assertClose(precision + ": a product after w changed, same backend", b.devValues(before.d()),
                        b.devValues(after.d()), 0, 0);
                b.assertClose(precision + ": a product after w changed, against the reference", after,
                        4 * Math.sqrt(k) * ULP * k, 0);
                b.ref.pack(pr, Transpose.NO, w.r()); // packing again takes the new values: every product is 3 sum(a)
                b.dev.pack(pd, Transpose.NO, w.d());
                b.ref.gemmPacked(after.r(), a.r(), pr, 0f);
                b.dev.gemmPacked(after.d(), a.d(), pd, 0f);
                float[] ah = b.refValues(a.r()), got = b.devValues(after.d());
                for (int i = 0; i < m; i++) {
                    double sum = 0;
                    for (int l = 0; l < k; l++) {
                        sum += 3.0 * ah[i * k + l];
                    }
                    assertEquals(sum, got[i * n + n - 1], 4 * Math.sqrt(k) * ULP * 3 * k, precision + ": row " + i
                            + " after packing the new w");
                }
            }
        }
    }

    /**
     * k = 0 is C = beta C whatever alpha is (Backend.gemm), a NaN or infinite alpha too, as BLAS has it; the reference
     * gave NaN (alpha times its empty sum) where OpenBLAS kept beta C (found by CoreApiFuzzTest).
     */
    @EveryBackend
    void gemmWithNoInnerExtentIgnoresAlpha(String backend) {
        try (Both b = both(backend, 41)) {
            for (float alpha : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                Pair a = b.zeros(DType.F32, 3), m = b.zeros(DType.F32, 4);
                Pair c = b.uniformPair(-1, 1, 2, 3, 4);
                float[] expected = b.refValues(c.r());
                for (int i = 0; i < expected.length; i++) {
                    expected[i] *= 0.5f;
                }
                Tensor c0r = c.r().get(0), c0d = c.d().get(0);
                b.ref.gemm(Transpose.NO, Transpose.NO, 3, 4, 0, alpha, a.r(), 1, m.r(), 4, 0.5f, c0r, 4);
                b.dev.gemm(Transpose.NO, Transpose.NO, 3, 4, 0, alpha, a.d(), 1, m.d(), 4, 0.5f, c0d, 4);
                Tensor c1r = c.r().get(1), c1d = c.d().get(1);
                b.ref.gemmStridedBatched(Transpose.YES, Transpose.NO, 3, 2, 0, alpha, a.r(), 3, 0, m.r(), 2, 0, 0.5f,
                        c1r, 4, 2, 2);
                b.dev.gemmStridedBatched(Transpose.YES, Transpose.NO, 3, 2, 0, alpha, a.d(), 3, 0, m.d(), 2, 0, 0.5f,
                        c1d, 4, 2, 2);
                b.assertClose("gemm and gemmStridedBatched k=0 alpha=" + alpha + " (reference: beta C)", expected,
                        b.refValues(c.r()), 0, 0);
                b.assertExact("gemm and gemmStridedBatched k=0 alpha=" + alpha, c);
            }
        }
    }

    /** The per-element gemm tolerance described at the top; elements outside the C matrices must be untouched. */
    private static void assertGemmClose(Both b, String what, Transpose ta, Transpose tb, int m, int n, int k,
                                        float alpha, float[] a, int lda, long sa, float[] bm, int ldb, long sb,
                                        float beta, float[] c0, int ldc, long sc, float[] ref, float[] got, int batch) {
        assertGemmClose(b, what, ta, tb, m, n, k, alpha, a, lda, sa, bm, ldb, sb, beta, c0, ldc, sc, ref, got, batch, 1);
    }

    /** The same with betaUlps u |beta c_ij| in place of u |beta c_ij|. */
    private static void assertGemmClose(Both b, String what, Transpose ta, Transpose tb, int m, int n, int k,
                                        float alpha, float[] a, int lda, long sa, float[] bm, int ldb, long sb,
                                        float beta, float[] c0, int ldc, long sc, float[] ref, float[] got, int batch,
                                        double betaUlps) {
        float[] atol = new float[ref.length];
        boolean[] inside = new boolean[ref.length];
        for (int p = 0; p < batch; p++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int l = 0; l < k; l++) {
                        double av = ta.isTransposed() ? a[(int) (p * sa + (long) l * lda + i)] : a[(int) (p * sa + (long) i * lda + l)];
                        double bv = tb.isTransposed() ? bm[(int) (p * sb + (long) j * ldb + l)] : bm[(int) (p * sb + (long) l * ldb + j)];
                        s += Math.abs(av * bv);
                    }
                    int ci = (int) (p * sc + (long) i * ldc + j);
                    atol[ci] = (float) (4 * Math.sqrt(Math.max(k, 1)) * ULP * Math.abs(alpha) * s
                            + betaUlps * ULP * Math.abs(beta * c0[ci]) + 1e-30);
                    inside[ci] = true;
                }
            }
        }
        for (int i = 0; i < ref.length; i++) {
            if (!inside[i] && Float.floatToIntBits(got[i]) != Float.floatToIntBits(c0[i])) {
                throw new AssertionError(what + " on " + b.dev.name() + ": element " + i
                        + " lies outside every C matrix but was changed from " + c0[i] + " to " + got[i]);
            }
            double diff = Math.abs((double) got[i] - ref[i]);
            if (inside[i] && !(diff <= atol[i])) {
                throw new AssertionError(String.format("%s on %s: C element %d is %.9g, reference %.9g, |diff| %.3g > "
                        + "tolerance %.3g", what, b.dev.name(), i, got[i], ref[i], diff, atol[i]));
            }
        }
    }

    @EveryBackend
    void addBiasAndSumRows(String backend) {
        try (Both b = both(backend, 7)) {
            for (int[] rc : ROWS) {
                Outputs o = Outputs.plain(b);
                addBiasSumRowsCase(b, o, o.uniform("y", -1, 1, rc[0], rc[1]), rc[0], rc[1]);
            }
        }
    }

    /** addBias of a bias of n into y (m, n), then sumRows of y with beta 1 and 0; SizeSweepTest runs it too. */
    static void addBiasSumRowsCase(Both b, Outputs o, Pair y, int m, int n) {
        Pair bias = o.uniform("bias", -1, 1, n), out = o.uniform("out", -1, 1, n);
        b.ref.addBias(y.r(), bias.r());
        b.dev.addBias(y.d(), bias.d());
        b.assertClose("addBias " + m + "x" + n, y, 0, ONE_ROUNDING);
        // both sides sum in double: only the final rounding differs
        b.ref.sumRows(out.r(), y.r(), 1f);
        b.dev.sumRows(out.d(), y.d(), 1f);
        b.assertClose("sumRows beta=1 " + m + "x" + n, out, 1e-6, 1e-6);
        b.ref.sumRows(out.r(), y.r(), 0f);
        b.dev.sumRows(out.d(), y.d(), 0f);
        b.assertClose("sumRows beta=0 " + m + "x" + n, out, 1e-6, 1e-6);
    }

    // ---- activations -----------------------------------------------------------------------------------

    @EveryBackend
    void sigmoidTanh(String backend) {
        try (Both b = both(backend, 8)) {
            for (int n : SIZES) {
                // a wide range reaches both tails and the clamp of the native exp
                Pair x = b.uniformPair(-30, 30, n), y = b.zeros(DType.F32, n), dy = b.uniformPair(-1, 1, n);
                Pair dx = b.zeros(DType.F32, n);
                b.ref.sigmoidForward(y.r(), x.r());
                b.dev.sigmoidForward(y.d(), x.d());
                b.assertClose("sigmoidForward n=" + n, y, T_ATOL, T_RTOL);
                b.ref.sigmoidBackward(dx.r(), y.r(), dy.r());
                b.dev.sigmoidBackward(dx.d(), y.d(), dy.d());
                b.assertClose("sigmoidBackward n=" + n, dx, T_ATOL, T_RTOL);
                Pair small = b.uniformPair(-3, 3, n);
                b.ref.tanhForward(y.r(), small.r());
                b.dev.tanhForward(y.d(), small.d());
                b.assertClose("tanhForward n=" + n, y, T_ATOL, T_RTOL);
                b.ref.tanhForward(y.r(), x.r());
                b.dev.tanhForward(y.d(), x.d());
                b.assertClose("tanhForward wide n=" + n, y, T_ATOL, T_RTOL);
                b.ref.tanhBackward(dx.r(), y.r(), dy.r());
                b.dev.tanhBackward(dx.d(), y.d(), dy.d());
                b.assertClose("tanhBackward n=" + n, dx, T_ATOL, T_RTOL);
                b.ref.tanhForward(x.r(), x.r());
                b.dev.tanhForward(x.d(), x.d());
                b.assertClose("tanhForward in place n=" + n, x, T_ATOL, T_RTOL);
            }
        }
    }

    @EveryBackend
    void softmax(String backend) {
        try (Both b = both(backend, 9)) {
            for (int[] rc : ROWS) {
                softmaxCase(b, Outputs.plain(b), rc[0], rc[1]);
            }
        }
    }

    /** softmaxForward and softmaxBackward over (m, v); returns {x, y, dy, dx} (SizeSweepTest goes on with them). */
    static Pair[] softmaxCase(Both b, Outputs o, int m, int v) {
        Pair x = o.uniform("x", -20, 20, m, v), y = o.zeros("y", m, v), dy = o.uniform("dy", -1, 1, m, v);
        Pair dx = o.zeros("dx", m, v);
        b.ref.softmaxForward(y.r(), x.r());
        b.dev.softmaxForward(y.d(), x.d());
        // a row sum of v exps in float: a relative error of about sqrt(v) u on each probability
        b.assertClose("softmaxForward " + m + "x" + v, y, T_ATOL, T_RTOL);
        b.ref.softmaxBackward(dx.r(), y.r(), dy.r());
        b.dev.softmaxBackward(dx.d(), y.d(), dy.d());
        b.assertClose("softmaxBackward " + m + "x" + v, dx, T_ATOL, T_RTOL);
        return new Pair[] {x, y, dy, dx};
    }

    // ---- recurrent cells -------------------------------------------------------------------------------

    // N=1 and N=3 with H in the hundreds: the native cell splits such few rows across threads by hidden units
    // N = 0 or H = 0: no rows or no units, nothing to compute (and no division by either in a kernel)
    static final int[][] NH = {{0, 5}, {3, 0}, {0, 0}, {1, 1}, {3, 5}, {7, 13}, {20, 33}, {128, 128}, {20, 650},
            {1, 300}, {3, 201}};

    @EveryBackend
    void lstmCell(String backend) {
        try (Both b = both(backend, 10)) {
            for (int[] s : NH) {
                lstmCellCase(b, Outputs.plain(b), s[0], s[1]);
            }
        }
    }

    /** lstmCellForward and both lstmCellBackward forms at (n, h); SizeSweepTest runs it over its sizes. */
    static void lstmCellCase(Both b, Outputs o, int n, int h) {
        Pair gates = o.uniform("gates", -4, 4, n, 4 * h), cPrev = o.uniform("cPrev", -2, 2, n, h);
        Pair hNext = o.zeros("hNext", n, h), cNext = o.zeros("cNext", n, h);
        b.ref.lstmCellForward(hNext.r(), cNext.r(), gates.r(), cPrev.r());
        b.dev.lstmCellForward(hNext.d(), cNext.d(), gates.d(), cPrev.d());
        String shape = " N=" + n + " H=" + h;
        b.assertClose("lstmCellForward gates" + shape, gates, T_ATOL, T_RTOL);
        b.assertClose("lstmCellForward c" + shape, cNext, T_ATOL, T_RTOL);
        b.assertClose("lstmCellForward h" + shape, hNext, T_ATOL, T_RTOL);

        Pair dh = o.uniform("dh", -1, 1, n, h), dc = o.uniform("dc", -1, 1, n, h);
        Pair dA = o.zeros("dA", n, 4 * h), dcPrev = o.zeros("dcPrev", n, h);
        // backward from the reference's saved gates and cell on both sides, so that only the
        // backward kernel is compared here
        b.dev.copyIn(gates.d(), b.refValues(gates.r()));
        b.dev.copyIn(cNext.d(), b.refValues(cNext.r()));
        b.ref.lstmCellBackward(dA.r(), dcPrev.r(), gates.r(), cNext.r(), cPrev.r(), dh.r(), dc.r());
        b.dev.lstmCellBackward(dA.d(), dcPrev.d(), gates.d(), cNext.d(), cPrev.d(), dh.d(), dc.d());
        b.assertClose("lstmCellBackward dA" + shape, dA, T_ATOL, T_RTOL);
        b.assertClose("lstmCellBackward dcPrev" + shape, dcPrev, T_ATOL, T_RTOL);

        // the same with the hidden gradient in two parts, dh + carry, summed in the kernel
        Pair carry = o.uniform("carry", -1, 1, n, h);
        b.ref.lstmCellBackward(dA.r(), dcPrev.r(), gates.r(), cNext.r(), cPrev.r(), dh.r(), carry.r(), dc.r());
        b.dev.lstmCellBackward(dA.d(), dcPrev.d(), gates.d(), cNext.d(), cPrev.d(), dh.d(), carry.d(), dc.d());
        b.assertClose("lstmCellBackward (carry) dA" + shape, dA, T_ATOL, T_RTOL);
        b.assertClose("lstmCellBackward (carry) dcPrev" + shape, dcPrev, T_ATOL, T_RTOL);
        o.check("lstmCell" + shape);
    }

    /**
     * (N, H, T) for the whole-sequence LSTM calls: zero extents and no steps; one and three rows (the CPU backend's
     * per-step calls below 16 rows); 17 and 24 rows (split by rows in parts of 8, the last of 9), H = 37 (gate columns
     * ending in a partial panel), H = 16; W1's 128 x 128; one row at H = 256 and two at H = 272 (the CPU backend's
     * forwards by hidden units in a team of threads, 17 panels of units splitting 9 + 8; the GRU's BF16 one row stays
     * on the per-step loop).
     */
    static final int[][] NHT = {{0, 5, 2}, {3, 0, 2}, {2, 5, 0}, {1, 5, 3}, {3, 37, 4}, {17, 37, 4}, {24, 16, 2},
            {128, 128, 3}, {1, 256, 4}, {2, 272, 3}};

    /**
     * lstmSequenceForward / lstmSequenceBackward, F32 and BF16 weights, from h_0 = 0 (first product left out) and
     * from a state, with dhs and with dhLast only, with and without dcLast. Two checks each: bit for bit the per-step
     * loop of gemmPacked and the cell kernels on the same backend (what the sequence call promises), and the
     * reference's sequence within a tolerance: each step adds at most a product's rounding (gemm's bound, far below
     * 1e-6 here) and the cell's TRANSCENDENTAL error, and with weights of the size of Xavier's init (|w| <=
     * 1/sqrt(H)) through sigmoid and tanh (slopes <= 1) a step does not amplify what it receives by more than about
     * 1, so after T steps the bound is T times a step's: atol T * 1e-6, rtol T * 1e-5.
     */
    @EveryBackend
    void lstmSequence(String backend) {
        try (Both b = both(backend, 12)) {
            for (int[] s : NHT) {
                for (PackedMatrix.Precision precision : PackedMatrix.Precision.values()) {
                    for (boolean fromZero : new boolean[] {true, false}) {
                        lstmSequenceCase(b, Outputs.plain(b), s[0], s[1], s[2], precision, fromZero, false,
                                new int[] {0, 1, 2, 3}, true, 0, true);
                    }
                }
            }
        }
    }

    /**
     * lstmSequenceForward with a table (V = 7, so ids repeat) and ids (T, N): bit for bit embeddingForward of every id
     * into gates and then the call without a table, on the same backend; and the reference's within the tolerance of
     * the call without one (the gather itself is exact). gates starts as garbage on every side: it is only written.
     */
    private static void lstmSequenceGatheredCase(Both b, int n, int h, int t, PackedMatrix wr, PackedMatrix wd,
                                                 boolean fromZero, float[] hs0, float[] cs0, String shape, double atol,
                                                 double rtol) {
        Pair table = b.uniformPair(-2, 2, 7, 4 * h), ids = b.i32(b.ints(t * n, 0, 7), t, n);
        float[] garbage = b.uniform(t * n * 4 * h, -9, 9);
        Pair hs = b.f32(hs0, t + 1, n, h), cs = b.f32(cs0, t + 1, n, h), gates = b.f32(garbage, t, n, 4 * h);
        b.ref.lstmSequenceForward(hs.r(), cs.r(), gates.r(), wr, fromZero, table.r(), ids.r());
        b.dev.lstmSequenceForward(hs.d(), cs.d(), gates.d(), wd, fromZero, table.d(), ids.d());
        b.assertClose("lstmSequenceForward with a table, hs" + shape, hs, atol, rtol);
        b.assertClose("lstmSequenceForward with a table, cs" + shape, cs, atol, rtol);
        b.assertClose("lstmSequenceForward with a table, gates" + shape, gates, atol, rtol);
        Pair hl = b.f32(hs0, t + 1, n, h), cl = b.f32(cs0, t + 1, n, h), gl = b.f32(garbage, t, n, 4 * h);
        b.dev.embeddingForward(gl.d().view(t * n, 4 * h), table.d(), ids.d().view(t * n));
        b.dev.lstmSequenceForward(hl.d(), cl.d(), gl.d(), wd, fromZero);
        sameBits("lstmSequenceForward with a table, hs against the gather first" + shape, b.devValues(hl.d()),
                b.devValues(hs.d()));
        sameBits("lstmSequenceForward with a table, cs against the gather first" + shape, b.devValues(cl.d()),
                b.devValues(cs.d()));
        sameBits("lstmSequenceForward with a table, gates against the gather first" + shape, b.devValues(gl.d()),
                b.devValues(gates.d()));
    }

    /**
     * gruSequenceForward and gruSequenceBackward, F32 and BF16 weights, from h_0 = 0 (first products left out) and from
     * a state, at the shapes
     * of NHT: bit for bit the loop of gemmPacked (row stride 3H) and the two GRU kernels on the same backend, and the
     * reference's within lstmSequence's tolerance (a GRU step's products and kernels are bounded the same way: each
     * product adds gemm's rounding, each kernel its TRANSCENDENTAL error, through slopes of at most 1).
     */
    @EveryBackend
    void gruSequence(String backend) {
        try (Both b = both(backend, 13)) {
            for (int[] s : NHT) {
                for (PackedMatrix.Precision precision : PackedMatrix.Precision.values()) {
                    for (boolean fromZero : new boolean[] {true, false}) {
                        gruSequenceCase(b, Outputs.plain(b), s[0], s[1], s[2], precision, fromZero, 0, true);
                    }
                }
            }
        }
    }

    /** w packed as op(w), a (k, n) right factor, on both sides: {the reference's, the device's}. */
    static PackedMatrix[] packBoth(Both b, Pair w, int k, int n, PackedMatrix.Precision precision, Transpose trans) {
        PackedMatrix r = b.ref.packedMatrix(b.arena(), k, n, precision);
        PackedMatrix d = b.dev.packedMatrix(b.arena(), k, n, precision);
        b.ref.pack(r, trans, w.r());
        b.dev.pack(d, trans, w.d());
        return new PackedMatrix[] {r, d};
    }

    /** An output that the call must write, not accumulate into: zeros, or with garbage > 0 uniform in +-garbage. */
    private static Pair written(Outputs o, String name, double garbage, int... shape) {
        return garbage == 0 ? o.zeros(name, shape) : o.uniform(name, -garbage, garbage, shape);
    }

    /**
     * gruSequenceForward and gruSequenceBackward at (n, h, t); the outputs the calls only write start at garbage
     * (see written); with loops, also bit for bit the device's own per-step loops. SizeSweepTest runs it over its
     * sizes without the loops, its outputs between guard bands.
     */
    static void gruSequenceCase(Both b, Outputs o, int n, int h, int t, PackedMatrix.Precision precision,
                                boolean fromZero, double garbage, boolean loops) {
        String shape = " N=" + n + " H=" + h + " T=" + t + " " + precision + (fromZero ? " from zero" : " from a state");
        double atol = Math.max(1, t) * T_ATOL, rtol = Math.max(1, t) * T_RTOL, scale = 1 / Math.sqrt(Math.max(1, h));
        Pair wz = b.uniformPair(-scale, scale, h, 2 * h), wc = b.uniformPair(-scale, scale, h, h);
        PackedMatrix[] z = packBoth(b, wz, h, 2 * h, precision, Transpose.NO);
        PackedMatrix[] c = packBoth(b, wc, h, h, precision, Transpose.NO);
        PackedMatrix zr = z[0], zd = z[1], hr = c[0], hd = c[1];
        float[] hs0 = b.uniform((t + 1) * n * h, -1, 1);
        if (fromZero) {
            java.util.Arrays.fill(hs0, 0, n * h, 0f);
        }
        float[] pre = b.uniform(t * n * 3 * h, -2, 2);
        Pair hs = o.f32("hs", hs0, t + 1, n, h), gates = o.f32("gates", pre, t, n, 3 * h);
        Pair rhs = written(o, "rhs", garbage, t, n, h);
        b.ref.gruSequenceForward(hs.r(), gates.r(), rhs.r(), zr, hr, fromZero);
        b.dev.gruSequenceForward(hs.d(), gates.d(), rhs.d(), zd, hd, fromZero);
        b.assertClose("gruSequenceForward hs" + shape, hs, atol, rtol);
        b.assertClose("gruSequenceForward gates" + shape, gates, atol, rtol);
        b.assertClose("gruSequenceForward rhs" + shape, rhs, atol, rtol);
        o.check("gruSequenceForward" + shape);
        if (t == 0 || n == 0 || h == 0) {
            return;
        }
        if (loops) {
            // the per-step loop on the device, from the same inputs: the same bits
            Pair hl = b.f32(hs0, t + 1, n, h), gl = b.f32(pre, t, n, 3 * h), rl = b.zeros(DType.F32, t, n, h);
            for (int s = 0; s < t; s++) {
                Tensor g = gl.d().get(s), hPrev = hl.d().get(s), rh = rl.d().get(s);
                if (s > 0 || !fromZero) {
                    b.dev.gemmPacked(n, g, 3 * h, hPrev, h, zd, 1f);
                }
                b.dev.gruGatesForward(rh, g, hPrev);
                if (s > 0 || !fromZero) {
                    b.dev.gemmPacked(n, g.flatSlice(2L * h, n * 3 * h - 2 * h), 3 * h, rh, h, hd, 1f);
                }
                b.dev.gruCellForward(hl.d().get(s + 1), g, hPrev);
            }
            sameBits("gruSequenceForward hs against the loop" + shape, b.devValues(hl.d()), b.devValues(hs.d()));
            sameBits("gruSequenceForward gates against the loop" + shape, b.devValues(gl.d()), b.devValues(gates.d()));
            sameBits("gruSequenceForward rhs against the loop" + shape, b.devValues(rl.d()), b.devValues(rhs.d()));
        }
        gruSequenceBackwardCase(b, o, n, h, t, precision, wz, wc, gates, hs, shape, atol, rtol, garbage, loops);
    }

    /**
     * gruSequenceBackward from the reference's saved gates and states on both sides (so that only the backward is
     * compared): the reference's within the same tolerance, and with loops bit for bit the device's own per-step loop.
     */
    private static void gruSequenceBackwardCase(Both b, Outputs o, int n, int h, int t, PackedMatrix.Precision precision,
                                                Pair wz, Pair wc, Pair gates, Pair hs, String shape, double atol,
                                                double rtol, double garbage, boolean loops) {
        PackedMatrix[] z = packBoth(b, wz, 2 * h, h, precision, Transpose.YES);
        PackedMatrix[] c = packBoth(b, wc, h, h, precision, Transpose.YES);
        PackedMatrix zr = z[0], zd = z[1], hr = c[0], hd = c[1];
        b.dev.copyIn(gates.d(), b.refValues(gates.r()));
        b.dev.copyIn(hs.d(), b.refValues(hs.r()));
        float[] out = b.uniform(t * n * h, -1, 1);
        Pair dA = written(o, "dA", garbage, t, n, 3 * h), dh0 = o.f32("dh0", b.uniform(n * h, -5, 5), n, h);
        Pair dhs = o.f32("dhs", out, t, n, h), drh = written(o, "drh", garbage, n, h);
        b.ref.gruSequenceBackward(dA.r(), dh0.r(), dhs.r(), drh.r(), gates.r(), hs.r(), zr, hr);
        b.dev.gruSequenceBackward(dA.d(), dh0.d(), dhs.d(), drh.d(), gates.d(), hs.d(), zd, hd);
        b.assertClose("gruSequenceBackward dA" + shape, dA, atol, rtol);
        b.assertClose("gruSequenceBackward dh0" + shape, dh0, atol, rtol);
        b.assertClose("gruSequenceBackward dhs" + shape, dhs, atol, rtol);
        o.check("gruSequenceBackward" + shape);
        assertEquals(n * h, dh0.d().size());
        if (!loops || t == 0 || n == 0 || h == 0) {
            return;
        }
        // the per-step loop on the device: the same bits (dh0 starts as garbage in the call above: it is written)
        Pair la = b.zeros(DType.F32, t, n, 3 * h), l0 = b.zeros(DType.F32, n, h), ls = b.f32(out, t, n, h);
        Tensor r = b.zeros(DType.F32, n, h).d();
        for (int s = t - 1; s >= 0; s--) {
            Tensor d = la.d().get(s), dhNext = ls.d().get(s), dhPrev = s > 0 ? ls.d().get(s - 1) : l0.d();
            b.dev.gruCellBackward(d, gates.d().get(s), hs.d().get(s), dhNext);
            b.dev.gemmPacked(n, r, h, d.flatSlice(2L * h, n * 3 * h - 2 * h), 3 * h, hd, 0f);
            b.dev.gruGatesBackward(d, dhPrev, gates.d().get(s), hs.d().get(s), dhNext, r);
            b.dev.gemmPacked(n, dhPrev, h, d, 3 * h, zd, 1f);
        }
        sameBits("gruSequenceBackward dA against the loop" + shape, b.devValues(la.d()), b.devValues(dA.d()));
        sameBits("gruSequenceBackward dh0 against the loop" + shape, b.devValues(l0.d()), b.devValues(dh0.d()));
        sameBits("gruSequenceBackward dhs against the loop" + shape, b.devValues(ls.d()), b.devValues(dhs.d()));
    }

    /**
     * lstmSequenceForward and lstmSequenceBackward at (n, h, t): the forward with a table (ids (T, N) into 7 rows) or
     * without, the backward once for each mode (bit 0: with dhs, else dhLast only; bit 1: with dcLast), with dh0 or
     * without; the outputs the backward only writes start at garbage (see written). With loops, also bit for bit the
     * device's own per-step loops and lstmSequenceGatheredCase. SizeSweepTest runs it over its sizes without the
     * loops, its outputs between guard bands.
     */
    static void lstmSequenceCase(Both b, Outputs o, int n, int h, int t, PackedMatrix.Precision precision,
                                 boolean fromZero, boolean table, int[] modes, boolean withDh0, double garbage,
                                 boolean loops) {
        String shape = " N=" + n + " H=" + h + " T=" + t + " " + precision + (fromZero ? " from zero" : " from a state");
        double atol = Math.max(1, t) * T_ATOL, rtol = Math.max(1, t) * T_RTOL, scale = 1 / Math.sqrt(Math.max(1, h));
        Pair w = b.uniformPair(-scale, scale, h, 4 * h);
        PackedMatrix[] f = packBoth(b, w, h, 4 * h, precision, Transpose.NO);
        PackedMatrix[] bt = packBoth(b, w, 4 * h, h, precision, Transpose.YES);
        PackedMatrix wr = f[0], wd = f[1], tr = bt[0], td = bt[1];
        float[] hs0 = b.uniform((t + 1) * n * h, -1, 1), cs0 = b.uniform((t + 1) * n * h, -1, 1);
        if (fromZero) {
            java.util.Arrays.fill(hs0, 0, n * h, 0f);
        }
        float[] pre = b.uniform(t * n * 4 * h, -2, 2);
        Pair hs = o.f32("hs", hs0, t + 1, n, h), cs = o.f32("cs", cs0, t + 1, n, h);
        Pair gates = o.f32("gates", pre, t, n, 4 * h);
        if (table) {
            Pair tab = b.uniformPair(-2, 2, 7, 4 * h), ids = b.i32(b.ints(t * n, 0, 7), t, n);
            b.ref.lstmSequenceForward(hs.r(), cs.r(), gates.r(), wr, fromZero, tab.r(), ids.r());
            b.dev.lstmSequenceForward(hs.d(), cs.d(), gates.d(), wd, fromZero, tab.d(), ids.d());
            shape += " with a table";
        } else {
            b.ref.lstmSequenceForward(hs.r(), cs.r(), gates.r(), wr, fromZero);
            b.dev.lstmSequenceForward(hs.d(), cs.d(), gates.d(), wd, fromZero);
        }
        b.assertClose("lstmSequenceForward hs" + shape, hs, atol, rtol);
        b.assertClose("lstmSequenceForward cs" + shape, cs, atol, rtol);
        b.assertClose("lstmSequenceForward gates" + shape, gates, atol, rtol);
        o.check("lstmSequenceForward" + shape);
        if (loops) {
            // the per-step loop on the device, from the same inputs: the same bits
            Pair hl = b.f32(hs0, t + 1, n, h), cl = b.f32(cs0, t + 1, n, h), gl = b.f32(pre, t, n, 4 * h);
            for (int s = 0; s < t; s++) {
                if (s > 0 || !fromZero) {
                    b.dev.gemmPacked(gl.d().get(s), hl.d().get(s), wd, 1f);
                }
                b.dev.lstmCellForward(hl.d().get(s + 1), cl.d().get(s + 1), gl.d().get(s), cl.d().get(s));
            }
            sameBits("lstmSequenceForward hs against the loop" + shape, b.devValues(hl.d()), b.devValues(hs.d()));
            sameBits("lstmSequenceForward cs against the loop" + shape, b.devValues(cl.d()), b.devValues(cs.d()));
            sameBits("lstmSequenceForward gates against the loop" + shape, b.devValues(gl.d()), b.devValues(gates.d()));
            lstmSequenceGatheredCase(b, n, h, t, wr, wd, fromZero, hs0, cs0, shape, atol, rtol);
        }

        // backward from the reference's saved gates and cells on both sides, so that only the backward is compared
        b.dev.copyIn(gates.d(), b.refValues(gates.r()));
        b.dev.copyIn(cs.d(), b.refValues(cs.r()));
        Pair dhs = b.uniformPair(-1, 1, t, n, h), dhLast = b.uniformPair(-1, 1, n, h), dcLast = b.uniformPair(-1, 1, n, h);
        for (int mode : modes) {
            boolean withDhs = (mode & 1) != 0, withDc = (mode & 2) != 0;
            String what = shape + (withDhs ? " dhs" : " dhLast") + (withDc ? " dcLast" : "") + (withDh0 ? "" : " no dh0");
            Pair dA = written(o, "dA", garbage, t, n, 4 * h), dh0 = written(o, "dh0", garbage, n, h);
            Pair dc0 = written(o, "dc0", garbage, n, h), work = written(o, "work", garbage, 3, n, h);
            b.ref.lstmSequenceBackward(dA.r(), withDh0 ? dh0.r() : null, dc0.r(), work.r(), gates.r(), cs.r(),
                    withDhs ? dhs.r() : null, dhLast.r(), withDc ? dcLast.r() : null, tr);
            b.dev.lstmSequenceBackward(dA.d(), withDh0 ? dh0.d() : null, dc0.d(), work.d(), gates.d(), cs.d(),
                    withDhs ? dhs.d() : null, dhLast.d(), withDc ? dcLast.d() : null, td);
            b.assertClose("lstmSequenceBackward dA" + what, dA, atol, rtol);
            if (withDh0) {
                b.assertClose("lstmSequenceBackward dh0" + what, dh0, atol, rtol);
            }
            b.assertClose("lstmSequenceBackward dc0" + what, dc0, atol, rtol);
            o.check("lstmSequenceBackward" + what);
            if (!loops) {
                continue;
            }
            if (t == 0 || n == 0 || h == 0) {
                Pair dc02 = b.zeros(DType.F32, n, h);
                b.dev.lstmSequenceBackward(dA.d(), null, dc02.d(), work.d(), gates.d(), cs.d(), withDhs ? dhs.d() : null,
                        dhLast.d(), withDc ? dcLast.d() : null, td);
                sameBits("lstmSequenceBackward dc0 without dh0" + what, b.devValues(dc0.d()), b.devValues(dc02.d()));
                continue;
            }
            // the per-step loop on the device: the same bits
            Pair la = b.zeros(DType.F32, t, n, 4 * h), lh0 = b.zeros(DType.F32, n, h), carry = b.zeros(DType.F32, n, h);
            Tensor next = b.zeros(DType.F32, n, h).d(), prev = b.zeros(DType.F32, n, h).d();
            if (withDc) {
                b.dev.copy(next, dcLast.d());
            }
            for (int s = t - 1; s >= 0; s--) {
                Tensor out = withDhs ? dhs.d().get(s) : s == t - 1 ? dhLast.d() : carry.d();
                if (withDhs && s < t - 1) {
                    b.dev.lstmCellBackward(la.d().get(s), prev, gates.d().get(s), cs.d().get(s + 1), cs.d().get(s), out,
                            carry.d(), next);
                } else {
                    b.dev.lstmCellBackward(la.d().get(s), prev, gates.d().get(s), cs.d().get(s + 1), cs.d().get(s), out,
                            next);
                }
                b.dev.gemmPacked(s > 0 ? carry.d() : lh0.d(), la.d().get(s), td, 0f);
                Tensor x = next;
                next = prev;
                prev = x;
            }
            sameBits("lstmSequenceBackward dA against the loop" + what, b.devValues(la.d()), b.devValues(dA.d()));
            sameBits("lstmSequenceBackward dh0 against the loop" + what, b.devValues(lh0.d()), b.devValues(dh0.d()));
            sameBits("lstmSequenceBackward dc0 against the loop" + what, b.devValues(next), b.devValues(dc0.d()));
            // without dh0 (not wanted): the same dA and dc0, and dA[0] Wh^T gives dh0 later, the same bits
            Pair dA2 = b.zeros(DType.F32, t, n, 4 * h), dc02 = b.zeros(DType.F32, n, h), late = b.zeros(DType.F32, n, h);
            b.dev.lstmSequenceBackward(dA2.d(), null, dc02.d(), b.zeros(DType.F32, 3, n, h).d(), gates.d(), cs.d(),
                    withDhs ? dhs.d() : null, dhLast.d(), withDc ? dcLast.d() : null, td);
            sameBits("lstmSequenceBackward dA without dh0" + what, b.devValues(dA.d()), b.devValues(dA2.d()));
            sameBits("lstmSequenceBackward dc0 without dh0" + what, b.devValues(dc0.d()), b.devValues(dc02.d()));
            b.dev.gemmPacked(late.d(), dA2.d().get(0), td, 0f);
            sameBits("lstmSequenceBackward dh0 from dA[0] afterwards" + what, b.devValues(dh0.d()), b.devValues(late.d()));
        }
    }

    private static void sameBits(String what, float[] want, float[] got) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
                throw new AssertionError(what + ": element " + i + " is " + got[i] + ", the loop gives " + want[i]);
            }
        }
    }

    /**
     * Non-finite pre-activations: NaN must reach h and c of its unit (so that a NaN loss is seen), and
     * +-Inf or huge values must saturate the gates as the reference does, in the vector loop (units 0..15)
     * and its scalar tail (unit 17).
     */
    @EveryBackend
    void lstmCellNonFinite(String backend) {
        try (Both b = both(backend, 11)) {
            int n = 2, h = 18;
            float[] gates = new float[n * 4 * h], cPrev = new float[n * h];
            java.util.Arrays.fill(gates, 0.5f);
            int[] units = {3, 17};
            for (int u : units) {
                gates[u] = Float.NaN;                               // row 0: f of unit u
                gates[4 * h + 2 * h + u] = Float.POSITIVE_INFINITY; // row 1: i of unit u
                gates[4 * h + h + u] = -1e30f;                      // row 1: g of unit u
                gates[4 * h + 3 * h + u] = Float.NEGATIVE_INFINITY; // row 1: o of unit u
            }
            Pair g = b.f32(gates, n, 4 * h), c = b.f32(cPrev, n, h);
            Pair hNext = b.zeros(DType.F32, n, h), cNext = b.zeros(DType.F32, n, h);
            b.ref.lstmCellForward(hNext.r(), cNext.r(), g.r(), c.r());
            b.dev.lstmCellForward(hNext.d(), cNext.d(), g.d(), c.d());
            float[] hr = b.refValues(hNext.r()), hd = b.devValues(hNext.d());
            float[] cr = b.refValues(cNext.r()), cd = b.devValues(cNext.d());
            for (int u : units) {
                assertEquals(Float.NaN, hd[u], "h of unit " + u + " with a NaN forget gate");
                assertEquals(Float.NaN, cd[u], "c of unit " + u + " with a NaN forget gate");
                assertEquals(Float.NaN, hr[u], "reference h of unit " + u);
                assertEquals(cr[h + u], cd[h + u], T_ATOL, "c of unit " + u + " with saturated gates");
                assertEquals(hr[h + u], hd[h + u], T_ATOL, "h of unit " + u + " with saturated gates");
            }
            float[] gr = b.refValues(g.r()), gd = b.devValues(g.d());
            for (int k = 4 * h; k < gr.length; k++) {
                assertEquals(gr[k], gd[k], T_ATOL + T_RTOL * Math.abs(gr[k]), "activated gate " + k + " of row 1");
            }
        }
    }

    /**
     * The GRU cell's four kernels (gates z, r, h). Forward: sigmoid and tanh, so TRANSCENDENTAL. Backward: no
     * transcendental function, and every backend evaluates each element's products and sums in the reference's
     * order without FMA contraction, so ONE_ROUNDING (in practice bit for bit). Each kernel is compared from the
     * reference's inputs on both sides, so a difference points at that kernel.
     */
    @EveryBackend
    void gruCell(String backend) {
        try (Both b = both(backend, 12)) {
            for (int[] s : NH) {
                gruCellCase(b, Outputs.plain(b), s[0], s[1]);
            }
        }
    }

    /** The four GRU cell kernels at (n, h); SizeSweepTest runs it over its sizes. */
    static void gruCellCase(Both b, Outputs o, int n, int h) {
        String shape = " N=" + n + " H=" + h;
        Pair gates = o.uniform("gates", -4, 4, n, 3 * h), hPrev = o.uniform("hPrev", -1, 1, n, h);
        Pair rh = o.zeros("rh", n, h), hNext = o.zeros("hNext", n, h);
        b.ref.gruGatesForward(rh.r(), gates.r(), hPrev.r());
        b.dev.gruGatesForward(rh.d(), gates.d(), hPrev.d());
        b.assertClose("gruGatesForward gates" + shape, gates, T_ATOL, T_RTOL);
        b.assertClose("gruGatesForward rh" + shape, rh, T_ATOL, T_RTOL);

        b.dev.copyIn(gates.d(), b.refValues(gates.r()));
        b.ref.gruCellForward(hNext.r(), gates.r(), hPrev.r());
        b.dev.gruCellForward(hNext.d(), gates.d(), hPrev.d());
        b.assertClose("gruCellForward gates" + shape, gates, T_ATOL, T_RTOL);
        b.assertClose("gruCellForward h" + shape, hNext, T_ATOL, T_RTOL);

        // backward from the reference's activated gates; dA starts random so that a kernel writing
        // columns that are not its own is seen; dhPrev starts random because it accumulates
        b.dev.copyIn(gates.d(), b.refValues(gates.r()));
        Pair dh = o.uniform("dh", -1, 1, n, h), drh = o.uniform("drh", -1, 1, n, h);
        Pair dA = o.uniform("dA", -3, 3, n, 3 * h), dhPrev = o.uniform("dhPrev", -1, 1, n, h);
        b.ref.gruCellBackward(dA.r(), gates.r(), hPrev.r(), dh.r());
        b.dev.gruCellBackward(dA.d(), gates.d(), hPrev.d(), dh.d());
        b.assertClose("gruCellBackward dA" + shape, dA, 0, ONE_ROUNDING);
        b.ref.gruGatesBackward(dA.r(), dhPrev.r(), gates.r(), hPrev.r(), dh.r(), drh.r());
        b.dev.gruGatesBackward(dA.d(), dhPrev.d(), gates.d(), hPrev.d(), dh.d(), drh.d());
        b.assertClose("gruGatesBackward dA" + shape, dA, 0, ONE_ROUNDING);
        b.assertClose("gruGatesBackward dhPrev" + shape, dhPrev, 0, ONE_ROUNDING);
        o.check("gruCell" + shape);
    }

    /** A NaN pre-activation reaches h of its unit; saturated gates (+-Inf, huge) agree with the reference. */
    @EveryBackend
    void gruCellNonFinite(String backend) {
        try (Both b = both(backend, 13)) {
            int n = 2, h = 18;
            float[] gates = new float[n * 3 * h], hPrev = new float[n * h];
            java.util.Arrays.fill(gates, 0.5f);
            java.util.Arrays.fill(hPrev, 0.25f);
            int[] units = {3, 17};   // in the vector loop and in its scalar tail
            for (int u : units) {
                gates[u] = Float.NaN;                              // row 0: z of unit u
                gates[3 * h + u] = Float.POSITIVE_INFINITY;        // row 1: z
                gates[3 * h + h + u] = Float.NEGATIVE_INFINITY;    // row 1: r
                gates[3 * h + 2 * h + u] = -1e30f;                 // row 1: candidate
            }
            Pair g = b.f32(gates, n, 3 * h), hp = b.f32(hPrev, n, h);
            Pair rh = b.zeros(DType.F32, n, h), hNext = b.zeros(DType.F32, n, h);
            b.ref.gruGatesForward(rh.r(), g.r(), hp.r());
            b.dev.gruGatesForward(rh.d(), g.d(), hp.d());
            b.ref.gruCellForward(hNext.r(), g.r(), hp.r());
            b.dev.gruCellForward(hNext.d(), g.d(), hp.d());
            float[] hr = b.refValues(hNext.r()), hd = b.devValues(hNext.d());
            for (int u : units) {
                assertEquals(Float.NaN, hr[u], "reference h of unit " + u + " with a NaN update gate");
                assertEquals(Float.NaN, hd[u], "h of unit " + u + " with a NaN update gate");
                assertEquals(hr[h + u], hd[h + u], T_ATOL, "h of unit " + u + " with saturated gates");
                assertEquals(-1f, hd[h + u], T_ATOL, "z = 1 and hhat = tanh(-1e30) = -1 give h = -1");
            }
        }
    }

    /**
     * Gates saturated above (x from about 17.4 up, where 1 / (1 + exp(-x)) rounds to 1, +Inf included) are exactly 1, as in the
     * reference, in the cells' vector loops (unit 3) and their scalar tails (unit 17). The AVX2 clone's sigmoid stopped
     * at 1 - 2^-24 (vrcpps and one Newton step): finite results moved by 6e-8 of h_prev, but a GRU's (1 - z) h_prev with
     * z = sigmoid(+Inf) and an h_prev of -Inf was -Inf there, and NaN (0 * Inf) in the reference and the other clones,
     * so the backends classified the same non-finite state differently (gruSequenceForward from h_0 = +-Inf).
     */
    @EveryBackend
    void gatesSaturatedAboveAreExactlyOne(String backend) {
        try (Both b = both(backend, 38)) {
            float[] above = {Float.POSITIVE_INFINITY, Float.MAX_VALUE, 1e4f, 100f, 30f, 18f};
            int n = 2, h = 18;
            int[] units = {3, 17};
            // LSTM: f, i and o of row 1 saturated above, g = 0.5; row 0 finite
            float[] gates = new float[n * 4 * h], cPrev = new float[n * h];
            java.util.Arrays.fill(gates, 0.5f);
            java.util.Arrays.fill(cPrev, 0.25f);
            for (int k = 0; k < units.length; k++) {
                int u = units[k];
                gates[4 * h + u] = above[k];
                gates[4 * h + 2 * h + u] = above[k + 2];
                gates[4 * h + 3 * h + u] = above[k + 4];
            }
            Pair g = b.f32(gates, n, 4 * h), c = b.f32(cPrev, n, h);
            Pair hNext = b.zeros(DType.F32, n, h), cNext = b.zeros(DType.F32, n, h);
            b.ref.lstmCellForward(hNext.r(), cNext.r(), g.r(), c.r());
            b.dev.lstmCellForward(hNext.d(), cNext.d(), g.d(), c.d());
            float[] gd = b.devValues(g.d());
            for (int u : units) {
                for (int gate : new int[] {0, 2, 3}) {
                    assertEquals(1f, b.refValues(g.r())[4 * h + gate * h + u], "reference gate " + gate + " unit " + u);
                    assertEquals(1f, gd[4 * h + gate * h + u], "LSTM gate " + gate + " (f, g, i, o) of unit " + u);
                }
            }
            // GRU: z = sigmoid(+Inf ...) = 1 and r = 1 exactly; with h_prev = -Inf, h = (1 - z) h_prev + z hhat is
            // 0 * -Inf = NaN on every backend
            float[] gg = new float[n * 3 * h], hPrev = new float[n * h];
            java.util.Arrays.fill(gg, 0.5f);
            java.util.Arrays.fill(hPrev, 0.25f);
            for (int k = 0; k < units.length; k++) {
                int u = units[k];
                gg[3 * h + u] = above[k];                      // row 1: z
                gg[3 * h + h + u] = above[k + 2];              // row 1: r
                hPrev[h + u] = Float.NEGATIVE_INFINITY;
            }
            Pair g3 = b.f32(gg, n, 3 * h), hp = b.f32(hPrev, n, h);
            Pair rh = b.zeros(DType.F32, n, h), hn = b.zeros(DType.F32, n, h);
            b.ref.gruGatesForward(rh.r(), g3.r(), hp.r());
            b.dev.gruGatesForward(rh.d(), g3.d(), hp.d());
            float[] zr = b.devValues(g3.d());
            for (int u : units) {
                assertEquals(1f, zr[3 * h + u], "GRU z of unit " + u);
                assertEquals(1f, zr[3 * h + h + u], "GRU r of unit " + u);
            }
            b.ref.gruCellForward(hn.r(), g3.r(), hp.r());
            b.dev.gruCellForward(hn.d(), g3.d(), hp.d());
            float[] hr = b.refValues(hn.r()), hd = b.devValues(hn.d());
            for (int u : units) {
                assertEquals(Float.NaN, hr[h + u], "reference h of unit " + u + ": z = 1, h_prev = -Inf");
                assertEquals(Float.NaN, hd[h + u], "h of unit " + u + ": z = 1, h_prev = -Inf (0 * -Inf)");
            }
        }
    }

    /** Pre-activations whose exact sigmoid, or softmax weight, is below half float's smallest subnormal (x <= -105). */
    static final float[] FAR_BELOW = {Float.NEGATIVE_INFINITY, -Float.MAX_VALUE, -1e38f, -1e4f, -200f, -110f};

    /**
     * A gate saturated far below exp's range (FAR_BELOW) is exactly 0 in the reference, and must be 0 here: the native
     * exp once stopped at exp(88.3), so that sigmoid(-1e4) was 4.5e-39, and a forget gate of -1e4 kept 0.45 of a cell
     * state of 1e38 (c = 0.74 where the reference has g i = 0.29); the GRU's reset gate the same of h_prev. Units 0..15
     * run in the vector loops, 16 and 17 in their tails. Tolerance: TRANSCENDENTAL on c, h and r h, whose exact values
     * here are g i, o tanh(g i) and 0; bit for bit on the sigmoid of each FAR_BELOW value, +0 on both sides (1 / (1 +
     * Inf)). Between -104 and -88.4 the reference keeps sigmoid's exact subnormal value, which float's exp cannot reach
     * (numpy's float32 gives 0 there too): that band is left out.
     */
    @EveryBackend
    void gatesSaturatedFarBelowExpsRange(String backend) {
        try (Both b = both(backend, 36)) {
            float[] x = new float[37];
            for (int k = 0; k < x.length; k++) {
                x[k] = FAR_BELOW[k % FAR_BELOW.length];
            }
            Pair xs = b.f32(x, x.length), ys = b.zeros(DType.F32, x.length);
            b.ref.sigmoidForward(ys.r(), xs.r());
            b.dev.sigmoidForward(ys.d(), xs.d());
            b.assertExact("sigmoidForward far below exp's range", ys);

            int n = 2, h = 18;
            float[] huge = {1e38f, -1e38f, Float.MAX_VALUE, -Float.MAX_VALUE, 3e37f};
            float[] gates = new float[n * 4 * h], cPrev = new float[n * h];
            java.util.Arrays.fill(gates, 0.5f);
            for (int k = 0; k < n * h; k++) {
                gates[k / h * 4 * h + k % h] = FAR_BELOW[k % FAR_BELOW.length]; // f of unit k % h in row k / h
                cPrev[k] = huge[k % huge.length];
            }
            Pair g = b.f32(gates, n, 4 * h), c = b.f32(cPrev, n, h);
            Pair hNext = b.zeros(DType.F32, n, h), cNext = b.zeros(DType.F32, n, h);
            b.ref.lstmCellForward(hNext.r(), cNext.r(), g.r(), c.r());
            b.dev.lstmCellForward(hNext.d(), cNext.d(), g.d(), c.d());
            b.assertClose("lstmCellForward c with a forget gate far below exp's range", cNext, T_ATOL, T_RTOL);
            b.assertClose("lstmCellForward h with a forget gate far below exp's range", hNext, T_ATOL, T_RTOL);

            float[] gru = new float[n * 3 * h];
            java.util.Arrays.fill(gru, 0.5f);
            for (int k = 0; k < n * h; k++) {
                gru[k / h * 3 * h + h + k % h] = FAR_BELOW[k % FAR_BELOW.length]; // r of unit k % h in row k / h
            }
            Pair gg = b.f32(gru, n, 3 * h), hp = b.f32(cPrev, n, h), rh = b.zeros(DType.F32, n, h);
            b.ref.gruGatesForward(rh.r(), gg.r(), hp.r());
            b.dev.gruGatesForward(rh.d(), gg.d(), hp.d());
            b.assertClose("gruGatesForward r h with a reset gate far below exp's range", rh, T_ATOL, T_RTOL);
        }
    }

    /**
     * Softmax weights of scores far below the row's maximum (-Inf, a mask; or 1000 and more below) are exactly 0 in the
     * reference and must be 0 here: the native exp once stopped at exp(-87.3) = 1.2e-38, which an attention weight
     * times an encoder state of 3e38 turned into 1.8 of context. Tolerance: TRANSCENDENTAL for the weights of the
     * scores near the maximum and for the context (exactly (1 + 2) / 2 here), 0 for those the reference has at 0.
     */
    @EveryBackend
    void softmaxWeightsFarBelowTheMaximum(String backend) {
        try (Both b = both(backend, 37)) {
            float inf = Float.POSITIVE_INFINITY;
            float[] rows = {0f, -inf, 1f, -1e38f, -200f, 1e38f, -Float.MAX_VALUE, 1e38f, 3e38f, -inf, 1e-30f, 3e38f};
            Pair x = b.f32(rows, 3, 4), y = b.zeros(DType.F32, 3, 4), loss = b.zeros(DType.F32, 1);
            b.ref.softmaxForward(y.r(), x.r());
            b.dev.softmaxForward(y.d(), x.d());
            assertZerosWhereTheReferenceHasThem(b, "softmaxForward", y);
            Pair labels = b.i32(new int[] {2, 0, 3}, 3);
            b.ref.softmaxCrossEntropyForward(y.r(), loss.r(), x.r(), labels.r());
            b.dev.softmaxCrossEntropyForward(y.d(), loss.d(), x.d(), labels.d());
            assertZerosWhereTheReferenceHasThem(b, "softmaxCrossEntropyForward probs", y);
            b.assertClose("softmaxCrossEntropyForward loss", loss, T_ATOL, T_RTOL);

            // one row, H = 1 (each score one product, exact in float): scores -1e-35, -3000, -2e-35, -1000
            float[] states = {1f, 3e38f, 2f, 1e38f};
            Pair hs = b.f32(states, 4, 1, 1), dec = b.f32(new float[] {-1e-35f}, 1, 1);
            Pair a = b.zeros(DType.F32, 1, 4), ctx = b.zeros(DType.F32, 1, 1);
            b.ref.attentionWeightForward(a.r(), hs.r(), dec.r());
            b.dev.attentionWeightForward(a.d(), hs.d(), dec.d());
            assertZerosWhereTheReferenceHasThem(b, "attentionWeightForward", a);
            b.ref.weightSumForward(ctx.r(), hs.r(), a.r());
            b.dev.weightSumForward(ctx.d(), hs.d(), a.d());
            b.assertClose("weightSumForward over states of 3e38 with weights of 0", ctx, T_ATOL, T_RTOL);
            Pair ta = b.zeros(DType.F32, 1, 1, 4), tc = b.zeros(DType.F32, 1, 1, 1);
            Pair decs = b.f32(new float[] {-1e-35f}, 1, 1, 1);
            b.ref.timeAttentionForward(ta.r(), tc.r(), hs.r(), decs.r());
            b.dev.timeAttentionForward(ta.d(), tc.d(), hs.d(), decs.d());
            assertZerosWhereTheReferenceHasThem(b, "timeAttentionForward a", ta);
            b.assertClose("timeAttentionForward c over states of 3e38 with weights of 0", tc, T_ATOL, T_RTOL);
        }
    }

    /**
     * Scores that are finite though their float products or partial sums are not: states of +-1e20 whose products
     * cancel (1e40 - 1e40 = 0, plus the small parts). The reference sums in double; the native dot summed in float,
     * +Inf + -Inf, and gave NaN weights and contexts (an audit's find). T = 5 runs four scores together and one alone,
     * H = 18 the vector loop and its tail. Tolerance: T_ATOL / T_RTOL as the other attention cases; the weights here are
     * softmaxes of the small parts, exactly.
     */
    @EveryBackend
    void attentionScoresFiniteThoughTheirFloatProductsOverflow(String backend) {
        try (Both b = both(backend, 38)) {
            int t = 5, n = 2, h = 18;
            float[] states = new float[t * n * h], dec = new float[n * h];
            for (int k = 0; k < dec.length; k++) {
                dec[k] = k % h < 16 ? (k % 2 == 0 ? 1e20f : -1e20f) : 0.5f;   // the tail: small products only
            }
            for (int k = 0; k < states.length; k++) {
                int j = k % h, s = k / (n * h);
                states[k] = j < 16 ? 1e20f : 0.25f * (s + 1);   // +1e40 and -1e40 products in pairs, cancelling
            }
            Pair hs = b.f32(states, t, n, h), d = b.f32(dec, n, h), a = b.zeros(DType.F32, n, t);
            b.ref.attentionWeightForward(a.r(), hs.r(), d.r());
            b.dev.attentionWeightForward(a.d(), hs.d(), d.d());
            for (float w : b.refValues(a.r())) {
                assertTrue(Float.isFinite(w) && w > 0f, "the reference's weights are finite: " + w);
            }
            b.assertClose("attentionWeightForward with cancelling products past float's range", a, T_ATOL, T_RTOL);
            Pair ta = b.zeros(DType.F32, 1, n, t), tc = b.zeros(DType.F32, 1, n, h), decs = b.f32(dec, 1, n, h);
            b.ref.timeAttentionForward(ta.r(), tc.r(), hs.r(), decs.r());
            b.dev.timeAttentionForward(ta.d(), tc.d(), hs.d(), decs.d());
            b.assertClose("timeAttentionForward a with cancelling products past float's range", ta, T_ATOL, T_RTOL);
            b.assertClose("timeAttentionForward c with cancelling products past float's range", tc, T_ATOL, T_RTOL);
        }
    }

    private static void assertZerosWhereTheReferenceHasThem(Both b, String what, Pair p) {
        float[] r = b.refValues(p.r()), d = b.devValues(p.d());
        for (int k = 0; k < r.length; k++) {
            if (r[k] == 0f) {
                assertEquals(0f, d[k], 0f, what + ": element " + k + " is " + d[k] + ", expected 0 as the reference");
            }
        }
        b.assertClose(what, r, d, T_ATOL, T_RTOL);
    }

    // ---- embedding -------------------------------------------------------------------------------------

    @EveryBackend
    void embedding(String backend) {
        try (Both b = both(backend, 11)) {
            int[][] vdm = {{1, 1, 0}, {13, 0, 7}, {1, 1, 1}, {13, 16, 7}, {13, 16, 128 * 4}, {10000, 65, 2240}};
            for (int[] s : vdm) {
                // few distinct ids, so duplicates are many: scatter-add must sum them
                embeddingCase(b, Outputs.plain(b), s[0], s[1], s[2], Math.min(s[0], 5));
            }
            // ids over the whole table (17 key bits for V = 70000) and every id equal (V = 1: one run of every row), in
            // numbers past one tile of CUDA's radix sort (a few thousand keys; larger sorts take its multi-pass path),
            // and rows of 70001 columns, whose run's threads span many blocks; still exact
            int[][] wide = {{70000, 3, 100003}, {1, 2, 100003}, {1, 1, 5}, {4, 70001, 6}};
            for (int[] s : wide) {
                int v = s[0], d = s[1], m = s[2];
                Pair ids = b.i32(b.ints(m, 0, v), m);
                embeddingBackwardCase(b, Outputs.plain(b), ids, v, d, m,
                        "embeddingBackward over all ids V=" + v + " D=" + d + " M=" + m);
            }
        }
    }

    /** embeddingForward and embeddingBackward of a (v, d) table at m ids in [0, ids); SizeSweepTest runs it too. */
    static void embeddingCase(Both b, Outputs o, int v, int d, int m, int ids) {
        String shape = " V=" + v + " D=" + d + " M=" + m;
        Pair w = o.uniform("W", -1, 1, v, d), out = o.zeros("out", m, d);
        Pair id = b.i32(b.ints(m, 0, ids), m);
        b.ref.embeddingForward(out.r(), w.r(), id.r());
        b.dev.embeddingForward(out.d(), w.d(), id.d());
        b.assertExact("embeddingForward" + shape, out);
        o.check("embeddingForward" + shape);
        embeddingBackwardCase(b, o, id, v, d, m, "embeddingBackward" + shape);
    }

    /** embeddingBackward of m rows (m, d) into a (v, d) dW at ids; what names the case. */
    static void embeddingBackwardCase(Both b, Outputs o, Pair ids, int v, int d, int m, String what) {
        Pair dout = o.uniform("dout", -1, 1, m, d), dW = o.uniform("dW", -1, 1, v, d);
        b.ref.embeddingBackward(dW.r(), ids.r(), dout.r());
        b.dev.embeddingBackward(dW.d(), ids.d(), dout.d());
        // up to m rows summed into one in float, on every backend in row order from dW's value (the CPU's
        // per-thread columns, CUDA's stable sort by id): the reference's bits, so the same run twice is too
        b.assertExact(what, dW);
        o.check(what);
    }

    // ---- losses ----------------------------------------------------------------------------------------

    @EveryBackend
    void softmaxCrossEntropy(String backend) {
        try (Both b = both(backend, 12)) {
            int[][] mv = {{0, 13}, {1, 1}, {1, 13}, {7, 13}, {128 * 4, 13}, {700, 10000}};
            for (int[] s : mv) {
                int m = s[0], v = s[1];
                int[] labels = b.ints(m, 0, v);
                for (int i = 0; i < m; i += 3) {
                    labels[i] = -1; // every third row ignored
                }
                Pair logits = b.uniformPair(-10, 10, m, v), probs = b.zeros(DType.F32, m, v);
                Pair lab = b.i32(labels, m), loss = b.zeros(DType.F32, 1);
                b.ref.softmaxCrossEntropyForward(probs.r(), loss.r(), logits.r(), lab.r());
                b.dev.softmaxCrossEntropyForward(probs.d(), loss.d(), logits.d(), lab.d());
                String shape = " M=" + m + " V=" + v;
                b.assertClose("softmaxCrossEntropy probs" + shape, probs, T_ATOL, T_RTOL);
                b.assertClose("softmaxCrossEntropy loss" + shape, loss, T_ATOL, T_RTOL);
                Pair dlogits = b.zeros(DType.F32, m, v);
                b.ref.softmaxCrossEntropyBackward(dlogits.r(), probs.r(), lab.r(), 0.7f);
                b.dev.softmaxCrossEntropyBackward(dlogits.d(), probs.d(), lab.d(), 0.7f);
                b.assertClose("softmaxCrossEntropyBackward" + shape, dlogits, T_ATOL, T_RTOL);
                // in place: probs becomes dlogits
                b.ref.softmaxCrossEntropyBackward(probs.r(), probs.r(), lab.r(), 1f);
                b.dev.softmaxCrossEntropyBackward(probs.d(), probs.d(), lab.d(), 1f);
                b.assertClose("softmaxCrossEntropyBackward in place" + shape, probs, T_ATOL, T_RTOL);
            }
            // an infinite incoming gradient: (p - onehot) * Inf is -Inf at the label and +Inf elsewhere (0 < p < 1), as
            // the reference has it; the C kernel's p * Inf - Inf was NaN at the label (found by CoreApiFuzzTest)
            for (float dloss : new float[] {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                Pair probs = b.uniformPair(0.1, 0.9, 5, 2), lab = b.i32(new int[] {0, 1, 1, 0, 1}, 5);
                for (boolean inPlace : new boolean[] {false, true}) {
                    Pair d = inPlace ? probs : b.zeros(DType.F32, 5, 2);
                    b.ref.softmaxCrossEntropyBackward(d.r(), probs.r(), lab.r(), dloss);
                    b.dev.softmaxCrossEntropyBackward(d.d(), probs.d(), lab.d(), dloss);
                    b.assertExact("softmaxCrossEntropyBackward dloss=" + dloss + (inPlace ? " in place" : ""), d);
                }
            }
            // every row ignored: loss 0 and gradient 0, not NaN; so with rows of no classes (all labels -1)
            for (int v : new int[] {4, 0}) {
                Pair logits = b.uniformPair(-1, 1, 3, v), probs = b.zeros(DType.F32, 3, v);
                Pair loss = b.uniformPair(1, 2, 1), lab = b.i32(new int[] {-1, -1, -1}, 3);
                b.ref.softmaxCrossEntropyForward(probs.r(), loss.r(), logits.r(), lab.r());
                b.dev.softmaxCrossEntropyForward(probs.d(), loss.d(), logits.d(), lab.d());
                assertEquals(0f, b.ref.item(loss.r(), 0), "reference loss with every label ignored, V=" + v);
                assertEquals(0f, b.dev.item(loss.d(), 0), "loss with every label ignored, V=" + v);
            }
        }
    }

    @EveryBackend
    void mse(String backend) {
        try (Both b = both(backend, 13)) {
            for (int n : SIZES) {
                // loss starts nonzero: with n = 0 it must be written (a sum over nothing: 0)
                Pair y = b.uniformPair(-1, 1, n), t = b.uniformPair(-1, 1, n), loss = b.uniformPair(1, 2, 1);
                Pair dy = b.zeros(DType.F32, n);
                b.ref.mseForward(loss.r(), y.r(), t.r(), 0.5f / n);
                b.dev.mseForward(loss.d(), y.d(), t.d(), 0.5f / n);
                b.assertClose("mseForward n=" + n, loss, 0, 1e-6); // both accumulate in double
                b.ref.mseBackward(dy.r(), y.r(), t.r(), 0.5f / n);
                b.dev.mseBackward(dy.d(), y.d(), t.d(), 0.5f / n);
                b.assertClose("mseBackward n=" + n, dy, 0, ONE_ROUNDING);
            }
            // y - t past float's range: the sum is in double, the difference too (the reference subtracted in float,
            // Infinity, where the C and CUDA kernels gave 7.2E37): 2 x (6E38)^2 x 1E-40
            Pair y = b.f32(new float[] {3e38f, -3e38f}, 2), t = b.f32(new float[] {-3e38f, 3e38f}, 2);
            Pair loss = b.zeros(DType.F32, 1);
            float expected = (float) (1e-40f * (2 * ((double) 3e38f + 3e38f) * ((double) 3e38f + 3e38f)));
            b.ref.mseForward(loss.r(), y.r(), t.r(), 1e-40f);
            b.dev.mseForward(loss.d(), y.d(), t.d(), 1e-40f);
            assertEquals(expected, b.ref.item(loss.r(), 0), 1e-6 * expected, "reference mseForward past float's range");
            assertEquals(expected, b.dev.item(loss.d(), 0), 1e-6 * expected, "mseForward past float's range");
        }
    }

    // ---- attention -------------------------------------------------------------------------------------

    static final int[][] TNH = {{0, 3, 7}, {5, 0, 7}, {5, 3, 0}, {1, 1, 1}, {5, 3, 7}, {29, 128, 256}, {7, 13, 129}};

    @EveryBackend
    void attentionWeightAndWeightSum(String backend) {
        try (Both b = both(backend, 14)) {
            for (int[] s : TNH) {
                int t = s[0], n = s[1], h = s[2];
                String shape = " T=" + t + " N=" + n + " H=" + h;
                // dot products of length H in float: errors ~ sqrt(H) u |terms|; scores then go through exp
                double atol = 1e-6 * Math.sqrt(Math.max(h, 1)), rtol = T_RTOL * Math.sqrt(Math.max(h, 1));
                Pair hs = b.uniformPair(-0.5, 0.5, t, n, h), hv = b.uniformPair(-0.5, 0.5, n, h), a = b.zeros(DType.F32, n, t);
                b.ref.attentionWeightForward(a.r(), hs.r(), hv.r());
                b.dev.attentionWeightForward(a.d(), hs.d(), hv.d());
                b.assertClose("attentionWeightForward" + shape, a, atol, rtol);

                Pair da = b.uniformPair(-1, 1, n, t), dhs = b.uniformPair(-1, 1, t, n, h), dh = b.zeros(DType.F32, n, h);
                b.dev.copyIn(a.d(), b.refValues(a.r()));
                b.ref.attentionWeightBackward(dhs.r(), dh.r(), a.r(), hs.r(), hv.r(), da.r());
                b.dev.attentionWeightBackward(dhs.d(), dh.d(), a.d(), hs.d(), hv.d(), da.d());
                b.assertClose("attentionWeightBackward dhs (accumulated)" + shape, dhs, atol, rtol);
                b.assertClose("attentionWeightBackward dh" + shape, dh, atol * Math.sqrt(t), rtol);

                Pair c = b.zeros(DType.F32, n, h);
                b.ref.weightSumForward(c.r(), hs.r(), a.r());
                b.dev.weightSumForward(c.d(), hs.d(), a.d());
                b.assertClose("weightSumForward" + shape, c, 1e-6 * Math.sqrt(t), T_RTOL * Math.sqrt(t));
                Pair dc = b.uniformPair(-1, 1, n, h), da2 = b.zeros(DType.F32, n, t);
                b.ref.weightSumBackward(dhs.r(), da2.r(), hs.r(), a.r(), dc.r());
                b.dev.weightSumBackward(dhs.d(), da2.d(), hs.d(), a.d(), dc.d());
                b.assertClose("weightSumBackward dhs (accumulated)" + shape, dhs, atol, rtol);
                b.assertClose("weightSumBackward da" + shape, da2, atol, rtol);
            }
        }
    }

    /** (T_enc, T_dec, N, H): each extent zero once, vector tails (H = 37), W4's shape (29, 10, 128, 256) */
    static final int[][] TIME_ATTENTION = {{0, 2, 3, 7}, {5, 0, 3, 7}, {5, 2, 0, 7}, {5, 2, 3, 0}, {1, 1, 1, 1},
            {6, 4, 5, 37}, {29, 10, 128, 256}};

    /**
     * timeAttentionForward / timeAttentionBackward. Two checks each: bit for bit the per-step loop of the four attention
     * kernels on the same backend (what the call promises), and the reference within the per-step kernels'
     * tolerances, widened where this call chains them: the contexts c = sum_t a_t hs_t (sum_t a_t = 1, |hs| <= 0.5)
     * carry the weights' relative error as an absolute one; dhsEnc sums T_dec steps' gradients, each within the
     * per-step bound, so T_dec times it. The outputs start as garbage: the call writes them, it does not accumulate.
     */
    @EveryBackend
    void timeAttention(String backend) {
        try (Both b = both(backend, 35)) {
            for (int[] s : TIME_ATTENTION) {
                int te = s[0], td = s[1], n = s[2], h = s[3];
                String shape = " T_enc=" + te + " T_dec=" + td + " N=" + n + " H=" + h;
                double atol = 1e-6 * Math.sqrt(Math.max(h, 1)), rtol = T_RTOL * Math.sqrt(Math.max(h, 1));
                Pair hs = b.uniformPair(-0.5, 0.5, te, n, h), dec = b.uniformPair(-0.5, 0.5, td, n, h);
                Pair a = b.uniformPair(-1, 1, td, n, te), c = b.uniformPair(-1, 1, td, n, h);
                b.ref.timeAttentionForward(a.r(), c.r(), hs.r(), dec.r());
                b.dev.timeAttentionForward(a.d(), c.d(), hs.d(), dec.d());
                b.assertClose("timeAttentionForward a" + shape, a, atol, rtol);
                double tEnc = Math.sqrt(Math.max(te, 1));
                b.assertClose("timeAttentionForward c" + shape, c, 1e-6 * tEnc + rtol, T_RTOL * tEnc);
                // the per-step loop on the device: the same bits
                Pair al = b.zeros(DType.F32, td, n, te), cl = b.zeros(DType.F32, td, n, h);
                for (int step = 0; step < td; step++) {
                    b.dev.attentionWeightForward(al.d().get(step), hs.d(), dec.d().get(step));
                    b.dev.weightSumForward(cl.d().get(step), hs.d(), al.d().get(step));
                }
                sameBits("timeAttentionForward a against the loop" + shape, b.devValues(al.d()), b.devValues(a.d()));
                sameBits("timeAttentionForward c against the loop" + shape, b.devValues(cl.d()), b.devValues(c.d()));

                // backward from the reference's weights on both sides, so that only the backward is compared
                b.dev.copyIn(a.d(), b.refValues(a.r()));
                Pair dc = b.uniformPair(-1, 1, td, n, h), work = b.zeros(DType.F32, n, te);
                Pair dhsEnc = b.uniformPair(-1, 1, te, n, h), dhsDec = b.uniformPair(-1, 1, td, n, h);
                b.ref.timeAttentionBackward(dhsEnc.r(), dhsDec.r(), work.r(), a.r(), hs.r(), dec.r(), dc.r());
                b.dev.timeAttentionBackward(dhsEnc.d(), dhsDec.d(), work.d(), a.d(), hs.d(), dec.d(), dc.d());
                b.assertClose("timeAttentionBackward dhsEnc" + shape, dhsEnc, atol * Math.max(td, 1),
                        rtol * Math.max(td, 1));
                b.assertClose("timeAttentionBackward dhsDec" + shape, dhsDec, atol * tEnc, rtol);
                Pair el = b.zeros(DType.F32, te, n, h), dl = b.zeros(DType.F32, td, n, h);
                Pair wl = b.zeros(DType.F32, n, te);
                for (int step = 0; step < td; step++) {
                    b.dev.weightSumBackward(el.d(), wl.d(), hs.d(), a.d().get(step), dc.d().get(step));
                    b.dev.attentionWeightBackward(el.d(), dl.d().get(step), a.d().get(step), hs.d(), dec.d().get(step),
                            wl.d());
                }
                sameBits("timeAttentionBackward dhsEnc against the loop" + shape, b.devValues(el.d()),
                        b.devValues(dhsEnc.d()));
                sameBits("timeAttentionBackward dhsDec against the loop" + shape, b.devValues(dl.d()),
                        b.devValues(dhsDec.d()));
            }
        }
    }

    // ---- dropout, optimizers, reductions ---------------------------------------------------------------

    @EveryBackend
    void dropoutMaskIsBitIdentical(String backend) {
        try (Both b = both(backend, 15)) {
            for (int n : SIZES) {
                Pair mask = b.zeros(DType.F32, n);
                b.ref.dropoutMask(mask.r(), 0.5f, 1234567L + n);
                b.dev.dropoutMask(mask.d(), 0.5f, 1234567L + n);
                b.assertExact("dropoutMask n=" + n, mask);
                b.ref.dropoutMask(mask.r(), 0f, -7L);
                b.dev.dropoutMask(mask.d(), 0f, -7L);
                b.assertExact("dropoutMask ratio 0 n=" + n, mask);
            }
        }
    }

    /**
     * A draw equal to the ratio keeps its element: u is a multiple of 2^-24, 0 included, so with {@code u > ratio}
     * (the book's test, on 53-bit doubles) ratio 0 dropped one element in 2^24 (seed 2296's element 356 here) and every
     * ratio kept a little less than 1 - ratio.
     */
    @EveryBackend
    void dropoutKeepsADrawEqualToTheRatioSoRatioZeroKeepsAll(String backend) {
        long seed = 2296;
        int zeroAt = 356;
        assertEquals(0f, CounterRandom.uniform(seed, zeroAt), "the premise: this draw is exactly 0");
        float ratio = CounterRandom.uniform(seed, 7);   // a ratio that draw 7 equals
        try (Both b = both(backend, 15)) {
            Pair mask = b.zeros(DType.F32, zeroAt + 1);
            for (Backend x : new Backend[] {b.ref, b.dev}) {
                String name = x == b.ref ? "reference" : backend;
                x.dropoutMask(x == b.ref ? mask.r() : mask.d(), 0f, seed);
                float[] m = x == b.ref ? b.refValues(mask.r()) : b.devValues(mask.d());
                assertEquals(1f, m[zeroAt], name + ": ratio 0 keeps the element whose draw is 0");
                for (float v : m) {
                    assertEquals(1f, v, name + ": ratio 0 keeps every element");
                }
                x.dropoutMask(x == b.ref ? mask.r() : mask.d(), ratio, seed);
                m = x == b.ref ? b.refValues(mask.r()) : b.devValues(mask.d());
                assertEquals(1f / (1f - ratio), m[7], name + ": a draw equal to the ratio " + ratio + " is kept");
            }
        }
    }

    /**
     * Every optimizer update of param p with gradient g and state s1, s2 (each update in turn, over the state the last
     * left), compared with the reference; Adam once more zeroing g in its pass (the same values, and g exactly 0).
     * SizeSweepTest runs the same checks over its sizes.
     */
    static void checkUpdates(Both b, Pair p, Pair g, Pair s1, Pair s2, String size) {
        b.ref.sgdUpdate(p.r(), g.r(), 0.1f);
        b.dev.sgdUpdate(p.d(), g.d(), 0.1f);
        b.assertClose("sgdUpdate" + size, p, 0, ONE_ROUNDING);
        b.ref.momentumUpdate(p.r(), s1.r(), g.r(), 0.1f, 0.9f);
        b.dev.momentumUpdate(p.d(), s1.d(), g.d(), 0.1f, 0.9f);
        b.assertClose("momentumUpdate v" + size, s1, 0, ONE_ROUNDING);
        b.assertClose("momentumUpdate param" + size, p, 0, ONE_ROUNDING);
        b.ref.adagradUpdate(p.r(), s2.r(), g.r(), 0.01f, 1e-7f);
        b.dev.adagradUpdate(p.d(), s2.d(), g.d(), 0.01f, 1e-7f);
        b.assertClose("adagradUpdate" + size, p, 1e-7, ONE_ROUNDING);
        b.ref.rmspropUpdate(p.r(), s2.r(), g.r(), 0.01f, 0.99f, 1e-7f);
        b.dev.rmspropUpdate(p.d(), s2.d(), g.d(), 0.01f, 0.99f, 1e-7f);
        b.assertClose("rmspropUpdate" + size, p, 1e-7, ONE_ROUNDING);
        b.ref.adamUpdate(p.r(), s1.r(), s2.r(), g.r(), 0.001f, 0.9f, 0.999f, 1e-7f);
        b.dev.adamUpdate(p.d(), s1.d(), s2.d(), g.d(), 0.001f, 0.9f, 0.999f, 1e-7f);
        b.assertClose("adamUpdate m" + size, s1, 0, ONE_ROUNDING);
        b.assertClose("adamUpdate v" + size, s2, 0, ONE_ROUNDING);
        b.assertClose("adamUpdate param" + size, p, 1e-7, ONE_ROUNDING);
        b.ref.adamUpdate(p.r(), s1.r(), s2.r(), g.r(), 0.001f, 0.9f, 0.999f, 1e-7f, true);
        b.dev.adamUpdate(p.d(), s1.d(), s2.d(), g.d(), 0.001f, 0.9f, 0.999f, 1e-7f, true);
        b.assertClose("adamUpdate (zeroGrad) m" + size, s1, 0, ONE_ROUNDING);
        b.assertClose("adamUpdate (zeroGrad) v" + size, s2, 0, ONE_ROUNDING);
        b.assertClose("adamUpdate (zeroGrad) param" + size, p, 1e-7, ONE_ROUNDING);
        b.assertExact("adamUpdate (zeroGrad) grad" + size, g);
    }

    @EveryBackend
    void optimizerUpdates(String backend) {
        try (Both b = both(backend, 16)) {
            for (int n : SIZES) {
                Pair p = b.uniformPair(-1, 1, n), g = b.uniformPair(-1, 1, n);
                Pair s1 = b.uniformPair(0, 1, n), s2 = b.uniformPair(0, 1, n);
                String size = " n=" + n;
                checkUpdates(b, p, g, s1, s2, size);
                float[] zeroed = new float[n];
                b.dev.copyOut(zeroed, g.d());
                for (int i = 0; i < n; i++) {
                    assertEquals(0f, zeroed[i], "adamUpdate (zeroGrad) grad[" + i + "]" + size);
                }
            }
        }
    }

    /**
     * Optimizer state that a gradient of 0 drives through the subnormals (below Float.MIN_NORMAL, 1.18e-38), beside
     * normal state. The CPU kernels flush subnormal inputs and results to zero in their updates (on Intel cores each
     * subnormal operation is a microcode assist: Adam over W1's parameters 1.6 ms instead of 37 us, native/cpu/common.h);
     * the reference and CUDA keep them. So here, and only here, state may differ from the reference by less than
     * Float.MIN_NORMAL absolutely; normal values round as everywhere else, and every parameter (none subnormal) agrees
     * to one rounding. The calling Java thread's own arithmetic keeps its subnormals after the calls: the flush is the
     * kernels' alone.
     */
    @EveryBackend
    void optimizerStateThroughTheSubnormals(String backend) {
        try (Both b = both(backend, 29)) {
            int n = 1031;
            float[] state = new float[n], grad = new float[n];
            for (int i = 0; i < n; i++) {
                boolean sub = i % 2 == 0;
                state[i] = sub ? Float.MIN_NORMAL * (0.05f + 0.9f * (i % 97) / 97f) : 0.25f + (i % 13) / 26f;
                grad[i] = sub ? 0f : (i % 7 - 3) / 4f;
            }
            Pair p = b.uniformPair(-1, 1, n), g = b.f32(grad, n), s1 = b.f32(state, n), s2 = b.f32(state, n);
            b.ref.momentumUpdate(p.r(), s1.r(), g.r(), 0.1f, 0.9f);
            b.dev.momentumUpdate(p.d(), s1.d(), g.d(), 0.1f, 0.9f);
            b.assertClose("momentumUpdate v (subnormal state)", s1, Float.MIN_NORMAL, ONE_ROUNDING);
            b.ref.rmspropUpdate(p.r(), s2.r(), g.r(), 0.01f, 0.99f, 1e-7f);
            b.dev.rmspropUpdate(p.d(), s2.d(), g.d(), 0.01f, 0.99f, 1e-7f);
            b.assertClose("rmspropUpdate h (subnormal state)", s2, Float.MIN_NORMAL, ONE_ROUNDING);
            b.ref.adagradUpdate(p.r(), s2.r(), g.r(), 0.01f, 1e-7f);
            b.dev.adagradUpdate(p.d(), s2.d(), g.d(), 0.01f, 1e-7f);
            b.assertClose("adagradUpdate h (subnormal state)", s2, Float.MIN_NORMAL, ONE_ROUNDING);
            for (int step = 0; step < 3; step++) {
                b.ref.adamUpdate(p.r(), s1.r(), s2.r(), g.r(), 0.001f, 0.9f, 0.999f, 1e-7f);
                b.dev.adamUpdate(p.d(), s1.d(), s2.d(), g.d(), 0.001f, 0.9f, 0.999f, 1e-7f);
                b.assertClose("adamUpdate m (subnormal state) step " + step, s1, Float.MIN_NORMAL, ONE_ROUNDING);
                b.assertClose("adamUpdate v (subnormal state) step " + step, s2, Float.MIN_NORMAL, ONE_ROUNDING);
            }
            b.assertClose("parameters after updates over subnormal state", p, 0, ONE_ROUNDING);
            assertTrue(tiny / 2 > 0f, "this thread's 1e-38 / 2 is 0 after the " + backend + " updates: the kernels'"
                    + " flushing of subnormals leaked into the calling thread");
        }
    }

    /**
     * Subnormal gradients, and gradients whose lr * g is subnormal, from zero state: a flushing backend drops such a
     * step, which the reference takes (up to its numerator / eps with h or v at 0: 1E-34 for g = 1E-40, lr 0.1,
     * eps 1e-7, against a parameter of 0). Backend.java bounds the difference by max(1, lr) * Float.MIN_NORMAL / eps a
     * step (SGD and momentum: max(1, lr) * Float.MIN_NORMAL); parameters of 1 and above match to a rounding.
     */
    @EveryBackend
    void subnormalGradientsStepsStayWithinTheirBound(String backend) {
        try (Both b = both(backend, 31)) {
            float[] grads = {1e-40f, -1e-39f, 5e-39f, -1.1e-38f, 2e-38f, -1e-37f, 3e-37f, 0f};
            int n = 2 * grads.length;
            float[] g = new float[n], p0 = new float[n];
            for (int i = 0; i < n; i++) {
                g[i] = grads[i % grads.length];
                p0[i] = i < grads.length ? 0f : 1f + i;   // 0: the step is all there is; 1 and more: below an ulp
            }
            for (float eps : new float[] {1e-7f, 1e-20f}) {
                float lr = 0.1f;
                double bound = Math.max(1, lr) * Float.MIN_NORMAL / eps;
                Pair grad = b.f32(g, n);
                Pair p = b.f32(p0, n), h = b.zeros(DType.F32, n);
                b.ref.adagradUpdate(p.r(), h.r(), grad.r(), lr, eps);
                b.dev.adagradUpdate(p.d(), h.d(), grad.d(), lr, eps);
                b.assertClose("adagradUpdate, subnormal steps, eps " + eps, p, bound, ONE_ROUNDING);
                p = b.f32(p0, n);
                h = b.zeros(DType.F32, n);
                b.ref.rmspropUpdate(p.r(), h.r(), grad.r(), lr, 0.9f, eps);
                b.dev.rmspropUpdate(p.d(), h.d(), grad.d(), lr, 0.9f, eps);
                b.assertClose("rmspropUpdate, subnormal steps, eps " + eps, p, bound, ONE_ROUNDING);
                p = b.f32(p0, n);
                Pair m = b.zeros(DType.F32, n), v = b.zeros(DType.F32, n);
                b.ref.adamUpdate(p.r(), m.r(), v.r(), grad.r(), lr, 0.9f, 0.999f, eps);
                b.dev.adamUpdate(p.d(), m.d(), v.d(), grad.d(), lr, 0.9f, 0.999f, eps);
                b.assertClose("adamUpdate, subnormal steps, eps " + eps, p, bound, ONE_ROUNDING);
            }
            Pair grad = b.f32(g, n), p = b.f32(p0, n), vel = b.zeros(DType.F32, n);
            b.ref.sgdUpdate(p.r(), grad.r(), 0.1f);
            b.dev.sgdUpdate(p.d(), grad.d(), 0.1f);
            b.assertClose("sgdUpdate, subnormal steps", p, Float.MIN_NORMAL, ONE_ROUNDING);
            p = b.f32(p0, n);
            b.ref.momentumUpdate(p.r(), vel.r(), grad.r(), 0.1f, 0.9f);
            b.dev.momentumUpdate(p.d(), vel.d(), grad.d(), 0.1f, 0.9f);
            b.assertClose("momentumUpdate, subnormal steps", p, Float.MIN_NORMAL, ONE_ROUNDING);
        }
    }

    /** Read through a volatile so that the JIT cannot fold the division in the check above. */
    private static volatile float tiny = 1e-38f;

    @EveryBackend
    void sumOfSquaresAndArgmax(String backend) {
        try (Both b = both(backend, 17)) {
            for (int n : SIZES) {
                Pair x = b.uniformPair(-3, 3, n), out = b.uniformPair(1, 2, 1); // written even when n = 0
                b.ref.sumOfSquares(out.r(), x.r());
                b.dev.sumOfSquares(out.d(), x.d());
                // every backend squares and sums in double and rounds once to float (the reference in one loop, the
                // CPU in 8 lanes per block, the GPU in a fixed tree of per-block double partials): only the order of
                // the double additions differs, far below a float ulp, so the results agree to about one rounding;
                // 1e-5 is a loose bound, not the GPU's error
                b.assertClose("sumOfSquares n=" + n, out, 0, 1e-5);
            }
            for (int[] rc : ROWS) {
                int m = rc[0], v = rc[1];
                Pair x = b.uniformPair(-1, 1, m, v), ids = b.zeros(DType.I32, m);
                if (v == 0) { // no columns: no answer, on every backend
                    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                            () -> b.dev.argmaxRows(ids.d(), x.d()), "argmaxRows over zero columns");
                    continue;
                }
                b.ref.argmaxRows(ids.r(), x.r());
                b.dev.argmaxRows(ids.d(), x.d());
                b.assertExact("argmaxRows " + m + "x" + v, ids);
            }
            // ties: the first maximum wins
            float[] tied = {0f, 2f, 2f, 1f, 5f, 5f, 5f, 5f};
            Pair x = b.f32(tied, 2, 4), ids = b.zeros(DType.I32, 2);
            b.dev.argmaxRows(ids.d(), x.d());
            int[] got = new int[2];
            b.dev.copyOut(got, ids.d());
            assertEquals(1, got[0], "argmax of {0, 2, 2, 1}");
            assertEquals(0, got[1], "argmax of {5, 5, 5, 5}");
            // NaN as the reference's scan has it: a NaN at 0 is the answer, a NaN elsewhere never wins (the CUDA
            // kernel once answered whichever NaN some thread met first); rows longer than a warp too
            float nan = Float.NaN, inf = Float.POSITIVE_INFINITY;
            int v = 100;
            float[] rows = new float[6 * v];
            for (int i = 0; i < rows.length; i++) {
                rows[i] = (i * 37 % 101) / 101f;
            }
            rows[0] = nan;                                        // row 0: NaN first, a larger number later
            rows[v + 3] = nan;                                    // row 1: NaN before the maximum
            rows[v + 70] = 2f;
            rows[2 * v + 70] = 2f;                                // row 2: NaN after the maximum
            rows[2 * v + 90] = nan;
            for (int j = 1; j < v; j++) {
                rows[3 * v + j] = nan;                            // row 3: a number, then NaNs only
                rows[4 * v + j] = j % 2 == 0 ? nan : -inf;        // row 4: -inf and NaN after a number
            }
            rows[3 * v] = -5f;
            rows[4 * v] = -inf;
            java.util.Arrays.fill(rows, 5 * v, 6 * v, nan);       // row 5: NaN only
            Pair xn = b.f32(rows, 6, v), idsn = b.zeros(DType.I32, 6);
            b.ref.argmaxRows(idsn.r(), xn.r());
            b.dev.argmaxRows(idsn.d(), xn.d());
            b.assertExact("argmaxRows with NaN", idsn);
            rows[v + 99] = inf;                                   // +inf wins over a NaN before it
            xn = b.f32(rows, 6, v);
            b.ref.argmaxRows(idsn.r(), xn.r());
            b.dev.argmaxRows(idsn.d(), xn.d());
            b.assertExact("argmaxRows with NaN and +inf", idsn);
        }
    }
}
