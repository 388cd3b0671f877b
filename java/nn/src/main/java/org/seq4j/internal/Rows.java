// T x N, the rows of a time-major (T, N, ...) tensor seen as a matrix, exactly. A layer's products and views take
// T x N as an int (the kernels' dimensions are ints): where it passed int's range the product wrapped, and a view gave
// "negative dimension in shape (-2147479015, 0)" or, wrapped to 0, a gemm's "lda = 0" (reachable with zero-sized
// tensors; with non-empty ones past 8 GiB of input).
package org.seq4j.internal;

/** The rows T x N of a (T, N, ...) tensor, refused past int's range (a helper of seq4j-nn, not API). */
public final class Rows {
    private Rows() {
    }

    /**
     * T x N, exactly.
     *
     * @param op the call, for the message ("TimeLSTM.forward")
     * @param t  the steps T
     * @param n  the batch N
     * @return t * n
     * @throws IllegalArgumentException if t * n is past int's range
     */
    public static int of(String op, int t, int n) {
        long rows = (long) t * n;
        if (rows > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": T x N = " + t + " x " + n + " = " + rows + " rows, past the "
                    + Integer.MAX_VALUE + " a matrix product takes; give shorter sequences or a smaller batch");
        }
        return (int) rows;
    }
}
