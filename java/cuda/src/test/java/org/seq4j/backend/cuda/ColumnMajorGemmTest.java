// The operand swap that runs a row-major gemm on column-major cuBLAS, checked without a GPU: a plain
// column-major sgemm (cuBLAS's documented semantics, written out in Java) called with the mapped arguments
// must reproduce JavaBackend's row-major gemm, for every transpose pair, padded leading dimensions and
// strided batches.
package org.seq4j.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.JavaBackend;
import org.seq4j.backend.Transpose;
import org.seq4j.tensor.Tensor;

class ColumnMajorGemmTest {
    private final JavaBackend reference = new JavaBackend();

    /**
     * Column-major sgemm as cuBLAS defines it, one batch: C[i + j ldc] = alpha sum_l op(A)[i, l] op(B)[l, j] +
     * beta C[i + j ldc], where op(X)[r, c] is X[r + c ldx], or X[c + r ldx] when transposed. Sums in double.
     */
    static void columnMajorSgemm(Transpose ta, Transpose tb, int m, int n, int k, float alpha, float[] a, long offA,
                                 int lda, float[] b, long offB, int ldb, float beta, float[] c, long offC, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int l = 0; l < k; l++) {
                    float av = ta.isTransposed() ? a[(int) (offA + l + (long) i * lda)] : a[(int) (offA + i + (long) l * lda)];
                    float bv = tb.isTransposed() ? b[(int) (offB + j + (long) l * ldb)] : b[(int) (offB + l + (long) j * ldb)];
                    s += (double) av * bv;
                }
                int ci = (int) (offC + i + (long) j * ldc);
                c[ci] = (float) (alpha * s + (beta == 0f ? 0 : (double) beta * c[ci]));
            }
        }
    }

    @Test
    void swappedOperandsReproduceRowMajorGemm() {
        SplittableRandom random = new SplittableRandom(11);
        int[][] mnk = {{1, 1, 1}, {1, 7, 13}, {13, 1, 7}, {7, 13, 1}, {5, 9, 3}, {17, 31, 29}};
        for (int[] s : mnk) {
            for (Transpose ta : Transpose.values()) {
                for (Transpose tb : Transpose.values()) {
                    for (int pad : new int[] {0, 3}) {
                        check(random, ta, tb, s[0], s[1], s[2], pad, pad == 0 ? 1f : -0.5f, pad == 0 ? 0f : 0.75f, 1);
                    }
                }
            }
        }
    }

    @Test
    void swappedOperandsReproduceStridedBatchedGemm() {
        SplittableRandom random = new SplittableRandom(12);
        for (Transpose ta : Transpose.values()) {
            for (Transpose tb : Transpose.values()) {
                check(random, ta, tb, 9, 10, 12, 2, 0.5f, -1f, 5);
                check(random, ta, tb, 11, 1, 33, 0, 1f, 0f, 7);   // the attention-score shape: (T, H) . (H, 1)
            }
        }
    }

    @Test
    void mappingSwapsOperandsDimensionsAndLeadingDimensions() {
        ColumnMajorGemm g = ColumnMajorGemm.of(Transpose.YES, Transpose.NO, 3, 5, 7, 10, 20, 30);
        assertEquals(new ColumnMajorGemm(Transpose.NO, Transpose.YES, 5, 3, 7, 20, 10, 30), g);
    }

    /** One row-major case on JavaBackend against the mapped column-major call; batch 1 is plain gemm. */
    private void check(SplittableRandom random, Transpose ta, Transpose tb, int m, int n, int k, int pad, float alpha,
                       float beta, int batch) {
        int aRows = ta.isTransposed() ? k : m, aCols = ta.isTransposed() ? m : k;
        int bRows = tb.isTransposed() ? n : k, bCols = tb.isTransposed() ? k : n;
        int lda = aCols + pad, ldb = bCols + pad, ldc = n + pad;
        long sa = (long) aRows * lda + 1, sb = (long) bRows * ldb + 2, sc = (long) m * ldc + 3;
        float[] a = uniform(random, (int) (sa * batch)), b = uniform(random, (int) (sb * batch));
        float[] c = uniform(random, (int) (sc * batch)), cCol = c.clone();
        String what = "op" + ta + tb + " m=" + m + " n=" + n + " k=" + k + " pad=" + pad + " batch=" + batch;

        try (Arena arena = Arena.ofConfined()) {
            Tensor at = Tensor.ofFloats(arena, a, a.length), bt = Tensor.ofFloats(arena, b, b.length);
            Tensor ct = Tensor.ofFloats(arena, c, c.length);
            if (batch == 1) {
                reference.gemm(ta, tb, m, n, k, alpha, at, lda, bt, ldb, beta, ct, ldc);
            } else {
                reference.gemmStridedBatched(ta, tb, m, n, k, alpha, at, lda, sa, bt, ldb, sb, beta, ct, ldc, sc, batch);
            }
            float[] expected = ct.toFloatArray();

            ColumnMajorGemm g = ColumnMajorGemm.of(ta, tb, m, n, k, lda, ldb, ldc);
            for (int p = 0; p < batch; p++) {
                // cuBLAS's first operand is our B, its second our A; the strides follow their matrices
                columnMajorSgemm(g.transFirst(), g.transSecond(), g.m(), g.n(), g.k(), alpha, b, p * sb, g.ldFirst(),
                        a, p * sa, g.ldSecond(), beta, cCol, p * sc, g.ldc());
            }
            // both sum in double and round once: equal to the bit, padding untouched on both sides
            for (int i = 0; i < expected.length; i++) {
                if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(cCol[i])) {
                    fail(what + ": C element " + i + " is " + cCol[i] + " through the column-major mapping, "
                            + expected[i] + " row-major (expected bitwise equal)");
                }
            }
        }
    }

    private static float[] uniform(SplittableRandom random, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextDouble(-1, 1);
        }
        return x;
    }
}
