// Exact-match accuracy of greedy (or beam search) generation over a test split, in batches (Seq2seqModel.generate answers
// many questions at once), plus the first few (question, truth, guess) triples for display, decoded with
// the vocabulary; reversed questions are shown the way they were written. Data parallel: each rank answers
// a contiguous share of the questions and one all-reduce sums the counts (rank 0's share comes first, so its
// samples are the single process's).
package org.seq4j.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CancellationException;
import org.seq4j.data.CharVocabulary;
import org.seq4j.data.SequencePairs;
import org.seq4j.dist.Communicator;
import org.seq4j.dist.Shard;
import org.seq4j.models.Seq2seqModel;

/**
 * Exact-match accuracy of greedy (or beam search) generation over a test split, in batches, plus the first few
 * (question, truth, guess) triples for display. The answers come from the model's generate/beamSearch, so they
 * use its inference precision: {@code model.setInferencePrecision(BF16)} first evaluates with bfloat16 recurrent
 * weights (the accuracy cost of that choice).
 */
public final class Seq2seqEval {

    /**
     * One answered question, as text.
     *
     * @param question the question as written (unreversed)
     * @param truth    the right answer
     * @param guess    the model's answer
     */
    public record Sample(String question, String truth, String guess) {
        /**
         * Whether the guess is the truth.
         *
         * @return true if equal
         */
        public boolean correct() {
            return truth.equals(guess);
        }
    }

    /**
     * {@code correct} of {@code total} questions right, and the first samples.
     *
     * @param correct questions answered exactly
     * @param total   questions asked
     * @param samples the first few, for display
     */
    public record Result(int correct, int total, List<Sample> samples) {
        /**
         * The fraction answered exactly.
         *
         * @return correct / total, 0 for no questions (evaluate refuses an empty test split: its results count at
         *         least one)
         */
        public double accuracy() {
            return total == 0 ? 0 : (double) correct / total;
        }
    }

    private Seq2seqEval() {
    }

    /**
     * Answers the first {@code limit} questions of {@code test} (all if {@code limit <= 0}), batch by batch. An
     * answer counts when every generated id equals the truth's, the start id excluded (the book's eval_seq2seq). Each
     * question is decoded from its own answer's first id (a batch holds consecutive questions whose answers start alike).
     *
     * @param model    the trained model
     * @param test     the questions and answers
     * @param vocab    decodes ids into characters
     * @param reversed whether the questions were fed reversed (they are shown unreversed)
     * @param limit    how many questions, or {@code <= 0} for all
     * @param batch    questions per generate call
     * @param samples  how many samples to keep for display
     * @return the accuracy and samples
     * @throws IllegalArgumentException if batch is below 1, the test split holds no questions, the vocabulary is
     *         smaller than the model's, or the answers hold no id after the start id
     */
    public static Result evaluate(Seq2seqModel model, SequencePairs test, CharVocabulary vocab, boolean reversed,
                                  int limit, int batch, int samples) {
        return evaluate(model, test, vocab, reversed, limit, batch, samples, 0, Communicator.single());
    }

    /**
     * As above, answering by beam search with K = beam hypotheses per question (the best one counts), or by
     * greedy generate when beam is 0.
     *
     * @param model    the trained model
     * @param test     the questions and answers
     * @param vocab    decodes ids into characters
     * @param reversed whether the questions were fed reversed (they are shown unreversed)
     * @param limit    how many questions, or {@code <= 0} for all
     * @param batch    questions per generate call
     * @param samples  how many samples to keep for display
     * @param beam     K, hypotheses per question, or 0 for greedy
     * @return the accuracy and samples
     * @throws IllegalArgumentException if batch is below 1, beam is negative, the test split holds no questions, the
     *         vocabulary is smaller than the model's, or the answers hold no id after the start id
     */
    public static Result evaluate(Seq2seqModel model, SequencePairs test, CharVocabulary vocab, boolean reversed,
                                  int limit, int batch, int samples, int beam) {
        return evaluate(model, test, vocab, reversed, limit, batch, samples, beam, Communicator.single());
    }

    /**
     * {@link #evaluate(Seq2seqModel, SequencePairs, CharVocabulary, boolean, int, int, int, int)} split across the
     * ranks of {@code comm} (a collective: every rank calls it); every rank gets the total, the samples are rank 0's.
     *
     * @param model    the trained model, the same on every rank
     * @param test     the questions and answers, the same on every rank
     * @param vocab    decodes ids into characters
     * @param reversed whether the questions were fed reversed (they are shown unreversed)
     * @param limit    how many questions, or {@code <= 0} for all
     * @param batch    questions per generate call
     * @param samples  how many samples to keep for display
     * @param beam     K, hypotheses per question, or 0 for greedy
     * @param comm     the ranks that share the questions
     * @return the accuracy over all ranks' questions, and this rank's first samples (on rank 0, the first
     *         questions of the split)
     * @throws IllegalArgumentException if batch is below 1, beam is negative, the test split holds no questions, the
     *         vocabulary is smaller than the model's, the answers hold no id after the start id, or an answer holds an
     *         id outside the model's vocabulary
     * @throws org.seq4j.dist.ConfigurationMismatchException on every rank when the ranks' question counts, answer
     *         lengths, batches or beams differ
     * @throws NullPointerException if model, test, vocab or comm is null
     * @throws java.util.concurrent.CancellationException on every rank when a rank's thread was interrupted (that
     *         rank's names the step, as generate's), or, on the others, when a rank failed in its share (which throws
     *         its own exception): no rank is left waiting for one that stopped
     */
    public static Result evaluate(Seq2seqModel model, SequencePairs test, CharVocabulary vocab, boolean reversed,
                                  int limit, int batch, int samples, int beam, Communicator comm) {
        // named, before the collective (a bare "Cannot invoke SequencePairs.size()", "Communicator.agree" or
        // "Seq2seqModel.vocabSize()" from inside); every rank passes its own, so none waits for a rank that refused
        java.util.Objects.requireNonNull(model, "Seq2seqEval.evaluate: model is null");
        java.util.Objects.requireNonNull(test, "Seq2seqEval.evaluate: test is null; expected the questions and answers");
        java.util.Objects.requireNonNull(vocab, "Seq2seqEval.evaluate: vocab is null; expected the vocabulary the "
                + "model was trained with");
        java.util.Objects.requireNonNull(comm, "Seq2seqEval.evaluate: comm is null; expected Communicator.single() "
                + "for one process");
        int total = limit > 0 ? Math.min(limit, test.size()) : test.size();
        int length = test.answerLength() - 1;
        // ranks that split different question counts would sum overlapping or missing shares into a wrong total;
        // checked first, so that no rank refuses its batch or beam alone while the others wait for it
        comm.agree("evaluation (questions, answer length, batch, beam)", "questions " + total + ", answer length "
                + length + ", batch " + batch + ", beam " + beam);
        if (batch < 1) { // 0 never advanced the loop below: the evaluation never ended
            throw new IllegalArgumentException("Seq2seqEval.evaluate: questions per generate call (batch) must be >= 1, got "
                    + batch);
        }
        if (beam < 0) {
            throw new IllegalArgumentException("Seq2seqEval.evaluate: the beam width K must be >= 1 (or 0 for greedy), got "
                    + beam);
        }
        if (total == 0) { // 0 of 0 gave an accuracy of 0.0, which reads as a model that answered every question wrong
            throw new IllegalArgumentException("Seq2seqEval.evaluate: the test split holds no questions, so there is "
                    + "no accuracy to give");
        }
        if (vocab.size() < model.vocabSize()) { // an answer's id past the vocabulary failed only when shown as a sample
            throw new IllegalArgumentException("Seq2seqEval.evaluate: the vocabulary holds " + vocab.size()
                    + " characters, fewer than the model's V = " + model.vocabSize() + ": the ids from " + vocab.size()
                    + " on that the model may answer with have no character; expected the vocabulary it was trained with");
        }
        if (length < 1) { // the model's generate said only "needs length >= 1, got 0"
            throw new IllegalArgumentException("Seq2seqEval.evaluate: the answers hold " + test.answerLength() + " id(s): the start id and "
                    + "nothing after it; expected at least one id to generate after the start");
        }
        // rank r answers questions [r*total/R, (r+1)*total/R); with fewer questions than ranks, rank 0 answers all
        Shard share = total >= comm.size() ? Shard.of(total, comm.rank(), comm.size())
                : new Shard(0, comm.isRoot() ? total : 0, total);
        int correct = 0;
        List<Sample> shown = new ArrayList<>();
        Throwable failed = null;   // this rank's, told to the others in the sum below
        try {
            correct = answer(model, test, vocab, reversed, share, batch, samples, beam, length, shown);
        } catch (RuntimeException | Error e) {   // an Error too (OutOfMemoryError): the others would wait as well
            if (comm.size() == 1) {
                throw e;
            }
            failed = e;
        }
        if (comm.size() > 1) {
            // a rank that stopped alone (its thread interrupted: generate's CancellationException; a refusal) left the
            // others waiting in this sum until the MPI watchdog ended the job: the sum carries it, and every rank throws
            double[] sum = {correct, failed != null ? 1 : 0};
            comm.allReduceSum(sum);
            if (failed instanceof RuntimeException e) {
                throw e;
            } else if (failed != null) {
                throw (Error) failed;
            }
            if (sum[1] > 0) {
                throw new CancellationException("Seq2seqEval.evaluate: stopped on rank " + comm.rank() + " of "
                        + comm.size() + ": " + Math.round(sum[1]) + " other rank(s) stopped or failed in their share "
                        + "(each says why)");
            }
            correct = (int) sum[0];
        }
        return new Result(correct, total, shown);
    }

    /**
     * An answer id the model cannot give (outside [0, V)) was counted as a wrong answer without a word: the accuracy of a
     * test split encoded with another vocabulary, or of a corrupted one, read as the model's.
     */
    private static void requireAnswerIds(int[] truth, int question, int v) {
        for (int j = 0; j < truth.length; j++) {
            if (truth[j] < 0 || truth[j] >= v) {
                throw new IllegalArgumentException("Seq2seqEval.evaluate: answer " + question + " holds id " + truth[j]
                        + " at position " + (j + 1) + ", outside the model's vocabulary [0, " + v + "); expected the "
                        + "test split encoded with the vocabulary the model was trained with");
            }
        }
    }

    /** This rank's share: how many of its questions the model answers right; the first samples go into shown. */
    private static int answer(Seq2seqModel model, SequencePairs test, CharVocabulary vocab, boolean reversed,
                              Shard share, int batch, int samples, int beam, int length, List<Sample> shown) {
        int correct = 0;
        for (int from = share.from(), end = share.from() + share.rows(); from < end; ) {
            // a batch of answers that all start with the same id (each question decodes from its own answer's first
            // id, as the book's eval_seq2seq does: a batch that took the first row's for all decoded the others
            // from a wrong start when a data set's answers begin differently)
            int startId = test.t()[from][0];
            int to = from + 1;
            while (to < end && to - from < batch && test.t()[to][0] == startId) {   // from + batch may overflow
                to++;
            }
            int[][] questions = Arrays.copyOfRange(test.x(), from, to);
            int[][] guesses = beam == 0 ? model.generate(questions, startId, length)
                    : model.generate(questions, startId, length, beam);
            for (int i = 0; i < guesses.length; i++) {
                int[] truth = Arrays.copyOfRange(test.t()[from + i], 1, length + 1);
                requireAnswerIds(truth, from + i, model.vocabSize());
                boolean right = Arrays.equals(truth, guesses[i]);
                if (right) {
                    correct++;
                }
                if (shown.size() < samples) {
                    String q = vocab.decode(questions[i]);
                    shown.add(new Sample(reversed ? new StringBuilder(q).reverse().toString() : q,
                            vocab.decode(truth), vocab.decode(guesses[i])));
                }
            }
            from = to;
        }
        return correct;
    }
}
