// A language model over token ids: SimpleRnnlm, Rnnlm and BetterRnnlm, which a trainer (truncated BPTT)
// drives without knowing which.
//
// forward(xs, ts): xs (N, T) int32 word ids, ts (N, T) int32 the next word of each (label -1 is ignored).
// The recurrent layers are stateful: each forward continues from the previous one's last state, as the
// book's RnnlmTrainer expects; resetState() starts over (at the start of an epoch or an evaluation).
package org.seq4j.models;

/**
 * A language model over token ids (SimpleRnnlm, Rnnlm, BetterRnnlm). {@code forward(xs, ts)}: xs (N, T) int32
 * word ids, ts (N, T) int32 the next word of each (label -1 is ignored). The recurrent layers are stateful: each
 * forward continues from the previous one's last state; resetState() starts over.
 */
public interface LanguageModel extends Model {

    /** How generate picks the next word from the scores. */
    enum Sampling {
        /** The highest score (greedy). */
        ARGMAX,
        /** A draw from softmax(scores), as the book's RnnlmGen does. */
        SAMPLE
    }

    /**
     * The vocabulary size.
     *
     * @return V
     */
    int vocabSize();

    /** Forgets the carried recurrent state of the training path. */
    void resetState();

    /**
     * Continues N prompts at once: prompts[n] (all of one length {@code >= 1}) are fed word by word, then
     * {@code length} new words are generated, each from the scores after the previous one, and returned without the
     * prompt (the book's RnnlmGen.generate returns its start id and sample_size - 1 new words). Ids in
     * {@code skipIds} are never generated: ARGMAX takes the largest score of the other ids, SAMPLE draws from the
     * softmax renormalised over the other ids, and the state moves one step a word. (The book's skip_ids differ: a
     * skipped draw is drawn again after feeding the same word once more, which moves the recurrent state an extra
     * step.) Runs on a separate copy of the layers from a zero state, with dropout off, so the training state is
     * untouched.
     *
     * @param prompts  N prompts of ids in [0, V), all of one length {@code >= 1}
     * @param length   how many words to generate per prompt
     * @param sampling greedy or sampled
     * @param seed     the sampling's seed: prompt n draws from its own stream, a function of (seed, n), so its words
     *                 depend on its ids, the seed and n, never on the other prompts of the batch
     * @param skipIds  ids never generated
     * @return int[N][length], the new words only, prompts excluded
     * @throws IllegalArgumentException if the prompts are empty or differ in length, length is below 1, an id is
     *                                  outside [0, V), every id is skipped, N x length ids are more than one Java
     *                                  array holds, or the result is more than the Java heap has free (checked
     *                                  before any work)
     * @throws NullPointerException if sampling, prompts, a prompt or skipIds is null (the message says which)
     * @throws IllegalStateException if the scores hold NaN or +Infinity, or are -Infinity for every id not skipped:
     *                                  weights that are not finite
     * @throws java.util.concurrent.CancellationException (the models of this package) if the thread is interrupted,
     *                                  looked at once a step; its interrupt is kept and the model stays usable
     */
    int[][] generate(int[][] prompts, int length, Sampling sampling, long seed, int... skipIds);

    /**
     * Beam search continuation of N prompts (as generate): K = beam hypotheses per prompt, all N*K advancing in
     * one forward per step, for at most {@code length} words. A hypothesis that emits {@code endId} is finished
     * (-1: no end id, all run the full length); finished and full-length hypotheses are ranked by their summed
     * log-probability / length^lengthPenalty (0: no penalty). Ids in skipIds are never emitted. K = 1 without
     * an end id gives exactly generate's ARGMAX words. See Beam for the scores. The models of this package
     * implement it; other implementations of this interface may not.
     *
     * @param prompts       N prompts of one length, ids in [0, V)
     * @param length        at most this many words per hypothesis
     * @param beam          K, hypotheses kept per prompt (at least 1)
     * @param lengthPenalty alpha of score / length^alpha (0: none)
     * @param endId         the id that finishes a hypothesis, or -1
     * @param skipIds       ids never emitted
     * @return the K best continuations per prompt, with log-probabilities and scores
     * @throws IllegalArgumentException if an argument is out of range, the end id is also a skip id, length x N x K
     *                                  ids are more than one Java array holds, or K is more than the sequences there
     *                                  are to rank (with no end id (V - skipped)^length; K up to V minus the skipped
     *                                  ids always fits), or the search's arrays are more than the Java heap has free
     * @throws NullPointerException if prompts, a prompt or skipIds is null (the message says which)
     * @throws IllegalStateException (the models of this package) if the scores of a live hypothesis hold NaN or
     *                                  +Infinity, or are -Infinity for every id not skipped: the model's weights are
     *                                  not finite (the scores generate refuses)
     * @throws UnsupportedOperationException if this implementation has no beam search
     * @throws java.util.concurrent.CancellationException (the models of this package) if the thread is interrupted,
     *                                  looked at once a step; its interrupt is kept and the model stays usable
     */
    default Beam.Result beamSearch(int[][] prompts, int length, int beam, double lengthPenalty, int endId,
                                   int... skipIds) {
        throw new UnsupportedOperationException(getClass().getName() + " does not implement beam search");
    }

    /**
     * One sequence from a single start id.
     *
     * @param startId  the first id
     * @param length   how many words to generate
     * @param sampling greedy or sampled
     * @param seed     the sampling's seed (the stream of prompt 0 of generate(int[][], ...))
     * @param skipIds  ids never generated
     * @return length ids, the start excluded
     * @throws IllegalArgumentException if length is below 1, an id is outside [0, V), every id is skipped, or the
     *                                  result is more than the Java heap has free (as generate(int[][], ...))
     * @throws NullPointerException if sampling or skipIds is null (the message says which)
     * @throws IllegalStateException if the scores hold NaN or +Infinity, or are -Infinity for every id not skipped:
     *                                  weights that are not finite
     * @throws java.util.concurrent.CancellationException (the models of this package) if the thread is interrupted,
     *                                  looked at once a step; its interrupt is kept and the model stays usable
     */
    default int[] generate(int startId, int length, Sampling sampling, long seed, int... skipIds) {
        return generate(new int[][] {{startId}}, length, sampling, seed, skipIds)[0];
    }
}
