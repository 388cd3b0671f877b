// Helpers shared by the regression models.
package org.seq4j.models;

import org.seq4j.backend.Backend;
import org.seq4j.internal.JavaHeap;
import org.seq4j.tensor.Tensor;

final class Regression {
    private Regression() {
    }

    /** L * N * F, the outputs of a prediction of L steps for N sequences as they come back in one float[]. */
    static int requireOutputs(int l, int n, int f) {
        return HostArrays.length("predict", "outputs (length x N x F)", l, n, f);
    }

    /**
     * Checks a prediction of {@code length} steps for N sequences before any work, as Greedy.check does generate's:
     * its outputs as one Java array, and the host arrays it allocates (the float[length x N x F] copied out, again as
     * float[N][length x F]) against the heap. A length past the heap ran for seconds and then ended in an
     * OutOfMemoryError.
     *
     * @param op the public call, for messages ("WavePredictor.predict")
     */
    static void check(String op, int length, int n, int f) {
        int values = HostArrays.length(op, "outputs (length x N x F)", length, n, f);
        long bytes = JavaHeap.arrayBytes(values, 4) + HostArrays.rowsBytes(n, (long) length * f);
        if (!JavaHeap.fits(bytes)) {
            throw JavaHeap.refusal(op, "length " + length + ": the outputs float[length x N=" + n
                    + " x F=" + f + "] copied out, again as float[N][length x F]", bytes);
        }
    }

    /** out (L, N, F) time-major on the device as float[N][L * F] on the host. */
    static float[][] toBatchMajor(Backend backend, Tensor out) {
        int l = out.dim(0), n = out.dim(1), f = out.dim(2);
        if (n == 0) {
            return new float[0][];
        }
        float[] flat = new float[requireOutputs(l, n, f)];
        backend.copyOut(flat, out);
        float[][] res = new float[n][l * f];   // l * f <= l * n * f
        for (int s = 0; s < l; s++) {
            for (int i = 0; i < n; i++) {
                System.arraycopy(flat, (s * n + i) * f, res[i], s * f, f);
            }
        }
        return res;
    }
}
