// Exact-match accuracy of greedy generation over a test split, in batches (Seq2seqModel.generate answers
// many questions at once), plus the first few (question, truth, guess) triples for display, decoded with
// the vocabulary; reversed questions are shown the way they were written.
package org.seq4j.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.seq4j.data.CharVocabulary;
import org.seq4j.data.SequencePairs;
import org.seq4j.models.Seq2seqModel;

/**
 * Exact-match accuracy of greedy generation over a test split, in batches, plus the first few
 * (question, truth, guess) triples for display.
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
         * @return correct / total, 0 for no questions
         */
        public double accuracy() {
            return total == 0 ? 0 : (double) correct / total;
        }
    }

    private Seq2seqEval() {
    }

    /**
     * Answers the first {@code limit} questions of {@code test} (all if {@code limit <= 0}), batch by batch. An
     * answer counts when every generated id equals the truth's, the start id excluded (the book's eval_seq2seq).
     *
     * @param model    the trained model
     * @param test     the questions and answers
     * @param vocab    decodes ids into characters
     * @param reversed whether the questions were fed reversed (they are shown unreversed)
     * @param limit    how many questions, or {@code <= 0} for all
     * @param batch    questions per generate call
     * @param samples  how many samples to keep for display
     * @return the accuracy and samples
     */
    public static Result evaluate(Seq2seqModel model, SequencePairs test, CharVocabulary vocab, boolean reversed,
                                  int limit, int batch, int samples) {
        int total = limit > 0 ? Math.min(limit, test.size()) : test.size();
        int length = test.answerLength() - 1;
        int correct = 0;
        List<Sample> shown = new ArrayList<>();
        for (int from = 0; from < total; from += batch) {
            int to = Math.min(total, from + batch);
            int[][] questions = Arrays.copyOfRange(test.x(), from, to);
            int startId = test.t()[from][0];
            int[][] guesses = model.generate(questions, startId, length);
            for (int i = 0; i < guesses.length; i++) {
                int[] truth = Arrays.copyOfRange(test.t()[from + i], 1, length + 1);
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
        }
        return new Result(correct, total, shown);
    }
}
