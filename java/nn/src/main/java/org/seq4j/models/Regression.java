// Helpers shared by the regression models.
package org.seq4j.models;

import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;

final class Regression {
    private Regression() {
    }

    /** L * N * F, the outputs of a prediction of L steps for N sequences as they come back in one float[]. */
    static int requireOutputs(int l, int n, int f) {
        return HostArrays.length("predict", "outputs (length x N x F)", l, n, f);
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
