// Greedy decoding shared by the seq2seq decoders: feed the start id, take the argmax of the scores, feed
// it back, for a fixed number of steps, all N sequences at once. One float per step leaves the device: the sum of
// the scores' squares, which is finite exactly when no score is NaN or infinite (or, rarely, when it overflows).
package org.seq4j.models;

import java.util.function.UnaryOperator;
import org.seq4j.backend.Backend;
import org.seq4j.layers.Workspace;
import org.seq4j.tensor.Tensor;

final class Greedy {
    private Greedy() {
    }

    /**
     * Returns ids (length, N) int32 allocated in {@code ws}. {@code step} maps one step of ids (1, N) to scores
     * (1, N, V) and carries the decoder's state from call to call. Scores holding NaN or an infinity (weights that
     * are not finite) are an IllegalStateException, as in the language models' generate and in beam search: argmax
     * passes over NaN (or takes it in column 0) and answered with some id.
     */
    static Tensor decode(Backend backend, Workspace ws, int n, int startId, int length,
                         UnaryOperator<Tensor> step) {
        if (length < 1) {
            throw new IllegalArgumentException("generate needs length >= 1, got " + length);
        }
        HostArrays.length("generate", "ids (length x N)", length, n); // before the decoder allocates them
        Tensor sampled = ws.ints(length, n);   // (length, N)
        Tensor cur = ws.ints(1, n);            // (1, N)
        Tensor squares = ws.floats(1);         // (1,) sum of the step's scores squared
        backend.fill(cur, startId);
        for (int s = 0; s < length; s++) {
            Tensor score = step.apply(cur);                       // (1, N, V)
            requireFinite(backend, squares, score, s);
            Tensor row = sampled.slice(s, s + 1);                 // (1, N)
            backend.argmaxRows(row.view(n), score.view(n, score.dim(2)));
            cur = row;
        }
        return sampled;
    }

    /**
     * Throws when {@code score} (1, N, V) holds NaN or an infinity. NaN or an infinity makes the sum of squares NaN
     * or +Infinity; a sum of squares that overflowed float (scores near 1e19) is +Infinity too, so that case alone
     * reads the scores back to name the culprit, or to find there is none.
     */
    private static void requireFinite(Backend backend, Tensor squares, Tensor score, int s) {
        backend.sumOfSquares(squares, score);
        if (Float.isFinite(backend.item(squares, 0))) {
            return;
        }
        int n = score.dim(1), v = score.dim(2);
        float[] host = new float[HostArrays.length("generate", "a step's scores (N x V)", n, v)];
        backend.copyOut(host, score);
        for (int i = 0; i < host.length; i++) {
            if (!Float.isFinite(host[i])) {
                throw new IllegalStateException("generate: at step " + (s + 1) + " the scores of question " + i / v
                        + " hold " + host[i] + " (id " + i % v + "): the model's weights are not finite (a diverged"
                        + " training run, or such values written with copyIn); expected finite scores");
            }
        }
    }

    /** ids (length, N) time-major on the device, as int[N][length] on the host. */
    static int[][] toBatchMajor(Backend backend, Tensor ids) {
        int length = ids.dim(0), n = ids.dim(1);
        int[] flat = new int[HostArrays.length("generate", "ids (length x N)", length, n)];
        backend.copyOut(flat, ids);
        int[][] out = new int[n][length];
        for (int s = 0; s < length; s++) {
            for (int i = 0; i < n; i++) {
                out[i][s] = flat[s * n + i];
            }
        }
        return out;
    }
}
