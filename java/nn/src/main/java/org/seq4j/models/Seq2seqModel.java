// A sequence-to-sequence model over token ids: Seq2seq, PeekySeq2seq and AttentionSeq2seq, which a trainer
// drives without knowing which.
//
// forward(xs, ts): xs (N, T_in) int32 questions; ts (N, T_out + 1) int32 answers that start with the start
// id (the book's "_"). The decoder reads ts[:, :-1] and is scored on ts[:, 1:]; a label of -1 is ignored in the last
// column only (the others are also the decoder's inputs).
package org.seq4j.models;

import java.lang.foreign.Arena;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

/**
 * A sequence-to-sequence model over token ids (Seq2seq, PeekySeq2seq, AttentionSeq2seq). {@code forward(xs, ts)}:
 * xs (N, T_in) int32 questions; ts (N, T_out + 1) int32 answers that start with the start id; the decoder reads
 * ts[:, :-1] and is scored on ts[:, 1:]. A label of -1 is ignored where it is only a label, in the last column
 * ts[:, -1]; every other column is also the decoder's input there, ids in [0, V) (a -1 is refused, naming ts).
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
     * @throws IllegalArgumentException if the shapes do not fit, an id is outside [0, V), length is below 1, or the
     *                                  result is more than the Java heap has free (checked before any work)
     * @throws IllegalStateException    (the models of this package) if a step's scores of a question hold NaN or
     *                                  +Infinity, or are -Infinity for every id: the model's weights are not finite
     *                                  (finite scores are answered, however large, as beam search answers them)
     * @throws java.util.concurrent.CancellationException (the models of this package) if the thread is interrupted,
     *                                  looked at once a step (the message names the decoder's generate); its interrupt
     *                                  is kept and the model stays usable
     */
    int[][] generate(Tensor xs, int startId, int length);

    /**
     * Beam search over N questions at once, K = beam hypotheses each, all N*K advancing in one decoder forward
     * per step: xs (N, T_in) int32 on this model's backend. Every answer has {@code length} ids (start id
     * excluded); Beam.Result holds the K best per question, best first, with their summed log-probabilities
     * (see Beam). K = 1 gives exactly generate's answers. Does not touch the training state or workspaces.
     * The models of this package implement it; other implementations of this interface may not.
     *
     * @param xs      (N, T_in) int32 question ids on this model's backend
     * @param startId the id each answer starts from
     * @param length  ids per answer, the start id excluded
     * @param beam    K, hypotheses kept per question (at least 1)
     * @return the K best answers per question with their log-probabilities
     * @throws IllegalArgumentException if K or length is below 1, an id is outside [0, V), length x N x K ids are
     *                                  more than one Java array holds, K is more than the V^length answers there are,
     *                                  or the search's arrays are more than the Java heap has free
     * @throws IllegalStateException    (the models of this package) if the scores of a live hypothesis hold NaN or
     *                                  +Infinity, or are -Infinity for every id: the model's weights are not finite
     *                                  (the scores generate refuses)
     * @throws UnsupportedOperationException if this implementation has no beam search
     * @throws java.util.concurrent.CancellationException (the models of this package) if the thread is interrupted,
     *                                  looked at once a step; its interrupt is kept and the model stays usable
     */
    default Beam.Result beamSearch(Tensor xs, int startId, int length, int beam) {
        throw new UnsupportedOperationException(getClass().getName() + " does not implement beam search");
    }

    /**
     * {@link #generate(Tensor, int, int)} for host arrays: xs[n] are the ids of question n, all of one length.
     *
     * @param xs      N questions of one length
     * @param startId the id each answer starts from
     * @param length  how many ids to generate
     * @return int[N][length]
     * @throws IllegalArgumentException if the questions differ in length, length is below 1, an id (the start id
     *                                  included) is outside [0, V), or N x T ids or the result are more than one
     *                                  Java array holds or the Java heap has free (checked before any work)
     * @throws NullPointerException if xs or a question is null (the message says which)
     * @throws IllegalStateException    (the models of this package) if the model's backend is closed, or a step's
     *                                  scores of a question hold NaN or +Infinity, or are -Infinity for every id
     * @throws java.util.concurrent.CancellationException (the models of this package) if the thread is interrupted,
     *                                  looked at once a step; its interrupt is kept and the model stays usable
     */
    default int[][] generate(int[][] xs, int startId, int length) {
        String op = getClass().getSimpleName() + ".generate";   // the call, as the Tensor path's messages name it
        if (questions(op, xs) == 0) {
            checkEmpty(op, startId, length);
            return new int[0][];
        }
        try (Arena arena = Arena.ofConfined()) {
            return generate(onDevice(arena, op, xs), startId, length);
        }
    }

    /**
     * {@link #beamSearch(Tensor, int, int, int)} for host arrays: xs[n] are the ids of question n, all of one length.
     *
     * @param xs      N questions of one length
     * @param startId the id each answer starts from
     * @param length  ids per answer, the start id excluded
     * @param beam    K, hypotheses kept per question (at least 1)
     * @return the K best answers per question with their log-probabilities
     * @throws IllegalArgumentException if the questions differ in length, K or length is below 1, or an id is
     *                                  outside [0, V)
     * @throws NullPointerException if xs or a question is null (the message says which)
     */
    default Beam.Result beamSearch(int[][] xs, int startId, int length, int beam) {
        String op = getClass().getSimpleName() + ".beamSearch";   // the call, as the Tensor path's messages name it
        if (questions(op, xs) == 0) {
            Beam.requireBeam(op, beam);
            checkEmpty(op, startId, length);
            // K against the sequences there are, as one question's search refuses it
            Beam.requireSequences(op, Beam.Options.of(beam), length, vocabSize());
            return new Beam.Result(new int[0][][], new double[0][], new double[0][]);
        }
        try (Arena arena = Arena.ofConfined()) {
            return beamSearch(onDevice(arena, op, xs), startId, length, beam);
        }
    }

    /**
     * The best answer of a beam search with K = beam for every question; beam 1 gives greedy's answers.
     *
     * @param xs      N questions of one length
     * @param startId the id each answer starts from
     * @param length  ids per answer, the start id excluded
     * @param beam    K, hypotheses kept per question (at least 1)
     * @return int[N][], the best answer of each question
     * @throws IllegalArgumentException if the questions differ in length, K or length is below 1, or an id is
     *                                  outside [0, V)
     */
    default int[][] generate(int[][] xs, int startId, int length, int beam) {
        return beamSearch(xs, startId, length, beam).best();
    }

    /**
     * No questions make no answers, but the start id and the length are checked as for some: they were accepted
     * whatever they were, so a caller's bad arguments passed unnoticed until a batch was not empty.
     */
    private void checkEmpty(String op, int startId, int length) {
        if (length < 1) {
            throw new IllegalArgumentException(op + ": needs length >= 1, got " + length);
        }
        if (startId < 0 || startId >= vocabSize()) {
            throw new IllegalArgumentException(op + ": start id " + startId + " is outside the vocabulary [0, V="
                    + vocabSize() + ")");
        }
    }

    /** N, after checking that xs and each of its questions are there (a helpful NullPointerException said only "xs"). */
    private static int questions(String op, int[][] xs) {
        if (xs == null) {
            throw new NullPointerException(op + ": xs is null; expected N questions of one length");
        }
        for (int i = 0; i < xs.length; i++) {
            if (xs[i] == null) {
                throw new NullPointerException(op + ": question " + i + " is null; expected its ids");
            }
        }
        return xs.length;
    }

    private Tensor onDevice(Arena arena, String op, int[][] xs) {
        int n = xs.length;
        int t = xs[0].length;
        int[] flat = new int[HostArrays.length(op, "questions (N x T)", n, t)];
        for (int i = 0; i < n; i++) {
            if (xs[i].length != t) {
                throw new IllegalArgumentException(op + ": question " + i + " has " + xs[i].length
                        + " ids but question 0 has " + t + "; pad them to one length");
            }
            System.arraycopy(xs[i], 0, flat, i * t, t);
        }
        Tensor x = backend().allocate(arena, DType.I32, n, t);
        backend().copyIn(x, flat);
        return x;
    }
}
