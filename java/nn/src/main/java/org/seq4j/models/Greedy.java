// Greedy decoding shared by the seq2seq decoders: feed the start id, take the argmax of the scores, feed
// it back, for a fixed number of steps, all N sequences at once and without leaving the device. Each step also checks
// its scores, summed into a slot of its own and read back once at the end (a read a step would stop a GPU's queue at
// every step): the sum of squares of their softmax, row by row. A row's softmax is NaN exactly when the row holds NaN
// or +Infinity, or is -Infinity for every id, the scores beam search refuses too; for any finite scores it is finite
// (each probability is at most 1, so the sum is at most N), whatever their size and the batch's. The sum of squares
// of the scores themselves, checked before, overflowed a float for finite scores: 1e18 each in a batch of 200 was
// refused where the same question alone, and beam search with K = 1, were answered.
package org.seq4j.models;

import java.util.function.UnaryOperator;
import org.seq4j.backend.Backend;
import org.seq4j.internal.JavaHeap;
import org.seq4j.layers.Workspace;
import org.seq4j.tensor.Tensor;

final class Greedy {
    private Greedy() {
    }

    /**
     * Returns ids (length, N) int32 allocated in {@code ws}. {@code step} maps one step of ids (1, N) to scores
     * (1, N, V) and carries the decoder's state from call to call. Scores of a question that hold NaN or +Infinity,
     * or that are -Infinity for every id (weights that are not finite), are an IllegalStateException naming the
     * first such step, as the language models' generate and beam search refuse them: argmax passes over NaN (or
     * takes it in column 0) and answered with some id. Finite scores are answered, however large.
     */
    static Tensor decode(String op, Backend backend, Workspace ws, int n, int startId, int length,
                         UnaryOperator<Tensor> step) {
        check(op, n, length);   // before the decoder allocates the ids
        Tensor sampled = ws.ints(length, n);   // (length, N)
        Tensor cur = ws.ints(1, n);            // (1, N)
        Tensor squares = ws.floats(length);    // (length,) each step's sum of squares of its scores' softmax
        Tensor probs = null;                   // (N, V) the softmax, allocated at the first step, when V is known
        backend.fill(cur, startId);
        for (int s = 0; s < length; s++) {
            Interrupts.check(op, "step", s, length);
            Tensor score = step.apply(cur);                       // (1, N, V)
            Tensor rows = score.view(n, score.dim(2));
            if (probs == null) {
                probs = ws.floats(n, score.dim(2));
            }
            backend.softmaxForward(probs, rows);
            backend.sumOfSquares(squares.slice(s, s + 1), probs);
            Tensor row = sampled.slice(s, s + 1);                 // (1, N)
            backend.argmaxRows(row.view(n), rows);
            cur = row;
        }
        float[] sums = new float[length];
        backend.copyOut(sums, squares);
        for (int s = 0; s < length; s++) {
            if (!Float.isFinite(sums[s])) {   // NaN: some row's softmax is NaN (the sum is at most N otherwise)
                throw new NonFiniteScoresException(op + ": at step " + (s + 1) + " the scores of some question hold "
                        + "NaN or +Infinity, or are -Infinity for every id (their softmax is NaN)");
            }
        }
        return sampled;
    }

    /**
     * Checks a greedy generate of {@code length} ids for N rows before any work: length >= 1, the ids (length x N) as
     * one Java array, and the host arrays that generate allocates (the ids copied out, as int[N][length], and a float
     * a step for the scores' check) against the heap. A length past the heap ran for minutes (1.5e9 steps: about 15)
     * and then failed allocating its result.
     *
     * @param op the public call, for messages
     */
    static void check(String op, int n, int length) {
        if (length < 1) {
            throw new IllegalArgumentException(op + ": needs length >= 1, got " + length);
        }
        HostArrays.length(op, "ids (length x N)", length, n);
        long bytes = JavaHeap.arrayBytes((long) length * n, 4) + HostArrays.rowsBytes(n, length)
                + JavaHeap.arrayBytes(length, 4);
        if (!JavaHeap.fits(bytes)) {
            throw JavaHeap.refusal(op, "length " + length + ": the ids int[length x N=" + n + "] copied out, again as"
                    + " int[N][length], and a float a step", bytes);
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
