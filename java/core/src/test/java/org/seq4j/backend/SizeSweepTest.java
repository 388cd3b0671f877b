// A size sweep of the native CPU kernels against the reference, at the sizes ConformanceTest's few shapes leave out:
// every inner extent 1..40 (each vector tail of the 4-, 8- and 16-float clones) and the panel and block boundaries
// around 16, 32, 64, 128, 256 and 512 (+-1), rows 1..20 and around 32 (the row-split thresholds of the cells and of
// the sequence kernels, whose few-row forwards run per step or in a team split by units), T = 1..5, strides larger
// than the widths. Tolerances are ConformanceTest's for each op. Every output on the backend under test lies between
// two guard bands of a sentinel that must come back unchanged (a kernel's tail writing past its output, or before it).
// The pom runs this class on the AVX-512 (default), AVX2 and baseline clones (conformance-avx2, conformance-baseline).
package org.seq4j.backend;

import static org.seq4j.backend.ConformanceTest.ONE_ROUNDING;
import static org.seq4j.backend.ConformanceTest.T_ATOL;
import static org.seq4j.backend.ConformanceTest.T_RTOL;
import static org.seq4j.backend.ConformanceTest.ULP;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.Both;
import org.seq4j.testing.Both.Pair;
import org.seq4j.testing.Outputs;
import org.seq4j.testing.TestBackends;

class SizeSweepTest {
    /** Every width 1..40 and the boundaries of 16-float panels and of 64..512-wide blocks. */
    static final int[] INNER = IntStream.concat(IntStream.rangeClosed(1, 40),
            IntStream.of(47, 48, 49, 63, 64, 65, 127, 128, 129, 255, 256, 257, 511, 512, 513)).toArray();
    /** Rows 1..20 (few-row paths below 16, 2 x threads) and around 32. */
    static final int[] ROWS = IntStream.concat(IntStream.rangeClosed(1, 20), IntStream.of(31, 32, 33)).toArray();
    /** A subset of INNER for the kernels whose cost grows with two of them. */
    static final int[] SOME = {1, 2, 3, 4, 5, 7, 8, 9, 13, 15, 16, 17, 23, 31, 32, 33, 40, 47, 48, 49, 63, 64, 65};
    /** Flat sizes: INNER and the element kernels' part boundaries (parts of 32768, aligned to 16). */
    static final int[] FLAT = IntStream.concat(Arrays.stream(INNER),
            IntStream.of(1000, 1023, 1025, 32767, 32768, 32769, 65535, 65537, 98311, 131071, 131073, 262147)).toArray();

    static final float SENTINEL = -7777.25f;
    static final int GUARD = 19;

    /** Outputs on the device side inside guard bands; check() asserts the bands are untouched. */
    static final class Guarded implements Outputs {
        final Both b;
        final List<Tensor> full = new ArrayList<>();
        final List<String> names = new ArrayList<>();

        Guarded(Both b) {
            this.b = b;
        }

        /** A pair with the given values: the reference's plain, the device's a view inside guard bands. */
        @Override
        public Pair f32(String name, float[] host, int... shape) {
            Tensor r = b.ref.allocate(b.arena(), DType.F32, shape);
            b.ref.copyIn(r, host);
            Tensor all = b.dev.allocate(b.arena(), DType.F32, host.length + 2 * GUARD);
            float[] padded = new float[host.length + 2 * GUARD];
            Arrays.fill(padded, SENTINEL);
            System.arraycopy(host, 0, padded, GUARD, host.length);
            b.dev.copyIn(all, padded);
            full.add(all);
            names.add(name);
            return new Pair(r, all.flatSlice(GUARD, host.length).view(shape));
        }

        @Override
        public Pair uniform(String name, double lo, double hi, int... shape) {
            return f32(name, b.uniform(Math.toIntExact(Tensor.sizeOf(shape)), lo, hi), shape);
        }

        @Override
        public Pair zeros(String name, int... shape) {
            return f32(name, new float[Math.toIntExact(Tensor.sizeOf(shape))], shape);
        }

        @Override
        public void check(String what) {
            for (int t = 0; t < full.size(); t++) {
                float[] v = new float[Math.toIntExact(full.get(t).size())];
                b.dev.copyOut(v, full.get(t));
                for (int i = 0; i < v.length; i++) {
                    if ((i < GUARD || i >= v.length - GUARD) && Float.floatToRawIntBits(v[i]) != Float.floatToRawIntBits(SENTINEL)) {
                        throw new AssertionError(what + " on " + b.dev.name() + ": wrote " + v[i] + " into the guard band of "
                                + names.get(t) + " (" + (i < GUARD ? (i - GUARD) + " before" : (i - (v.length - GUARD))
                                + " after") + " its " + (v.length - 2 * GUARD) + " elements)");
                    }
                }
            }
        }
    }

    private static Both both(String backend, long seed) {
        return new Both(TestBackends.get(backend), seed);
    }

    // ---- flat kernels -------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#accelerated")
    void flatKernels(String backend) {
        try (Both b = both(backend, 101)) {
            for (int n : FLAT) {
                Guarded g = new Guarded(b);
                String s = " n=" + n;
                Pair[] xyz = ConformanceTest.scaleAxpyMulCase(b, g, n);
                Pair x = xyz[0], y = xyz[1], z = xyz[2];
                Pair w = g.uniform("w", -30, 30, n), act = g.zeros("act", n), dx = g.zeros("dx", n);
                b.ref.sigmoidForward(act.r(), w.r());
                b.dev.sigmoidForward(act.d(), w.d());
                b.assertClose("sigmoidForward" + s, act, T_ATOL, T_RTOL);
                b.ref.sigmoidBackward(dx.r(), act.r(), y.r());
                b.dev.sigmoidBackward(dx.d(), act.d(), y.d());
                b.assertClose("sigmoidBackward" + s, dx, T_ATOL, T_RTOL);
                b.ref.tanhForward(act.r(), w.r());
                b.dev.tanhForward(act.d(), w.d());
                b.assertClose("tanhForward" + s, act, T_ATOL, T_RTOL);
                b.ref.tanhBackward(dx.r(), act.r(), y.r());
                b.dev.tanhBackward(dx.d(), act.d(), y.d());
                b.assertClose("tanhBackward" + s, dx, T_ATOL, T_RTOL);
                b.ref.fill(z.r(), 0.5f);
                b.dev.fill(z.d(), 0.5f);
                b.assertExact("fill" + s, z);
                b.ref.dropoutMask(z.r(), 0.3f, 99 + n);
                b.dev.dropoutMask(z.d(), 0.3f, 99 + n);
                b.assertExact("dropoutMask" + s, z);
                Pair loss = g.uniform("loss", 1, 2, 1);
                b.ref.mseForward(loss.r(), x.r(), y.r(), 0.5f / n);
                b.dev.mseForward(loss.d(), x.d(), y.d(), 0.5f / n);
                b.assertClose("mseForward" + s, loss, 0, 1e-6);
                b.ref.mseBackward(dx.r(), x.r(), y.r(), 0.5f / n);
                b.dev.mseBackward(dx.d(), x.d(), y.d(), 0.5f / n);
                b.assertClose("mseBackward" + s, dx, 0, ONE_ROUNDING);
                b.ref.sumOfSquares(loss.r(), w.r());
                b.dev.sumOfSquares(loss.d(), w.d());
                b.assertClose("sumOfSquares" + s, loss, 0, 1e-5);

                Pair p = g.uniform("param", -1, 1, n), gr = g.uniform("grad", -1, 1, n);
                Pair s1 = g.uniform("m", 0, 1, n), s2 = g.uniform("v", 0, 1, n);
                ConformanceTest.checkUpdates(b, p, gr, s1, s2, s);
                g.check("flat kernels" + s);
            }
        }
    }

    // ---- row-wise kernels ---------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#accelerated")
    void rowKernels(String backend) {
        try (Both b = both(backend, 102)) {
            // and shapes whose columns (sumRows) or rows (addBias, the losses) are split among threads
            int[][] extra = {{64, 1000}, {100, 513}, {80, 131}, {257, 129}};
            for (int[] mv : Stream.concat(Arrays.stream(ROWS).boxed().flatMap(m -> Arrays.stream(INNER)
                    .mapToObj(v -> new int[] {m, v})), Arrays.stream(extra)).toList()) {
                int m = mv[0], v = mv[1];
                {
                    Guarded g = new Guarded(b);
                    String s = " " + m + "x" + v;
                    Pair[] xydx = ConformanceTest.softmaxCase(b, g, m, v);
                    Pair x = xydx[0], y = xydx[1], dy = xydx[2], dx = xydx[3];

                    int[] labels = b.ints(m, 0, v);
                    for (int i = 1; i < m; i += 3) {
                        labels[i] = -1;
                    }
                    Pair lab = b.i32(labels, m), loss = g.zeros("loss", 1);
                    b.ref.softmaxCrossEntropyForward(y.r(), loss.r(), x.r(), lab.r());
                    b.dev.softmaxCrossEntropyForward(y.d(), loss.d(), x.d(), lab.d());
                    b.assertClose("softmaxCrossEntropy probs" + s, y, T_ATOL, T_RTOL);
                    b.assertClose("softmaxCrossEntropy loss" + s, loss, T_ATOL, T_RTOL);
                    b.ref.softmaxCrossEntropyBackward(dx.r(), y.r(), lab.r(), 0.7f);
                    b.dev.softmaxCrossEntropyBackward(dx.d(), y.d(), lab.d(), 0.7f);
                    b.assertClose("softmaxCrossEntropyBackward" + s, dx, T_ATOL, T_RTOL);

                    ConformanceTest.addBiasSumRowsCase(b, g, dy, m, v);

                    Pair ids = b.zeros(DType.I32, m);
                    b.ref.argmaxRows(ids.r(), x.r());
                    b.dev.argmaxRows(ids.d(), x.d());
                    b.assertExact("argmaxRows" + s, ids);

                    int f2 = v / 2 + 3;
                    Pair c2 = g.uniform("c", -1, 1, m, f2), cat = g.zeros("cat", m, v + f2);
                    b.ref.concatColumns(cat.r(), x.r(), c2.r());
                    b.dev.concatColumns(cat.d(), x.d(), c2.d());
                    b.assertExact("concatColumns" + s, cat);
                    b.ref.splitColumns(dx.r(), c2.r(), cat.r());
                    b.dev.splitColumns(dx.d(), c2.d(), cat.d());
                    b.assertExact("splitColumns a" + s, dx);
                    b.assertExact("splitColumns b" + s, c2);
                    if (v <= 40) {
                        int t = 1 + v % 5;
                        Pair in = g.uniform("in", -1, 1, m, t, v), sw = g.zeros("swapped", t, m, v);
                        b.ref.swapAxes01(sw.r(), in.r());
                        b.dev.swapAxes01(sw.d(), in.d());
                        b.assertExact("swapAxes01 (" + m + "," + t + "," + v + ")", sw);
                    }
                    g.check("row kernels" + s);
                }
            }
        }
    }

    // ---- recurrent cells ----------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#accelerated")
    void cells(String backend) {
        try (Both b = both(backend, 103)) {
            // and one row of more than 1024 units, which the forward splits by units among threads
            for (int[] nh : Stream.concat(Arrays.stream(ROWS).boxed().flatMap(n -> Arrays.stream(INNER)
                    .mapToObj(h -> new int[] {n, h})), Stream.of(new int[] {1, 1025}, new int[] {1, 1040},
                    new int[] {1, 2049}, new int[] {2, 1031})).toList()) {
                int n = nh[0], h = nh[1];
                Guarded g = new Guarded(b);
                ConformanceTest.lstmCellCase(b, g, n, h);
                ConformanceTest.gruCellCase(b, g, n, h);
            }
        }
    }

    // ---- embedding ----------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#accelerated")
    void embedding(String backend) {
        try (Both b = both(backend, 104)) {
            for (int d : INNER) {
                for (int m : new int[] {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 100}) {
                    int v = 1 + (d + m) % 11;
                    ConformanceTest.embeddingCase(b, new Guarded(b), v, d, m, v);
                }
            }
            // the scatter-add's column parts summed in a thread's scratch (m >= v, blocks of 16384 / v columns, none
            // past v = 1024) or in place
            int[][] vdm = {{1023, 65, 1100}, {1024, 129, 1100}, {1025, 129, 1100}, {300, 200, 400}, {13, 513, 896},
                    {17, 1000, 300}, {64, 257, 4096}};
            for (int[] s3 : vdm) {
                int v = s3[0], d = s3[1], m = s3[2];
                Pair ids = b.i32(b.ints(m, 0, v), m);
                ConformanceTest.embeddingBackwardCase(b, new Guarded(b), ids, v, d, m,
                        "embeddingBackward V=" + v + " D=" + d + " M=" + m);
            }
        }
    }

    // ---- attention ----------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#accelerated")
    void attention(String backend) {
        try (Both b = both(backend, 105)) {
            int[] ts = {1, 2, 3, 4, 5, 15, 16, 17, 33};
            int[] ns = {1, 2, 3, 5, 8, 9, 17};
            int i = 0;
            for (int h : INNER) {
                for (int t : ts) {
                    int n = ns[i++ % ns.length];
                    Guarded g = new Guarded(b);
                    String s = " T=" + t + " N=" + n + " H=" + h;
                    double atol = 1e-6 * Math.sqrt(h), rtol = T_RTOL * Math.sqrt(h);
                    Pair hs = g.uniform("hs", -0.5, 0.5, t, n, h), hv = g.uniform("h", -0.5, 0.5, n, h);
                    Pair a = g.zeros("a", n, t);
                    b.ref.attentionWeightForward(a.r(), hs.r(), hv.r());
                    b.dev.attentionWeightForward(a.d(), hs.d(), hv.d());
                    b.assertClose("attentionWeightForward" + s, a, atol, rtol);
                    Pair da = g.uniform("da", -1, 1, n, t), dhs = g.uniform("dhs", -1, 1, t, n, h);
                    Pair dh = g.zeros("dh", n, h);
                    b.dev.copyIn(a.d(), b.refValues(a.r()));
                    b.ref.attentionWeightBackward(dhs.r(), dh.r(), a.r(), hs.r(), hv.r(), da.r());
                    b.dev.attentionWeightBackward(dhs.d(), dh.d(), a.d(), hs.d(), hv.d(), da.d());
                    b.assertClose("attentionWeightBackward dhs" + s, dhs, atol, rtol);
                    b.assertClose("attentionWeightBackward dh" + s, dh, atol * Math.sqrt(t), rtol);
                    Pair c = g.zeros("c", n, h);
                    b.ref.weightSumForward(c.r(), hs.r(), a.r());
                    b.dev.weightSumForward(c.d(), hs.d(), a.d());
                    b.assertClose("weightSumForward" + s, c, 1e-6 * Math.sqrt(t), T_RTOL * Math.sqrt(t));
                    Pair dc = g.uniform("dc", -1, 1, n, h), da2 = g.zeros("da2", n, t);
                    b.ref.weightSumBackward(dhs.r(), da2.r(), hs.r(), a.r(), dc.r());
                    b.dev.weightSumBackward(dhs.d(), da2.d(), hs.d(), a.d(), dc.d());
                    b.assertClose("weightSumBackward dhs" + s, dhs, atol, rtol);
                    b.assertClose("weightSumBackward da" + s, da2, atol, rtol);

                    int td = 1 + (h + t) % 5;
                    s = " T_enc=" + t + " T_dec=" + td + " N=" + n + " H=" + h;
                    Pair dec = g.uniform("dec", -0.5, 0.5, td, n, h);
                    Pair ta = g.uniform("ta", -1, 1, td, n, t), tc = g.uniform("tc", -1, 1, td, n, h);
                    b.ref.timeAttentionForward(ta.r(), tc.r(), hs.r(), dec.r());
                    b.dev.timeAttentionForward(ta.d(), tc.d(), hs.d(), dec.d());
                    b.assertClose("timeAttentionForward a" + s, ta, atol, rtol);
                    double tEnc = Math.sqrt(t);
                    b.assertClose("timeAttentionForward c" + s, tc, 1e-6 * tEnc + rtol, T_RTOL * tEnc);
                    b.dev.copyIn(ta.d(), b.refValues(ta.r()));
                    Pair tdc = g.uniform("dc", -1, 1, td, n, h), work = g.zeros("work", n, t);
                    Pair dEnc = g.uniform("dhsEnc", -1, 1, t, n, h), dDec = g.uniform("dhsDec", -1, 1, td, n, h);
                    b.ref.timeAttentionBackward(dEnc.r(), dDec.r(), work.r(), ta.r(), hs.r(), dec.r(), tdc.r());
                    b.dev.timeAttentionBackward(dEnc.d(), dDec.d(), work.d(), ta.d(), hs.d(), dec.d(), tdc.d());
                    b.assertClose("timeAttentionBackward dhsEnc" + s, dEnc, atol * td, rtol * td);
                    b.assertClose("timeAttentionBackward dhsDec" + s, dDec, atol * tEnc, rtol);
                    g.check("attention" + s);
                }
            }
        }
    }

    // ---- GEMM ---------------------------------------------------------------------------------------------

    /**
     * gemm, all four transposes, alpha 1 (the CPU backend's packed and gemm_tn routes) and -0.5, beta 0 (over NaN) and
     * 0.5/1, strides larger than the widths: n over INNER with (m, k) pairs that reach the gemv routes (m or n = 1), the
     * packed route's thresholds (m >= 32, k and n >= 8) and odd tails. C lies inside guard bands; the gaps of c between
     * its rows hold the sentinel too.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#accelerated")
    void gemm(String backend) {
        int[][] mk = {{1, 7}, {2, 1}, {3, 17}, {7, 8}, {8, 33}, {9, 9}, {17, 16}, {31, 64}, {32, 7}, {32, 8}, {33, 65},
                {40, 130}};
        try (Both b = both(backend, 106)) {
            int i = 0;
            for (int n : INNER) {
                for (int[] s : mk) {
                    for (Transpose ta : Transpose.values()) {
                        for (Transpose tb : Transpose.values()) {
                            int pad = i % 3 == 0 ? 0 : 1 + i % 4;
                            float alpha = i % 4 == 3 ? -0.5f : 1f, beta = i % 3 == 0 ? 0f : i % 3 == 1 ? 0.5f : 1f;
                            i++;
                            gemmCase(b, ta, tb, s[0], n, s[1], pad, alpha, beta);
                        }
                    }
                }
            }
            // weight-gradient shapes: gemm(YES, NO), alpha 1, m rows of c, long k (sums in slices past 512)
            for (int m : new int[] {1, 2, 3, 7, 8, 9, 16, 17, 33, 513}) {
                for (int n : new int[] {1, 2, 13, 15, 16, 17, 31, 33, 63, 64, 65, 129}) {
                    for (int k : new int[] {1, 2, 3, 511, 513, 1025}) {
                        if ((long) m * n * k > 4_000_000) {
                            continue;
                        }
                        int pad = (m + n + k) % 3;
                        gemmCase(b, Transpose.YES, Transpose.NO, m, n, k, pad, 1f, k % 2 == 0 ? 0f : 1f);
                    }
                }
            }
            // chunks of c in the sliced sums (k > 512: MC = 256 rows, NC = 512 columns) and the pack of b (m >= 256)
            int[][] mnk = {{3, 511, 513}, {2, 513, 600}, {9, 529, 520}, {257, 17, 600}, {257, 48, 513}, {40, 527, 513},
                    {1, 544, 700}, {255, 33, 513}};
            for (int[] s : mnk) {
                gemmCase(b, Transpose.YES, Transpose.NO, s[0], s[1], s[2], s[0] % 3, 1f, s[2] % 2 == 0 ? 0f : 1f);
                gemmCase(b, Transpose.NO, Transpose.NO, s[0], s[1], 40, 1, 1f, 0.5f);
            }
        }
    }

    /**
     * c's starting values for a product into (m, ldc) c with beta: c0's, with the sentinel in the gaps between c's rows
     * (columns n..ldc), and where beta is 0 NaN, which must not be read; c0 becomes what the bound compares to (0 there).
     */
    private static float[] startOf(float[] c0, int ldc, int n, float beta) {
        float[] start = c0.clone();
        for (int i = 0; i < c0.length; i++) {
            if (i % ldc >= n) {
                c0[i] = start[i] = SENTINEL;
            } else if (beta == 0) {
                start[i] = Float.NaN;
                c0[i] = 0;
            }
        }
        return start;
    }

    /** Element ci of c, in a gap between c's rows, still holds the sentinel. */
    private static void assertGap(String what, float[] got, int ci) {
        if (Float.floatToRawIntBits(got[ci]) != Float.floatToRawIntBits(SENTINEL)) {
            throw new AssertionError(what + ": element " + ci + " between c's rows changed to " + got[ci]);
        }
    }

    private static void gemmCase(Both b, Transpose ta, Transpose tb, int m, int n, int k, int pad, float alpha, float beta) {
        int aRows = ta.isTransposed() ? k : m, aCols = ta.isTransposed() ? m : k;
        int bRows = tb.isTransposed() ? n : k, bCols = tb.isTransposed() ? k : n;
        int lda = aCols + pad, ldb = bCols + pad, ldc = n + pad;
        float[] ah = b.uniform(aRows * lda, -1, 1), bh = b.uniform(bRows * ldb, -1, 1), c0 = b.uniform(m * ldc, -1, 1);
        float[] start = startOf(c0, ldc, n, beta);
        Guarded g = new Guarded(b);
        Pair a = b.f32(ah, ah.length), bm = b.f32(bh, bh.length), c = g.f32("c", start, start.length);
        b.ref.gemm(ta, tb, m, n, k, alpha, a.r(), lda, bm.r(), ldb, beta, c.r(), ldc);
        b.dev.gemm(ta, tb, m, n, k, alpha, a.d(), lda, bm.d(), ldb, beta, c.d(), ldc);
        String what = "gemm op" + (ta.isTransposed() ? "T" : "N") + (tb.isTransposed() ? "T" : "N") + " m=" + m + " n="
                + n + " k=" + k + " pad=" + pad + " alpha=" + alpha + " beta=" + beta;
        float[] ref = b.refValues(c.r()), got = b.devValues(c.d());
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < ldc; j++) {
                int ci = i * ldc + j;
                if (j >= n) {
                    assertGap(what, got, ci);
                    continue;
                }
                double sum = 0;
                for (int l = 0; l < k; l++) {
                    double av = ta.isTransposed() ? ah[l * lda + i] : ah[i * lda + l];
                    double bv = tb.isTransposed() ? bh[j * ldb + l] : bh[l * ldb + j];
                    sum += Math.abs(av * bv);
                }
                double tol = 4 * Math.sqrt(Math.max(k, 1)) * ULP * Math.abs(alpha) * sum + 2 * ULP * Math.abs(beta * c0[ci])
                        + 1e-30;
                if (!(Math.abs((double) got[ci] - ref[ci]) <= tol)) {
                    throw new AssertionError(String.format("%s on %s: C element %d (row %d, col %d) is %.9g, reference "
                            + "%.9g, tolerance %.3g", what, b.dev.name(), ci, i, j, got[ci], ref[ci], tol));
                }
            }
        }
        g.check(what);
    }

    /**
     * pack + gemmPacked, F32 and BF16, from w and from w^T, strided (ldw, lda, ldc larger than the widths) and
     * contiguous, beta 0 over NaN and 0.5: against the product in double of the same (BF16: rounded) values, within
     * gemm's bound plus 2 u |beta c|, as ConformanceTest.gemmPackedStrided.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#accelerated")
    void gemmPacked(String backend) {
        int[] ms = {1, 2, 3, 5, 6, 7, 8, 9, 12, 13, 16, 17, 24, 25, 33};
        int[] ks = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 65};
        try (Both b = both(backend, 107)) {
            int i = 0;
            for (int n : INNER) {
                for (int k : ks) {
                    for (PackedMatrix.Precision precision : PackedMatrix.Precision.values()) {
                        int m = ms[i % ms.length];
                        Transpose trans = i % 2 == 0 ? Transpose.NO : Transpose.YES;
                        int pad = i % 5 == 0 ? 0 : i % 5;
                        i++;
                        packedCase(b, m, n, k, trans, precision, pad);
                    }
                }
            }
        }
    }

    private static void packedCase(Both b, int m, int n, int k, Transpose trans, PackedMatrix.Precision precision,
                                   int pad) {
        boolean t = trans.isTransposed();
        int wRows = t ? n : k, wCols = t ? k : n, ldw = wCols + pad, lda = k + pad, ldc = n + pad;
        float[] wh = b.uniform(wRows * ldw, -1, 1), ah = b.uniform(m * lda, -1, 1);
        Pair w = b.f32(wh, wh.length), a = b.f32(ah, ah.length);
        PackedMatrix pr = b.ref.packedMatrix(b.arena(), k, n, precision);
        PackedMatrix pd = b.dev.packedMatrix(b.arena(), k, n, precision);
        b.ref.pack(pr, trans, w.r().flatSlice(0, (wRows - 1) * ldw + wCols), ldw);
        b.dev.pack(pd, trans, w.d().flatSlice(0, (wRows - 1) * ldw + wCols), ldw);
        float[] bh = new float[k * n];
        for (int l = 0; l < k; l++) {
            for (int j = 0; j < n; j++) {
                float v = t ? wh[j * ldw + l] : wh[l * ldw + j];
                bh[l * n + j] = precision == PackedMatrix.Precision.BF16 ? PackedMatrix.roundToBf16(v) : v;
            }
        }
        for (float beta : new float[] {0f, 0.5f}) {
            float[] c0 = b.uniform(m * ldc, -1, 1), start = startOf(c0, ldc, n, beta);
            Guarded g = new Guarded(b);
            Pair c = g.f32("c", start, start.length);
            Tensor ar = a.r().flatSlice(0, (m - 1) * lda + k), ad = a.d().flatSlice(0, (m - 1) * lda + k);
            b.ref.gemmPacked(m, c.r(), ldc, ar, lda, pr, beta);
            b.dev.gemmPacked(m, c.d(), ldc, ad, lda, pd, beta);
            String what = "gemmPacked " + precision + " m=" + m + " n=" + n + " k=" + k + (t ? " from w^T" : "") + " pad="
                    + pad + " beta=" + beta;
            float[] got = b.devValues(c.d()), ref = b.refValues(c.r());
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < ldc; j++) {
                    int ci = i * ldc + j;
                    if (j >= n) {
                        assertGap(what, got, ci);
                        continue;
                    }
                    double sum = beta * (double) c0[ci], abs = 0;
                    for (int l = 0; l < k; l++) {
                        sum += (double) ah[i * lda + l] * bh[l * n + j];
                        abs += Math.abs((double) ah[i * lda + l] * bh[l * n + j]);
                    }
                    double tol = 4 * Math.sqrt(k) * ULP * abs + 2 * ULP * Math.abs(beta * c0[ci]) + 1e-30;
                    if (!(Math.abs(got[ci] - sum) <= tol) || !(Math.abs(ref[ci] - sum) <= tol)) {
                        throw new AssertionError(String.format("%s on %s: C element %d (row %d, col %d) is %.9g, "
                                + "reference %.9g, exact %.9g, tolerance %.3g", what, b.dev.name(), ci, i, j, got[ci],
                                ref[ci], sum, tol));
                    }
                }
            }
            g.check(what);
        }
    }

    // ---- whole sequences ----------------------------------------------------------------------------------

    /** (N, H) for the sequence kernels: rows around the team (< 16) and part thresholds, H tails and panels. */
    static int[][] sequenceShapes() {
        int[] ns = {1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33};
        int[] hs = {1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 49};
        List<int[]> out = new ArrayList<>();
        for (int n : ns) {
            for (int h : hs) {
                out.add(new int[] {n, h});
            }
        }
        // the team split by units (H a multiple of 16, enough work a step) and its neighbours
        for (int n : new int[] {1, 2, 3, 15}) {
            for (int h : new int[] {191, 192, 208, 255, 256, 257, 272}) {
                out.add(new int[] {n, h});
            }
        }
        return out.toArray(new int[0][]);
    }

    /** One whole-sequence case; i counts the cases from 1. */
    interface SequenceCase {
        void run(Both b, int n, int h, int t, PackedMatrix.Precision precision, boolean fromZero, int i);
    }

    /** c over sequenceShapes(), T = 1..5 and the precisions in turn, from h_0 = 0 every third case. */
    private static void sequences(String backend, long seed, SequenceCase c) {
        try (Both b = both(backend, seed)) {
            int i = 0;
            for (int[] s : sequenceShapes()) {
                int n = s[0], h = s[1], t = 1 + i % 5;
                PackedMatrix.Precision precision = PackedMatrix.Precision.values()[(i / 5) % 2];
                boolean fromZero = i % 3 == 0;
                i++;
                c.run(b, n, h, t, precision, fromZero, i);
            }
        }
    }

    /** With a table every other case, the backward in one of its four modes, without dh0 every fifth. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#accelerated")
    void lstmSequence(String backend) {
        sequences(backend, 108, (b, n, h, t, precision, fromZero, i) -> ConformanceTest.lstmSequenceCase(b,
                new Guarded(b), n, h, t, precision, fromZero, i % 2 == 1, new int[] {i % 4}, i % 5 != 4, 9, false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#accelerated")
    void gruSequence(String backend) {
        sequences(backend, 109, (b, n, h, t, precision, fromZero, i) -> ConformanceTest.gruSequenceCase(b,
                new Guarded(b), n, h, t, precision, fromZero, 9, false));
    }
}
