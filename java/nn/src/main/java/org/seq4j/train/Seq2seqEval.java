// Exact-match accuracy of greedy (or beam search) generation over a test split, in batches (Seq2seqModel.generate answers
// many questions at once), plus the first few (question, truth, guess) triples for display, decoded with
// the vocabulary; reversed questions are shown the way they were written. Data parallel: each rank answers
// a contiguous share of the questions and one all-reduce sums the counts (rank 0's share comes first, so its
// samples are the single process's).
package org.seq4j.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.seq4j.data.CharVocabulary;
import org.seq4j.data.SequencePairs;
import org.seq4j.dist.Communicator;
import org.seq4j.dist.Shard;
import org.seq4j.models.Seq2seqModel;

public final class Seq2seqEval {

    /** One answered question, as text. */
    public record Sample(String question, String truth, String guess) {
        public boolean correct() {
            return truth.equals(guess);
        }
    }

    /** correct of total questions right, and the first samples. */
    public record Result(int correct, int total, List<Sample> samples) {
        public double accuracy() {
            return total == 0 ? 0 : (double) correct / total;
        }
    }

    private Seq2seqEval() {
    }

    /**
     * Answers the first {@code limit} questions of {@code test} (all if limit <= 0), batch by batch. An answer
     * counts when every generated id equals the truth's, the start id excluded (the book's eval_seq2seq).
     */
    public static Result evaluate(Seq2seqModel model, SequencePairs test, CharVocabulary vocab, boolean reversed,
                                  int limit, int batch, int samples) {
        return evaluate(model, test, vocab, reversed, limit, batch, samples, 0, Communicator.single());
    }

    /**
     * As above, answering by beam search with K = beam hypotheses per question (the best one counts), or by
     * greedy generate when beam is 0.
     */
    public static Result evaluate(Seq2seqModel model, SequencePairs test, CharVocabulary vocab, boolean reversed,
                                  int limit, int batch, int samples, int beam) {
        return evaluate(model, test, vocab, reversed, limit, batch, samples, beam, Communicator.single());
    }

    /**
     * {@link #evaluate(Seq2seqModel, SequencePairs, CharVocabulary, boolean, int, int, int, int)} split across the
     * ranks of {@code comm} (a collective: every rank calls it); every rank gets the total, the samples are rank 0's.
     */
    public static Result evaluate(Seq2seqModel model, SequencePairs test, CharVocabulary vocab, boolean reversed,
                                  int limit, int batch, int samples, int beam, Communicator comm) {
        if (beam < 0) {
            throw new IllegalArgumentException("the beam width K must be >= 1 (or 0 for greedy), got " + beam);
        }
        int total = limit > 0 ? Math.min(limit, test.size()) : test.size();
        int length = test.answerLength() - 1;
        // rank r answers questions [r*total/R, (r+1)*total/R); with fewer questions than ranks, rank 0 answers all
        Shard share = total >= comm.size() ? Shard.of(total, comm.rank(), comm.size())
                : new Shard(0, comm.isRoot() ? total : 0, total);
        int correct = 0;
        List<Sample> shown = new ArrayList<>();
        for (int from = share.from(); from < share.from() + share.rows(); from += batch) {
            int to = Math.min(share.from() + share.rows(), from + batch);
            int[][] questions = Arrays.copyOfRange(test.x(), from, to);
            int startId = test.t()[from][0];
            int[][] guesses = beam == 0 ? model.generate(questions, startId, length)
                    : model.generate(questions, startId, length, beam);
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
        if (comm.size() > 1) {
            double[] sum = {correct};
            comm.allReduceSum(sum);
            correct = (int) sum[0];
        }
        return new Result(correct, total, shown);
    }
}
