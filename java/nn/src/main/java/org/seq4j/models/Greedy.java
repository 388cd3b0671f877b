// Greedy decoding shared by the seq2seq decoders: feed the start id, take the argmax of the scores, feed
// it back, for a fixed number of steps, all N sequences at once and without leaving the device.
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
     * (1, N, V) and carries the decoder's state from call to call.
     */
    static Tensor decode(Backend backend, Workspace ws, int n, int startId, int length,
                         UnaryOperator<Tensor> step) {
        if (length < 1) {
            throw new IllegalArgumentException("generate needs length >= 1, got " + length);
        }
        HostArrays.length("generate", "ids (length x N)", length, n); // before the decoder allocates them
        Tensor sampled = ws.ints(length, n);   // (length, N)
        Tensor cur = ws.ints(1, n);            // (1, N)
        backend.fill(cur, startId);
        for (int s = 0; s < length; s++) {
            Tensor score = step.apply(cur);                       // (1, N, V)
            Tensor row = sampled.slice(s, s + 1);                 // (1, N)
            backend.argmaxRows(row.view(n), score.view(n, score.dim(2)));
            cur = row;
        }
        return sampled;
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
