// The column-major cuBLAS call that computes a row-major gemm, without transposed copies.
//
// A row-major (r, c) matrix with row stride ld is, read column-major, its transpose (c, r) with leading
// dimension ld. So the row-major C = op(A) op(B) is the column-major C^T = op(B)^T op(A)^T: call cuBLAS with
// the operands swapped (B first), m and n swapped, each operand keeping its own transpose flag and leading
// dimension. The strided-batched call swaps the strides the same way.
package org.seq4j.backend.cuda;

import org.seq4j.backend.Transpose;

/**
 * Arguments of cublasSgemm for a row-major gemm(transA, transB, m, n, k, A, lda, B, ldb, C, ldc).
 * cuBLAS's first operand ("A" in its documentation) is our B, its second our A.
 *
 * @param transFirst  transpose flag of cuBLAS's first operand (our transB)
 * @param transSecond transpose flag of cuBLAS's second operand (our transA)
 * @param m rows of cuBLAS's (column-major) C: our n
 * @param n columns of cuBLAS's C: our m
 * @param k the inner dimension, unchanged
 * @param ldFirst leading dimension of the first operand (our ldb)
 * @param ldSecond leading dimension of the second operand (our lda)
 * @param ldc leading dimension of C, unchanged
 */
record ColumnMajorGemm(Transpose transFirst, Transpose transSecond, int m, int n, int k, int ldFirst, int ldSecond,
                       int ldc) {

    static ColumnMajorGemm of(Transpose transA, Transpose transB, int m, int n, int k, int lda, int ldb, int ldc) {
        return new ColumnMajorGemm(transB, transA, n, m, k, ldb, lda, ldc);
    }
}
