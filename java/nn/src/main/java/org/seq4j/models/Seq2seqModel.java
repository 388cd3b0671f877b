// A sequence-to-sequence model over token ids: Seq2seq, PeekySeq2seq and AttentionSeq2seq, which a trainer
// drives without knowing which.
//
// forward(xs, ts): xs (N, T_in) int32 questions; ts (N, T_out + 1) int32 answers that start with the start
// id (the book's "_"). The decoder reads ts[:, :-1] and is scored on ts[:, 1:] (label -1 is ignored).
package org.seq4j.models;

import java.lang.foreign.Arena;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

/**
 * A sequence-to-sequence model over token ids (Seq2seq, PeekySeq2seq, AttentionSeq2seq). {@code forward(xs, ts)}:
 * xs (N, T_in) int32 questions; ts (N, T_out + 1) int32 answers that start with the start id; the decoder reads
 * ts[:, :-1] and is scored on ts[:, 1:] (label -1 is ignored).
 */
public interface Seq2seqModel extends Model {

    /**
     * The vocabulary size (shared by questions and answers).
     *
     * @return V
     */
    int vocabSize();

    /**
     * Greedy decoding of N questions at once. Does not touch the training state or workspaces.
     *
     * @param xs      (N, T_in) int32 on this model's backend
     * @param startId the id each answer starts from
     * @param length  how many ids to generate
     * @return int[N][length], the start id excluded
     * @throws IllegalArgumentException if the shapes do not fit or an id is outside [0, V)
     */
    int[][] generate(Tensor xs, int startId, int length);

    /**
     * {@link #generate(Tensor, int, int)} for host arrays: xs[n] are the ids of question n, all of one length.
     *
     * @param xs      N questions of one length
     * @param startId the id each answer starts from
     * @param length  how many ids to generate
     * @return int[N][length]
     * @throws IllegalArgumentException if the questions differ in length or an id is outside [0, V)
     */
    default int[][] generate(int[][] xs, int startId, int length) {
        int n = xs.length;
        if (n == 0) {
            return new int[0][];
        }
        int t = xs[0].length;
        int[] flat = new int[n * t];
        for (int i = 0; i < n; i++) {
            if (xs[i].length != t) {
                throw new IllegalArgumentException("generate: question " + i + " has " + xs[i].length
                        + " ids but question 0 has " + t + "; pad them to one length");
            }
            System.arraycopy(xs[i], 0, flat, i * t, t);
        }
        try (Arena arena = Arena.ofConfined()) {
            Tensor x = backend().allocate(arena, DType.I32, n, t);
            backend().copyIn(x, flat);
            return generate(x, startId, length);
        }
    }
}
